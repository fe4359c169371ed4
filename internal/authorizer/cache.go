package authorizer

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/maypok86/otter/v2"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/net/http/httpguts"
	"golang.org/x/sync/singleflight"

	"github.com/edgeward/edgeward/internal/promreg"
	"github.com/edgeward/edgeward/internal/sideband"
	"github.com/edgeward/edgeward/internal/size"
)

// Decision cache defaults and bounds.
const (
	DefaultCacheAllowTTL  = 30 * time.Second
	DefaultCacheDenyTTL   = 5 * time.Second
	MaxCacheTTL           = time.Hour
	DefaultCacheMaxBytes  = 16 * size.MiB
	MaxCacheMaxBytes      = 4 * size.GiB
	minCacheEntryOverhead = 256 // key, entry and otter node, roughly
)

// CacheConfig is decision_cache: under a function: decisions kept at the
// edge, so that a request the service already decided on is not sent
// again. Off by default. Every input the service sees is in the key (see
// keyOf); errors and missing decisions are never kept.
type CacheConfig struct {
	// Enabled turns the cache on.
	Enabled Flag `yaml:"enabled"`
	// AllowTTL is how long an allow is kept (DefaultCacheAllowTTL when
	// absent; 0s keeps no allow).
	AllowTTL *time.Duration `yaml:"allow_ttl"`
	// DenyTTL is how long a deny is kept (DefaultCacheDenyTTL when absent;
	// 0s keeps no deny).
	DenyTTL *time.Duration `yaml:"deny_ttl"`
	// MaxBytes bounds the memory of the kept decisions (approximate).
	MaxBytes size.Bytes `yaml:"max_bytes"`
	// Coalesce makes identical decisions in flight wait for one call
	// (default true).
	Coalesce *Flag `yaml:"coalesce"`
	// IgnoreHeaders are headers left out of the key, for values that
	// change with every request and that no policy reads (traceparent,
	// a client's own request id). They are still sent on a miss, and a
	// cached allow passes the current request's values on. The edge's
	// X-Request-Id is always left out.
	IgnoreHeaders []string `yaml:"ignore_headers"`
}

// alwaysVolatile are the headers never in a key: the edge's request id
// (an edge-owned header, never the viewer's).
var alwaysVolatile = []string{"x-request-id"}

func (c *CacheConfig) defaults() {
	if !c.Enabled {
		return
	}
	if c.AllowTTL == nil {
		d := DefaultCacheAllowTTL
		c.AllowTTL = &d
	}
	if c.DenyTTL == nil {
		d := DefaultCacheDenyTTL
		c.DenyTTL = &d
	}
	if c.MaxBytes == 0 {
		c.MaxBytes = DefaultCacheMaxBytes
	}
	if c.Coalesce == nil {
		t := Flag(true)
		c.Coalesce = &t
	}
}

func (c *CacheConfig) validate(cfg *Config, add func(path, format string, args ...any)) {
	if !c.Enabled {
		return
	}
	for _, f := range []struct {
		key string
		d   *time.Duration
	}{{"decision_cache.allow_ttl", c.AllowTTL}, {"decision_cache.deny_ttl", c.DenyTTL}} {
		if f.d != nil && (*f.d < 0 || *f.d > MaxCacheTTL) {
			add(f.key, "want 0s to %s, got %s", MaxCacheTTL, *f.d)
		}
	}
	if c.MaxBytes <= 0 || c.MaxBytes > MaxCacheMaxBytes {
		add("decision_cache.max_bytes", "want more than 0 and at most %s", MaxCacheMaxBytes)
	}
	if cfg.ResponsePhase {
		add("decision_cache.enabled", "cannot be used with response_phase: true (the state of a decision belongs to one request)")
	}
	for i, h := range c.IgnoreHeaders {
		switch lh := strings.ToLower(h); {
		case !httpguts.ValidHeaderFieldName(h):
			add(fmt.Sprintf("decision_cache.ignore_headers[%d]", i), "invalid header name %q", h)
		case lh == "host" || lh == "authorization" || lh == "cookie" || lh == strings.ToLower(cfg.SecretHeaderName):
			add(fmt.Sprintf("decision_cache.ignore_headers[%d]", i), "%s identifies the caller or the resource and must stay in the key", h)
		}
	}
}

// decisionCache holds one function's decisions (allows and denies, with
// their replies exactly as the service sent them) and the calls in flight.
type decisionCache struct {
	c        *otter.Cache[cacheKey, *cached]
	flights  singleflight.Group
	coalesce bool
	seed     []byte
	volatile []string // lower-case header names left out of the key
	allowTTL time.Duration
	denyTTL  time.Duration
	now      func() time.Time
	m        cacheMetrics
}

// cached is one kept decision.
type cached struct {
	reply  *sideband.Reply // read only: every hit applies it afresh
	ttl    time.Duration
	weight uint32
	// passOn is set when the allow left every volatile header as it was
	// sent: a hit then gives them the current request's values.
	passOn bool
}

