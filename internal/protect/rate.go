package protect

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/maypok86/otter/v2"
	"golang.org/x/time/rate"
)

// Counter is a fleet-wide rate counter: Allow counts one request for key
// and reports whether it is within limit requests per window, and if not,
// how long until one would be. An error means no answer: the rule falls
// back to the node's own limiter for that request.
type Counter interface {
	Allow(ctx context.Context, key string, limit int, window time.Duration) (allowed bool, retryAfter time.Duration, err error)
}

// rateRule is a compiled rate-based rule with its node-local limiters.
type rateRule struct {
	name     string
	action   string
	limit    int
	window   time.Duration
	key      []keyPart
	identity bool // a key part is the identity: runs after the function
	scope    *match
	local    *otter.Cache[string, *rate.Limiter]
}

// keyPart is one part of a rate rule's key.
type keyPart struct {
	kind   string // ip, identity, header
	header string // canonical header name, for header parts
}

func newRateRule(set string, cfg RateRuleConfig, scope *match, identityHeader string) (*rateRule, error) {
	r := &rateRule{name: cfg.Name, action: cfg.Action, limit: cfg.Limit, window: cfg.Window, scope: scope}
	for _, k := range cfg.Key {
		switch {
		case k == KeyIP:
			r.key = append(r.key, keyPart{kind: KeyIP})
		case k == KeyIdentity:
			r.key = append(r.key, keyPart{kind: KeyIdentity, header: identityHeader})
			r.identity = true
		default:
			name, _ := strings.CutPrefix(k, keyHeader)
			r.key = append(r.key, keyPart{kind: "header", header: http.CanonicalHeaderKey(name)})
		}
	}
	c, err := otter.New(&otter.Options[string, *rate.Limiter]{
		MaximumSize: cfg.MaxKeys,
		// A bucket left alone for a window is full again: forgetting it
		// loses nothing.
		ExpiryCalculator: otter.ExpiryAccessing[string, *rate.Limiter](cfg.Window),
	})
	if err != nil {
		return nil, err
	}
	r.local = c
	return r, nil
}

// keyOf builds the rule's key for v, prefixed with the set and rule so that
// one fleet counter store serves every rule. ok is false when a part is
// missing: the request is not counted (as in AWS WAF).
func (r *rateRule) keyOf(set string, v *view, identity string) (string, bool) {
	var b strings.Builder
	b.WriteString(set)
	b.WriteByte('/')
	b.WriteString(r.name)
	for _, p := range r.key {
		b.WriteByte('|')
		switch p.kind {
		case KeyIP:
			if !v.ip.IsValid() {
				return "", false
			}
			b.WriteString(v.ip.String())
		case KeyIdentity:
			if identity == "" {
				return "", false
			}
			b.WriteString(identity)
		default:
			hv := v.header[p.header]
			if len(hv) == 0 || hv[0] == "" {
				return "", false
			}
			b.WriteString(strings.Join(hv, ","))
		}
	}
	return b.String(), true
}

// allow counts a request for key: fleet-wide when counter is set and
// answers, else on this node.
func (r *rateRule) allow(ctx context.Context, counter Counter, key string, now time.Time) (bool, time.Duration, bool) {
	if counter != nil {
		ok, retry, err := counter.Allow(ctx, key, r.limit, r.window)
		if err == nil {
			return ok, retry, false
		}
	}
	ok, retry := r.allowLocal(key, now)
	return ok, retry, counter != nil
}

// allowLocal is a token bucket of limit tokens refilled over window:
// limit requests in any window, and one more every window/limit.
func (r *rateRule) allowLocal(key string, now time.Time) (bool, time.Duration) {
	lim, _ := r.local.ComputeIfAbsent(key, func() (*rate.Limiter, bool) {
		return rate.NewLimiter(rate.Every(r.window/time.Duration(r.limit)), r.limit), false
	})
	res := lim.ReserveN(now, 1)
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return false, d
	}
	return true, 0
}

func (r *rateRule) close() { r.local.StopAllGoroutines() }

// retryAfterSeconds rounds a wait up to whole seconds, at least 1, for
// Retry-After.
func retryAfterSeconds(d time.Duration) int64 {
	s := int64((d + time.Second - 1) / time.Second)
	return max(s, 1)
}
