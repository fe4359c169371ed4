package authorizer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sony/gobreaker/v2"

	"github.com/edgeward/edgeward/internal/edge"
	"github.com/edgeward/edgeward/internal/sideband"
)

// Retry-After handling: a 429 without a usable Retry-After stops calls for
// defaultRetryAfter; a very long one is capped so that a service cannot
// take an edge off the air for hours.
const (
	defaultRetryAfter = time.Second
	maxRetryAfter     = 5 * time.Minute
)

// Backoff between attempts: full jitter over an exponential ceiling,
// starting at backoffBase and never above backoffMax.
const (
	backoffBase = 25 * time.Millisecond
	backoffMax  = 250 * time.Millisecond
)

// Options are an Authorizer's dependencies.
type Options struct {
	// Logger receives debug attempt logs, fail-open warnings and breaker
	// changes (nil: discarded).
	Logger *slog.Logger
	// Registerer registers the function's metrics (nil: none).
	Registerer prometheus.Registerer
	// Clock tells the time for the 429 short-circuit window (nil:
	// time.Now). Tests inject one.
	Clock func() time.Time
}

// Authorizer is one configured authorize function. It is safe for
// concurrent use.
type Authorizer struct {
	name       string
	cfg        Config
	d          Decider
	log        *slog.Logger
	clock      func() time.Time
	m          *metrics
	br         *gobreaker.CircuitBreaker[struct{}]
	credHeader string // canonical form
	credential string
	endpoint   string // for logs
	retries    int
	maxBody    int64
	types      []string // lower-case media types; "text/*" ranges allowed
	failOpen   bool
	debug      bool

	keys keyTable

	// cache keeps decisions (nil: decision_cache off).
	cache *decisionCache

	// limitedUntil is the end of the current 429 window (UnixNano, 0:
	// none).
	limitedUntil atomic.Int64
}

// New returns the function name configured by cfg (Defaults are applied
// and Validate must pass), deciding through d: a *sideband.Client from
// NewDecider for a remote service_url, or the embedded decision service.
func New(name string, cfg Config, d Decider, opts Options) (*Authorizer, error) {
	cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if d == nil {
		return nil, errors.New("service_url: no decision service to call")
	}
	a := &Authorizer{
		name:       name,
		cfg:        cfg,
		d:          d,
		log:        opts.Logger,
		clock:      opts.Clock,
		m:          newMetrics(opts.Registerer, name),
		credHeader: http.CanonicalHeaderKey(cfg.SecretHeaderName),
		credential: cfg.SecretHeaderValue,
		endpoint:   Embedded,
		retries:    *cfg.MaxRetries,
		maxBody:    int64(cfg.IncludeBody.MaxBytes),
		failOpen:   cfg.OnError == OnErrorAllow,
		debug:      bool(cfg.Debug),
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.clock == nil {
		a.clock = time.Now
	}
	if cfg.Remote() {
		a.endpoint = strings.TrimRight(cfg.ServiceURL[0], "/")
	}
	if cfg.DecisionCache.Enabled {
		urls := []string(cfg.ServiceURL)
		if !cfg.Remote() {
			urls = []string{Embedded}
		}
		seed := keySeed(urls, cfg.SecretHeaderName, cfg.SecretHeaderValue)
		var err error
		if a.cache, err = newDecisionCache(cfg, seed, opts.Clock, opts.Registerer, name); err != nil {
			return nil, err
		}
	}
	for _, t := range cfg.IncludeBody.ContentTypes {
		a.types = append(a.types, strings.ToLower(strings.TrimSpace(t)))
	}
	a.br = gobreaker.NewCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        name,
		MaxRequests: 1,
		Timeout:     cfg.Breaker.OpenFor,
		ReadyToTrip: func(c gobreaker.Counts) bool {
			return c.ConsecutiveFailures >= uint32(cfg.Breaker.Failures)
		},
		IsSuccessful: func(err error) bool { return !serviceFault(err) },
		// A viewer that went away says nothing about the service.
		IsExcluded: func(err error) bool { return errors.Is(err, context.Canceled) },
		OnStateChange: func(_ string, from, to gobreaker.State) {
			if to == gobreaker.StateClosed {
				a.m.breaker.Set(0)
			} else {
				a.m.breaker.Set(1)
			}
			a.log.LogAttrs(context.Background(), slog.LevelWarn, "authorize: circuit breaker changed state",
				slog.String("function", a.name), slog.String("from", from.String()), slog.String("to", to.String()))
		},
	})
	return a, nil
}

// Name returns the function's name.
func (a *Authorizer) Name() string { return a.name }

