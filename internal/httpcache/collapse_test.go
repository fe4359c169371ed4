package httpcache

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/edgeward/edgeward/internal/edge"
)

// gatedOrigin answers every request once release is closed, in memory, so
// that synctest can see goroutines waiting on it.
type gatedOrigin struct {
	release chan struct{}
	n       atomic.Int64
	header  http.Header
	body    string
}

func (o *gatedOrigin) Forward(w http.ResponseWriter, r *edge.Request) error {
	o.n.Add(1)
	select {
	case <-o.release:
	case <-r.HTTP.Context().Done():
		return &edge.Error{Status: http.StatusGatewayTimeout, Msg: "origin timeout", Err: r.HTTP.Context().Err()}
	}
	for k, v := range o.header {
		w.Header()[k] = v
	}
	w.WriteHeader(http.StatusOK)
	w.Write([]byte(o.body))
	return nil
}

func runConcurrent(t *testing.T, c *Cache, o edge.Origin, n int) []*httptest.ResponseRecorder {
	t.Helper()
	recs := make([]*httptest.ResponseRecorder, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			recs[i] = httptest.NewRecorder()
			if err := c.Serve(recs[i], request("GET", "/hot"), o); err != nil {
				t.Errorf("Serve: %v", err)
			}
		})
	}
	synctest.Wait() // every request is now at the origin or waiting for it
	return recs
}

func TestServe_Collapses100ConcurrentMissesIntoOne(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, err := NewStore(StoreConfig{}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		c, _ := s.Policy("b", honest())
		o := &gatedOrigin{release: make(chan struct{}), header: http.Header{"Cache-Control": {"max-age=60"}}, body: "hot"}
		recs := runConcurrent(t, c, o, 100)
		close(o.release)
		synctest.Wait()
		if n := o.n.Load(); n != 1 {
			t.Errorf("origin requests = %d, want 1", n)
		}
		for i, rec := range recs {
			if rec.Code != 200 || rec.Body.String() != "hot" {
				t.Fatalf("response %d = %d %q, want 200 hot", i, rec.Code, rec.Body)
			}
		}
	})
}

func TestServe_UncacheableFollowersGoToTheOriginThemselves(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, _ := NewStore(StoreConfig{}, Options{})
		defer s.Close()
		c, _ := s.Policy("b", honest())
		o := &gatedOrigin{release: make(chan struct{}), header: http.Header{"Cache-Control": {"private, max-age=60"}}, body: "mine"}
		recs := runConcurrent(t, c, o, 10)
		if n := o.n.Load(); n != 1 {
			t.Errorf("origin requests while the leader waits = %d, want 1", n)
		}
		close(o.release)
		synctest.Wait()
		if n := o.n.Load(); n != 10 {
			t.Errorf("origin requests = %d, want 10 (a private answer is not shared)", n)
		}
		for i, rec := range recs {
			if rec.Body.String() != "mine" {
				t.Errorf("response %d = %q, want mine", i, rec.Body)
			}
		}
		// The key is now known to be uncacheable: requests stop waiting
		// on each other.
		o2 := &gatedOrigin{release: make(chan struct{}), header: o.header, body: "mine"}
		runConcurrent(t, c, o2, 5)
		if n := o2.n.Load(); n != 5 {
			t.Errorf("origin requests after a pass = %d, want 5 (no collapsing)", n)
		}
		close(o2.release)
		synctest.Wait()
	})
}

func TestServe_SlowLeaderDoesNotHoldFollowerPastItsDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, _ := NewStore(StoreConfig{}, Options{})
		defer s.Close()
		c, _ := s.Policy("b", honest())
		o := &gatedOrigin{release: make(chan struct{}), header: http.Header{"Cache-Control": {"max-age=60"}}}
		go c.Serve(httptest.NewRecorder(), request("GET", "/hot"), o) // the leader
		synctest.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		r := request("GET", "/hot")
		r.HTTP = r.HTTP.WithContext(ctx)
		start := time.Now()
		err := c.Serve(httptest.NewRecorder(), r, o)
		if waited := time.Since(start); waited != time.Second {
			t.Errorf("follower waited %v, want its 1s deadline", waited)
		}
		if ee, ok := err.(*edge.Error); !ok || ee.Status != http.StatusGatewayTimeout {
			t.Errorf("follower error = %v, want a 504 *edge.Error", err)
		}
		if r.Result != edge.ResultError {
			t.Errorf("follower Result = %s, want Error", r.Result)
		}
		close(o.release)
		synctest.Wait()
	})
}

func TestServe_FollowersShareTheLeadersOriginError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, _ := NewStore(StoreConfig{}, Options{})
		defer s.Close()
		c, _ := s.Policy("b", honest())
		o := &failingGate{release: make(chan struct{})}
		var errs [5]error
		var wg sync.WaitGroup
		for i := range errs {
			wg.Go(func() { errs[i] = c.Serve(httptest.NewRecorder(), request("GET", "/x"), o) })
		}
		synctest.Wait()
		close(o.release)
		wg.Wait()
		if n := o.n.Load(); n != 1 {
			t.Errorf("origin requests = %d, want 1", n)
		}
		for i, err := range errs {
			if ee, ok := err.(*edge.Error); !ok || ee.Status != http.StatusBadGateway {
				t.Errorf("request %d error = %v, want the leader's 502", i, err)
			}
		}
	})
}

type failingGate struct {
	release chan struct{}
	n       atomic.Int64
}

func (o *failingGate) Forward(http.ResponseWriter, *edge.Request) error {
	o.n.Add(1)
	<-o.release
	return &edge.Error{Status: http.StatusBadGateway, Msg: "origin unreachable"}
}
