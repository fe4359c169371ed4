package sideband

import (
	"context"
	"net/http"
	"sync/atomic"
	"time"
)

// Health-check defaults for a Client with several endpoints.
const (
	// DefaultUnhealthyAfter is the number of consecutive failed calls
	// (transport errors and 5xx) that take an endpoint out of rotation.
	DefaultUnhealthyAfter = 2
	// DefaultProbeInterval is how often an endpoint out of rotation is
	// probed.
	DefaultProbeInterval = 5 * time.Second
)

// endpoint is one decision service of a Client: its URLs and its health.
// An endpoint is in rotation until unhealthyAfter consecutive calls fail;
// then it is probed (one probe at a time, at most once per interval) and
// comes back on the first probe the service answers.
type endpoint struct {
	base        string
	requestURL  string
	responseURL string
	// h1 is the lean HTTP/1.1 client of a plain-http service (nil: the
	// calls go through http.Transport).
	h1 *h1Hop

	fails     atomic.Int32
	down      atomic.Bool
	nextProbe atomic.Int64 // UnixNano
	probing   atomic.Bool
}

// failover is a call's memory of the endpoints its attempts used, so that
// a retry goes to another endpoint when there is one. It travels in the
// context of the call (see WithFailover).
type failover struct{ tried uint64 }

type failoverKey struct{}

// WithFailover returns a context under which successive calls of one
// decision (its retries) each go to an endpoint not yet tried, while one
// is in rotation. The retries stay those of the caller: a Client makes one
// attempt per call.
func WithFailover(ctx context.Context) context.Context {
	return context.WithValue(ctx, failoverKey{}, &failover{})
}

// pick returns the endpoint of the next attempt: round robin over the
// endpoints in rotation, skipping those this decision already tried. With
// every endpoint out of rotation it still returns one (round robin): a
// call that may fail is better than no call, and fail-closed handles the
// failure.
func (c *Client) pick(ctx context.Context) *endpoint {
	if len(c.endpoints) == 1 {
		return c.endpoints[0]
	}
	fo, _ := ctx.Value(failoverKey{}).(*failover)
	n := len(c.endpoints)
	start := int(c.next.Add(1) % uint64(n))
	var fallback, untried *endpoint
	for i := range n {
		idx := (start + i) % n
		e := c.endpoints[idx]
		if e.down.Load() {
			c.maybeProbe(e)
			if fallback == nil {
				fallback = e
			}
			continue
		}
		if fo != nil && idx < 64 && fo.tried&(1<<idx) != 0 {
			if untried == nil {
				untried = e // tried already, but healthy
			}
			continue
		}
		return c.mark(fo, idx)
	}
	if untried != nil {
		return untried
	}
	return fallback
}

func (c *Client) mark(fo *failover, idx int) *endpoint {
	if fo != nil && idx < 64 {
		fo.tried |= 1 << idx
	}
	return c.endpoints[idx]
}

// report records the outcome of a call to e: a transport error or a 5xx
// counts against it, any other answer (a decision, a 4xx) proves it up.
func (c *Client) report(e *endpoint, failed bool) {
	if len(c.endpoints) == 1 {
		return
	}
	if !failed {
		e.fails.Store(0)
		return
	}
	if e.fails.Add(1) >= int32(c.unhealthyAfter) && !e.down.Swap(true) {
		e.nextProbe.Store(time.Now().Add(c.probeInterval).UnixNano())
	}
}

// maybeProbe starts a health probe of e when one is due and none runs.
func (c *Client) maybeProbe(e *endpoint) {
	if time.Now().UnixNano() < e.nextProbe.Load() || !e.probing.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer e.probing.Store(false)
		if c.probe(e) {
			e.fails.Store(0)
			e.down.Store(false)
			return
		}
		e.nextProbe.Store(time.Now().Add(c.probeInterval).UnixNano())
	}()
}

// probe reports whether the service at e answers HTTP: a GET of its
// request endpoint, without the credential, answered with any status
// below 500 (a sideband service answers 404, 405 or 401; PingOne and
// edgeward's decision service alike). It costs the service no decision.
func (c *Client) probe(e *endpoint) bool {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.requestURL, nil)
	if err != nil {
		return false
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return false
	}
	drain(resp)
	return resp.StatusCode < 500
}

// Healthy returns, for each endpoint in configuration order, whether it is
// in rotation (for the admin view and tests).
func (c *Client) Healthy() []bool {
	out := make([]bool, len(c.endpoints))
	for i, e := range c.endpoints {
		out[i] = !e.down.Load()
	}
	return out
}