// ViewerRequest asks the decision service about r. An allow returns (nil,
// nil) after applying the decision's changes to r.HTTP; a deny returns the
// service's response; no decision returns an *edge.Error (502, or 413/429
// relayed from the service), unless on_error is allow.
func (a *Authorizer) ViewerRequest(ctx context.Context, r *edge.Request) (resp *edge.Response, err error) {
	defer a.recoverPanic(phaseRequest, &resp, &err)
	// The credential never reaches the service's view of the request or
	// the origin, whatever the edge stripped before.
	r.HTTP.Header.Del(a.credHeader)

	sreq, err := a.buildRequest(r)
	if err != nil {
		a.m.decisions[phaseRequest][resultError].Inc()
		return nil, err
	}

	// A kept decision calls nobody: it is served inside a 429 window too.
	var key cacheKey
	var reply *sideband.Reply
	hit := false
	if a.cache != nil {
		key = keyOf(a.cache.seed, sreq, a.cache.volatile)
		reply, hit = a.cache.get(key, sreq)
		if hit && a.debug && a.log.Enabled(ctx, slog.LevelDebug) {
			a.log.LogAttrs(ctx, slog.LevelDebug, "authorize: decision from the decision cache",
				slog.String("function", a.name), slog.String("request_id", r.ID),
				slog.String("method", sreq.Method), slog.String("url", redactURL(sreq.URL)),
				slog.Bool("deny", reply.Response != nil))
		}
	}
	if !hit {
		if wait := a.limitedFor(); wait > 0 {
			a.m.limited.Inc()
			return a.noDecision(ctx, r, phaseRequest, &rateLimitedError{wait: wait})
		}
		start := time.Now()
		if a.cache != nil {
			reply, err = a.coalesced(ctx, key, sreq)
		} else {
			reply, err = a.decideRequest(ctx, sreq)
		}
		elapsed := time.Since(start)
		r.DecisionTime += elapsed
		a.m.latency[phaseRequest].Observe(elapsed.Seconds())
		if err != nil {
			return a.noDecision(ctx, r, phaseRequest, err)
		}
	}
	if reply.Response != nil {
		if !validStatus(reply.Response.ResponseCode) {
			return a.noDecision(ctx, r, phaseRequest, fmt.Errorf("%w: deny with status %d", errBadDecision, reply.Response.ResponseCode))
		}
		a.m.decisions[phaseRequest][resultDeny].Inc()
		if a.cache != nil && !hit {
			a.cache.store(key, sreq, reply)
		}
		return denyResponse(reply.Response), nil
	}
	if err := a.apply(ctx, r, sreq, reply); err != nil {
		return a.noDecision(ctx, r, phaseRequest, err)
	}
	a.m.decisions[phaseRequest][resultAllow].Inc()
	if a.cache != nil && !hit {
		a.cache.store(key, sreq, reply)
	}
	if a.cfg.ResponsePhase {
		r.State = &exchange{state: reply.State, request: sreq}
		// The service is to see the origin's body as text (SIDEBAND.md).
		r.HTTP.Header.Set("Accept-Encoding", "identity")
	}
	return nil, nil
}

// exchange is what the request phase keeps in edge.Request.State for the
// response phase.
type exchange struct {
	// state is the allow's state, byte for byte.
	state json.RawMessage
	// request is the request-phase body, sent instead of an absent state.
	request *sideband.Request
	// failedOpen marks a request forwarded without a decision.
	failedOpen bool
}

// decideRequest makes the request-phase call: breaker, retries, timeout.
func (a *Authorizer) decideRequest(ctx context.Context, sreq *sideband.Request) (*sideband.Reply, error) {
	bctx := newBudget(ctx, a.cfg.Timeout)
	defer bctx.stop()
	ctx = bctx
	if len(a.cfg.ServiceURL) > 1 {
		ctx = sideband.WithFailover(ctx)
	}
	var reply *sideband.Reply
	info := callInfo{method: sreq.Method, url: sreq.URL, headers: sreq.Headers}
	err := a.guarded(ctx, phaseRequest, info, func(ctx context.Context) (string, error) {
		rep, err := a.d.Request(ctx, sreq)
		if err != nil {
			return "", err
		}
		if rep == nil {
			return "", fmt.Errorf("%w: no reply", sideband.ErrMalformedReply)
		}
		reply = rep
		if rep.Response != nil {
			return resultDeny, nil
		}
		return resultAllow, nil
	})
	return reply, err
}

// guarded runs call through the breaker with retries, and opens the 429
// window when the service asks for one.
func (a *Authorizer) guarded(ctx context.Context, phase string, info callInfo, call func(context.Context) (string, error)) error {
	_, err := a.br.Execute(func() (struct{}, error) {
		return struct{}{}, a.withRetries(ctx, phase, info, call)
	})
	var se *sideband.StatusError
	if errors.As(err, &se) && se.Status == http.StatusTooManyRequests {
		a.limit(se.RetryAfter)
	}
	return err
}

