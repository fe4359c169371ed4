package authorizer

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgeward/edgeward/internal/sideband"
	"github.com/edgeward/edgeward/internal/testkit"
)

// blockingDecider allows every call once release is closed.
type blockingDecider struct {
	countingDecider
	release chan struct{}
}

func (d *blockingDecider) Request(ctx context.Context, r *sideband.Request) (*sideband.Reply, error) {
	d.calls.Add(1)
	select {
	case <-d.release:
		return &sideband.Reply{Request: *r}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func newBlocking(t *testing.T, mod func(*Config)) (*Authorizer, *blockingDecider, *prometheus.Registry) {
	t.Helper()
	d := &blockingDecider{release: make(chan struct{})}
	zero := 0
	cfg := Config{ServiceURL: URLs{Embedded}, MaxRetries: &zero, Timeout: 5 * time.Second, DecisionCache: CacheConfig{Enabled: true}}
	if mod != nil {
		mod(&cfg)
	}
	reg := prometheus.NewRegistry()
	// A clock without ticks: the cache starts no goroutine that would
	// outlive the bubble.
	a, err := New("authorize", cfg, d, Options{Registerer: reg, Clock: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	return a, d, reg
}

func TestDecisionCache_IdenticalCallsInFlightMakeOneCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, d, reg := newBlocking(t, nil)
		const n = 16
		errs := make(chan error, n)
		for range n {
			go func() {
				resp, err := a.ViewerRequest(context.Background(), baseRequest())
				if resp != nil && err == nil {
					err = errUnexpectedDeny
				}
				errs <- err
			}()
		}
		synctest.Wait() // every caller waits on the one call
		if got := d.calls.Load(); got != 1 {
			t.Fatalf("decider calls with %d identical requests in flight = %d, want 1", n, got)
		}
		close(d.release)
		for range n {
			if err := <-errs; err != nil {
				t.Errorf("ViewerRequest() = %v, want an allow", err)
			}
		}
		if got := testkit.Metric(t, reg, "edgeward_authorize_cache_coalesced_total", nil); got != n-1 {
			t.Errorf("coalesced = %v, want %d", got, n-1)
		}
		if got := d.calls.Load(); got != 1 {
			t.Errorf("decider calls = %d, want 1", got)
		}
	})
}

var errUnexpectedDeny = &sideband.StatusError{Status: 403}

func TestDecisionCache_WaiterKeepsItsOwnDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, d, _ := newBlocking(t, nil)
		start := time.Now()
		long := make(chan error, 1)
		go func() {
			_, err := a.ViewerRequest(context.Background(), baseRequest())
			long <- err
		}()
		synctest.Wait()

		// A viewer with 100ms left joins the call in flight and leaves on
		// time, with no decision; the call goes on for the others.
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_, err := a.ViewerRequest(ctx, baseRequest())
		if e := asEdgeError(err); e == nil || e.Status != http.StatusBadGateway {
			t.Errorf("short waiter: error = %v, want 502", err)
		}
		if waited := time.Since(start); waited != 100*time.Millisecond {
			t.Errorf("short waiter left after %s, want 100ms", waited)
		}
		select {
		case err := <-long:
			t.Fatalf("the first caller ended with the short waiter: %v", err)
		default:
		}
		close(d.release)
		if err := <-long; err != nil {
			t.Errorf("first caller: %v, want an allow", err)
		}
		if got := d.calls.Load(); got != 1 {
			t.Errorf("decider calls = %d, want 1", got)
		}
	})
}

func TestDecisionCache_LeaderLeavingCancelsNobody(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, d, _ := newBlocking(t, nil)
		ctx, cancel := context.WithCancel(context.Background())
		first := make(chan error, 1)
		go func() {
			_, err := a.ViewerRequest(ctx, baseRequest())
			first <- err
		}()
		synctest.Wait()
		second := make(chan error, 1)
		go func() {
			_, err := a.ViewerRequest(context.Background(), baseRequest())
			second <- err
		}()
		synctest.Wait()
		cancel() // the viewer that started the call goes away
		if err := <-first; err == nil {
			t.Errorf("canceled caller got an allow, want no decision")
		}
		close(d.release)
		if err := <-second; err != nil {
			t.Errorf("second caller: %v, want the allow of the shared call", err)
		}
	})
}

func TestDecisionCache_WaitIsBoundedByTheTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, _, _ := newBlocking(t, func(c *Config) { c.Timeout = time.Second })
		start := time.Now()
		var wg sync.WaitGroup
		for range 3 {
			wg.Go(func() {
				_, err := a.ViewerRequest(context.Background(), baseRequest())
				if e := asEdgeError(err); e == nil || e.Status != http.StatusBadGateway {
					t.Errorf("error = %v, want 502", err)
				}
			})
		}
		wg.Wait()
		if waited := time.Since(start); waited != time.Second {
			t.Errorf("callers left after %s, want the 1s timeout", waited)
		}
	})
}

func TestDecisionCache_PanicInSharedCallIs500(t *testing.T) {
	t.Parallel()
	h := newCached(t, func(*sideband.Request) (*sideband.Reply, error) { panic("boom") }, func(c *Config) { c.OnError = OnErrorAllow })
	_, err := h.a.ViewerRequest(context.Background(), baseRequest())
	if e := asEdgeError(err); e == nil || e.Status != http.StatusInternalServerError {
		t.Errorf("error = %v, want 500 even with on_error allow", err)
	}
}