func newDecisionCache(cfg Config, seed []byte, now func() time.Time, reg prometheus.Registerer, function string) (*decisionCache, error) {
	dc := &decisionCache{
		coalesce: bool(*cfg.DecisionCache.Coalesce),
		seed:     seed,
		volatile: append([]string(nil), alwaysVolatile...),
		allowTTL: *cfg.DecisionCache.AllowTTL,
		denyTTL:  *cfg.DecisionCache.DenyTTL,
		now:      now,
		m:        newCacheMetrics(reg, function),
	}
	for _, h := range cfg.DecisionCache.IgnoreHeaders {
		dc.volatile = append(dc.volatile, strings.ToLower(h))
	}
	o := &otter.Options[cacheKey, *cached]{
		MaximumWeight:    uint64(cfg.DecisionCache.MaxBytes),
		Weigher:          func(_ cacheKey, v *cached) uint32 { return v.weight },
		ExpiryCalculator: otter.ExpiryWritingFunc(func(e otter.Entry[cacheKey, *cached]) time.Duration { return e.Value.ttl }),
		OnDeletion: func(e otter.DeletionEvent[cacheKey, *cached]) {
			if e.Cause == otter.CauseOverflow {
				dc.m.evictions.Inc()
			}
		},
	}
	if now != nil {
		o.Clock = otterClock{now}
	} else {
		dc.now = time.Now
	}
	c, err := otter.New(o)
	if err != nil {
		return nil, fmt.Errorf("decision_cache: %w", err)
	}
	dc.c = c
	return dc, nil
}

type otterClock struct{ now func() time.Time }

func (c otterClock) NowNano() int64                      { return c.now().UnixNano() }
func (c otterClock) Tick(time.Duration) <-chan time.Time { return nil }

// get returns the kept decision for key, as it applies to sreq.
func (dc *decisionCache) get(key cacheKey, sreq *sideband.Request) (*sideband.Reply, bool) {
	v, ok := dc.c.GetIfPresent(key)
	if !ok {
		dc.m.misses.Inc()
		return nil, false
	}
	dc.m.hits.Inc()
	if !v.passOn {
		return v.reply, true
	}
	return dc.replay(v.reply, sreq), true
}

// replay is a kept allow as it applies to sreq: the volatile headers
// (not in the key) take sreq's values, so that the diff apply makes
// leaves them alone, as the allow did for the request it was made for.
func (dc *decisionCache) replay(rep *sideband.Reply, sreq *sideband.Request) *sideband.Reply {
	out := *rep
	out.Headers = make(sideband.Headers, 0, len(rep.Headers)+1)
	for _, h := range rep.Headers {
		if !isVolatile(dc.volatile, h.Name) {
			out.Headers = append(out.Headers, h)
		}
	}
	for _, h := range sreq.Headers {
		if isVolatile(dc.volatile, h.Name) {
			out.Headers = append(out.Headers, h)
		}
	}
	return &out
}

// store keeps rep, a decision on sreq that was applied (an allow) or
// answered (a deny), for as long as its TTL, the service's Cache-Control
// and the bearer token's exp all allow.
func (dc *decisionCache) store(key cacheKey, sreq *sideband.Request, rep *sideband.Reply) {
	ttl := dc.ttl(sreq, rep)
	if ttl <= 0 {
		dc.m.uncacheable.Inc()
		return
	}
	c := &cached{reply: rep, ttl: ttl, weight: weigh(rep)}
	if rep.Response == nil {
		c.passOn = true
		for _, name := range dc.volatile {
			if !sameEntries(sreq.Headers, rep.Headers, name) {
				c.passOn = false // the allow set one: replay it as it is
			}
		}
	}
	dc.c.Set(key, c)
}

// sameEntries reports whether a and b hold the same values for name, in
// order (none in both counts as the same).
func sameEntries(a, b sideband.Headers, name string) bool {
	i, j := 0, 0
	for {
		for i < len(a) && a[i].Name != name {
			i++
		}
		for j < len(b) && !strings.EqualFold(b[j].Name, name) {
			j++
		}
		if i == len(a) || j == len(b) {
			return i == len(a) && j == len(b)
		}
		if a[i].Value != b[j].Value {
			return false
		}
		i++
		j++
	}
}

// ttl is the lifetime of rep: the allow or deny TTL, shortened by the
// service's max-age (s-maxage first: the edge is a shared cache of
// decisions), zero with no-store or no-cache, and never past the
// bearer token's exp.
func (dc *decisionCache) ttl(sreq *sideband.Request, rep *sideband.Reply) time.Duration {
	ttl := dc.allowTTL
	if rep.Response != nil {
		ttl = dc.denyTTL
	}
	if rep.CacheControl != "" {
		if noStore, maxAge, ok := cacheControl(rep.CacheControl); noStore {
			return 0
		} else if ok {
			ttl = min(ttl, maxAge)
		}
	}
	if exp, ok := tokenExpiry(sreq.Headers); ok {
		ttl = min(ttl, exp.Sub(dc.now()))
	}
	return ttl
}

