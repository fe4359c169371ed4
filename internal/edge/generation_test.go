package edge

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgeward/edgeward/internal/size"
)

// serveReq runs one request through s's pipeline, as net/http would.
func serveReq(s *Server, method, target, remote string, body string, h http.Header) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	if body == "" {
		r.Body = http.NoBody
		r.ContentLength = 0
	}
	r.RemoteAddr = remote
	for k, v := range h {
		r.Header[k] = v
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	return w
}

func drainedChan() (func(), <-chan struct{}) {
	ch := make(chan struct{})
	var once sync.Once
	return func() { once.Do(func() { close(ch) }) }, ch
}

func isDone(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func TestReload_OldGenerationDrainsWhenItsLastRequestEnds(t *testing.T) {
	t.Parallel()
	slow := &fakeOrigin{hold: make(chan struct{}), entered: make(chan struct{})}
	s, err := New(Config{}, []Behavior{{PathPattern: "*", Origin: nopOrigin{}}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	drained1, done1 := drainedChan()
	if err := s.Reload(Generation{Behaviors: []Behavior{{PathPattern: "*", Origin: slow}}, Drained: drained1}); err != nil {
		t.Fatal(err)
	}
	served := make(chan int)
	go func() { served <- serveReq(s, "GET", "/a", "192.0.2.1:1", "", nil).Code }()
	<-slow.entered

	fresh := &fakeOrigin{body: "new"}
	if err := s.Reload(Generation{Behaviors: []Behavior{{PathPattern: "*", Origin: fresh}}}); err != nil {
		t.Fatal(err)
	}
	if isDone(done1) {
		t.Fatal("the old generation drained while a request was still in it")
	}
	if w := serveReq(s, "GET", "/b", "192.0.2.1:1", "", nil); w.Body.String() != "new" {
		t.Fatalf("request after Reload got %q, want the new generation's origin", w.Body.String())
	}
	close(slow.hold)
	if code := <-served; code != http.StatusOK {
		t.Errorf("in-flight request across Reload = %d, want 200", code)
	}
	select {
	case <-done1:
	case <-time.After(5 * time.Second):
		t.Fatal("the old generation never drained after its last request ended")
	}
}

func TestReload_GraceBoundsTheDrain(t *testing.T) {
	t.Parallel()
	stuck := &fakeOrigin{hold: make(chan struct{}), entered: make(chan struct{})}
	defer close(stuck.hold)
	s, err := New(Config{}, []Behavior{{PathPattern: "*", Origin: stuck}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	drained, done := drainedChan()
	if err := s.Reload(Generation{Behaviors: []Behavior{{PathPattern: "*", Origin: stuck}}, Drained: drained}); err != nil {
		t.Fatal(err)
	}
	go serveReq(s, "GET", "/stuck", "192.0.2.1:1", "", nil)
	<-stuck.entered
	start := time.Now()
	if err := s.Reload(Generation{Config: Config{ShutdownGrace: 20 * time.Millisecond}, Behaviors: []Behavior{{PathPattern: "*", Origin: nopOrigin{}}}}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
		if d := time.Since(start); d < 20*time.Millisecond {
			t.Errorf("drained after %v with a request still in flight, want the 20ms grace first", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a generation with a stuck request never drained; the grace must bound it")
	}
}

func TestReload_BadGenerationKeepsTheRunningOne(t *testing.T) {
	t.Parallel()
	s, err := New(Config{}, []Behavior{{PathPattern: "*", Origin: &fakeOrigin{body: "old"}}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	drained, done := drainedChan()
	bad := Generation{Behaviors: []Behavior{{PathPattern: "/x", Origin: nopOrigin{}}}, Drained: drained}
	if err := s.Reload(bad); err == nil {
		t.Fatal("Reload without a catch-all behavior = nil, want an error")
	}
	if isDone(done) {
		t.Error("a refused generation's Drained ran; its builder releases it")
	}
	if w := serveReq(s, "GET", "/x", "192.0.2.1:1", "", nil); w.Body.String() != "old" {
		t.Errorf("after a refused Reload got %q, want the running generation", w.Body.String())
	}
}

// Every request rule of the viewer Config is part of a generation: a
// reload changes it for the next request.
func TestReload_RequestRulesTakeEffect(t *testing.T) {
	t.Parallel()
	o := &fakeOrigin{}
	var clientMu sync.Mutex
	var lastClient string
	seeClient := fn(func(_ context.Context, r *Request) (*Response, error) {
		clientMu.Lock()
		lastClient = r.Client.Addr().String()
		clientMu.Unlock()
		return nil, nil
	})
	bs := []Behavior{{PathPattern: "*", Origin: o, Function: seeClient, AllowedMethods: []string{"GET", "HEAD", "POST"}}}
	log := &recLog{}
	s, err := New(Config{}, bs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	post := func() int { return serveReq(s, "POST", "/p", "192.0.2.1:1", "0123456789", nil).Code }
	fwd := http.Header{"X-Forwarded-For": {"203.0.113.9"}}
	client := func() string {
		serveReq(s, "GET", "/c", "192.0.2.1:1", "", fwd)
		clientMu.Lock()
		defer clientMu.Unlock()
		return lastClient
	}
	if code := post(); code != http.StatusOK {
		t.Fatalf("10-byte body before reload = %d, want 200", code)
	}
	if got := client(); got != "192.0.2.1" {
		t.Fatalf("client behind an untrusted peer = %q, want the peer 192.0.2.1", got)
	}
	if w := serveReq(s, "GET", "/a//b", "192.0.2.1:1", "", nil); w.Code != http.StatusOK {
		t.Fatalf("merged slashes before reload = %d", w.Code)
	}

	cfg := Config{TrustedProxies: []string{"192.0.2.0/24"}}
	cfg.Limits.MaxBodyBytes = size.Bytes(4)
	cfg.Paths.MergeSlashes = new(bool)
	cfg.OwnedHeaders = []string{"X-Tenant"}
	if err := s.Reload(Generation{Config: cfg, Behaviors: bs, AccessLog: log}); err != nil {
		t.Fatal(err)
	}
	if code := post(); code != http.StatusRequestEntityTooLarge {
		t.Errorf("10-byte body after limits.max_body_bytes: 4 = %d, want 413", code)
	}
	if got := client(); got != "203.0.113.9" {
		t.Errorf("trusted_proxies reloaded, client = %q, want 203.0.113.9 from X-Forwarded-For", got)
	}
	serveReq(s, "GET", "/t", "192.0.2.1:1", "", http.Header{"X-Tenant": {"evil"}})
	if reqs := o.requests(); reqs[len(reqs)-1].Header.Get("X-Tenant") != "" {
		t.Error("owned_headers reloaded, yet the inbound X-Tenant reached the origin")
	}
	serveReq(s, "GET", "/a//b", "192.0.2.1:1", "", nil)
	if reqs := o.requests(); reqs[len(reqs)-1].Path != "/a//b" {
		t.Errorf("paths.merge_slashes: false reloaded, origin saw %q, want /a//b", reqs[len(reqs)-1].Path)
	}
	if n := len(log.records()); n == 0 {
		t.Error("the reloaded access log received no record")
	}
}

func TestNew_FirstGenerationDrainsOnReload(t *testing.T) {
	t.Parallel()
	drained, done := drainedChan()
	s, err := New(Config{}, []Behavior{{PathPattern: "*", Origin: nopOrigin{}}}, Options{Drained: drained})
	if err != nil {
		t.Fatal(err)
	}
	if isDone(done) {
		t.Fatal("the first generation drained while it was still current")
	}
	if err := s.Reload(Generation{Behaviors: []Behavior{{PathPattern: "*", Origin: nopOrigin{}}}}); err != nil {
		t.Fatal(err)
	}
	if !isDone(done) {
		t.Error("Options.Drained did not run once an idle first generation was replaced")
	}
}