// withRetries makes the first attempt and up to max_retries more, only
// after a transport error or a 5xx, with jittered backoff, while the
// context (the whole timeout) lasts.
func (a *Authorizer) withRetries(ctx context.Context, phase string, info callInfo, call func(context.Context) (string, error)) error {
	for attempt := 0; ; attempt++ {
		start := time.Now()
		decision, err := call(ctx)
		a.m.attempts[phase].Inc()
		if a.debug {
			a.logAttempt(ctx, phase, attempt, time.Since(start), decision, err, info)
		}
		if err == nil || attempt >= a.retries || !retryable(err) || ctx.Err() != nil {
			return err
		}
		wait := backoff(attempt)
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= wait {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		a.m.retries[phase].Inc()
	}
}

func backoff(attempt int) time.Duration {
	ceil := backoffBase << min(attempt, 4)
	ceil = min(ceil, backoffMax)
	return ceil/2 + rand.N(ceil/2+1)
}

// retryable: transport errors and 5xx, never a 2xx or 4xx answer.
func retryable(err error) bool {
	if errors.Is(err, sideband.ErrTransport) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var se *sideband.StatusError
	return errors.As(err, &se) && se.Status >= 500
}

// serviceFault reports whether err counts against the service in the
// breaker: no answer, a broken answer, or a 5xx. A 4xx is an answer.
func serviceFault(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var se *sideband.StatusError
	if errors.As(err, &se) {
		return se.Status >= 500
	}
	return true
}

// limitedFor returns how long the current 429 window still lasts.
func (a *Authorizer) limitedFor() time.Duration {
	until := a.limitedUntil.Load()
	if until == 0 {
		return 0
	}
	return time.Unix(0, until).Sub(a.clock())
}

func (a *Authorizer) limit(d time.Duration) {
	if d <= 0 {
		d = defaultRetryAfter
	}
	d = min(d, maxRetryAfter)
	a.limitedUntil.Store(a.clock().Add(d).UnixNano())
}

// rateLimitedError is a request not sent because the service asked for a
// pause.
type rateLimitedError struct{ wait time.Duration }

func (e *rateLimitedError) Error() string {
	return fmt.Sprintf("sideband service rate limit: not calling it for another %s", e.wait.Round(time.Millisecond))
}

// errBadDecision marks an allow that cannot be applied.
var errBadDecision = errors.New("allow cannot be applied")

// noDecision turns err into the viewer's answer: an *edge.Error (502;
// 413 and 429 relayed), or, with on_error: allow, the request goes on and
// a warning is logged.
func (a *Authorizer) noDecision(ctx context.Context, r *edge.Request, phase string, err error) (*edge.Response, error) {
	a.m.decisions[phase][resultError].Inc()
	err = redactError(err, a.credential)
	if a.failOpen {
		a.m.failOpen.Inc()
		a.warnFailOpen(ctx, r, phase, err)
		if a.cfg.ResponsePhase && phase == phaseRequest {
			r.State = &exchange{failedOpen: true}
		}
		return nil, nil
	}
	return nil, a.edgeError(err)
}

// warnFailOpen logs, every time, that a request goes on without a
// decision.
func (a *Authorizer) warnFailOpen(ctx context.Context, r *edge.Request, phase string, err error) {
	a.log.LogAttrs(ctx, slog.LevelWarn, "authorize: NO DECISION, request forwarded because on_error is allow",
		slog.String("function", a.name), slog.String("phase", phase),
		slog.String("request_id", r.ID), slog.String("error", err.Error()))
}

func (a *Authorizer) edgeError(err error) *edge.Error {
	var se *sideband.StatusError
	var rl *rateLimitedError
	switch {
	case errors.As(err, &rl):
		return tooMany(rl.wait, err)
	case errors.As(err, &se) && se.Status == http.StatusRequestEntityTooLarge:
		return &edge.Error{Status: http.StatusRequestEntityTooLarge, Msg: "request too large to authorize", Err: err}
	case errors.As(err, &se) && se.Status == http.StatusTooManyRequests:
		return tooMany(a.limitedFor(), err)
	}
	return &edge.Error{Status: http.StatusBadGateway, Msg: "no authorization decision", Err: err}
}

func tooMany(wait time.Duration, err error) *edge.Error {
	secs := int64((wait + time.Second - 1) / time.Second)
	return &edge.Error{
		Status: http.StatusTooManyRequests,
		Msg:    "too many requests",
		Header: http.Header{"Retry-After": {strconv.FormatInt(max(secs, 1), 10)}},
		Err:    err,
	}
}

// recoverPanic turns a panic in the function into a 500: a bug never lets
// a request through, whatever on_error says.
func (a *Authorizer) recoverPanic(phase string, resp **edge.Response, err *error) {
	p := recover()
	if p == nil {
		return
	}
	if p == http.ErrAbortHandler {
		panic(p)
	}
	a.m.decisions[phase][resultError].Inc()
	*resp = nil
	*err = &edge.Error{
		Status: http.StatusInternalServerError,
		Msg:    "internal error",
		Err:    redactError(fmt.Errorf("authorize %q: panic: %v\n%s", a.name, p, debug.Stack()), a.credential),
	}
}

// Compile-time guards.
var (
	_ edge.Function         = (*Authorizer)(nil)
	_ edge.ResponseFunction = (*Authorizer)(nil)
)