// cacheControl reads the directives of a Cache-Control value that bound
// how long a decision may be kept (RFC 9111 section 5.2.2): no-store and
// no-cache (not kept), s-maxage, then max-age. A malformed max-age is
// treated as no-store, as RFC 9111 section 4.2.1 asks of a stale value.
func cacheControl(v string) (noStore bool, maxAge time.Duration, ok bool) {
	var sMax, max = -1, -1
	for d := range strings.SplitSeq(v, ",") {
		name, arg, _ := strings.Cut(strings.TrimSpace(d), "=")
		arg = strings.Trim(strings.TrimSpace(arg), `"`)
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "no-store", "no-cache":
			return true, 0, false
		case "s-maxage", "max-age":
			n, err := strconv.Atoi(arg)
			if err != nil || n < 0 {
				return true, 0, false
			}
			if strings.EqualFold(strings.TrimSpace(name), "s-maxage") {
				sMax = n
			} else {
				max = n
			}
		}
	}
	switch {
	case sMax >= 0:
		return false, time.Duration(sMax) * time.Second, true
	case max >= 0:
		return false, time.Duration(max) * time.Second, true
	}
	return false, 0, false
}

// weigh approximates the memory rep holds, in bytes.
func weigh(rep *sideband.Reply) uint32 {
	n := minCacheEntryOverhead + len(rep.Method) + len(rep.URL) + len(rep.SourceIP) + len(rep.HTTPVersion) +
		len(rep.State) + len(rep.ClientCertificate) + len(rep.CacheControl)
	n += weighHeaders(rep.Headers)
	if rep.Body != nil {
		n += len(*rep.Body)
	}
	if r := rep.Response; r != nil {
		n += 64 + len(r.ResponseStatus) + weighHeaders(r.Headers)
		if r.Body != nil {
			n += len(*r.Body)
		}
	}
	return uint32(min(n, 1<<31))
}

func weighHeaders(hs sideband.Headers) int {
	n := 0
	for _, h := range hs {
		n += 32 + len(h.Name) + len(h.Value)
	}
	return n
}

// panicked carries a panic of a coalesced call to each caller, which
// panics again in its own goroutine (where recoverPanic makes it a 500).
type panicked struct{ v any }

func (p *panicked) Error() string { return fmt.Sprintf("panic: %v", p.v) }

// coalesced decides sreq (key) through one call shared with every
// identical decision in flight. The call runs detached from the caller
// that started it, bounded by the function's timeout: a caller that leaves
// (its viewer went away, or its own deadline passed) cancels nobody else's
// decision. Each caller waits at most until its own budget ends.
func (a *Authorizer) coalesced(ctx context.Context, key cacheKey, sreq *sideband.Request) (*sideband.Reply, error) {
	dc := a.cache
	if !dc.coalesce {
		return a.decideRequest(ctx, sreq)
	}
	ran := false
	ch := dc.flights.DoChan(string(key[:]), func() (v any, err error) {
		ran = true
		defer func() {
			if p := recover(); p != nil {
				v, err = nil, &panicked{p}
			}
		}()
		return a.decideRequest(context.WithoutCancel(ctx), sreq)
	})
	wait := newBudget(ctx, a.cfg.Timeout)
	defer wait.stop()
	select {
	case res := <-ch:
		if !ran {
			dc.m.coalesced.Inc()
		}
		if p, ok := res.Err.(*panicked); ok {
			panic(p.v)
		}
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.(*sideband.Reply), nil
	case <-wait.Done():
		return nil, fmt.Errorf("waiting for a decision in flight: %w", wait.Err())
	}
}

// Flush drops every decision the function keeps. It is what the admin
// endpoint calls, and what a fleet-wide flush calls on each node. A
// function without a decision cache has nothing to flush.
func (a *Authorizer) Flush() {
	if a.cache != nil {
		a.cache.c.InvalidateAll()
		a.cache.m.flushes.Inc()
	}
}

// CacheEnabled reports whether the function keeps decisions.
func (a *Authorizer) CacheEnabled() bool { return a.cache != nil }

// cacheMetrics are the decision cache's collectors.
type cacheMetrics struct {
	hits, misses, evictions, coalesced, uncacheable, flushes prometheus.Counter
}

func newCacheMetrics(reg prometheus.Registerer, function string) cacheMetrics {
	counter := func(name, help string) prometheus.Counter {
		return promreg.Reuse(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "edgeward", Subsystem: "authorize_cache", Name: name, Help: help,
		}, []string{"function"})).WithLabelValues(function)
	}
	return cacheMetrics{
		hits:        counter("hits_total", "Decisions answered from the decision cache."),
		misses:      counter("misses_total", "Decisions not in the decision cache (a call, or a wait on one in flight)."),
		evictions:   counter("evictions_total", "Decisions dropped from the decision cache to stay within max_bytes."),
		coalesced:   counter("coalesced_total", "Decisions that waited for an identical call in flight instead of making their own."),
		uncacheable: counter("uncacheable_total", "Decisions not kept: no-store, max-age=0, a TTL of 0 or an expired token."),
		flushes:     counter("flushes_total", "Flushes of the decision cache (admin endpoint, fleet)."),
	}
}
