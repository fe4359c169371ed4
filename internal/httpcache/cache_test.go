package httpcache

import (
	"net/http"
	"testing"
	"time"

	"github.com/edgeward/edgeward/internal/edge"
)

func TestServe_HitAfterMiss(t *testing.T) {
	t.Parallel()
	_, c, clock := newCache(t, honest(), StoreConfig{})
	o := newOrigin(t, clock, fixed(200, "hello", "Cache-Control: max-age=60", "Content-Type: text/plain"))

	rec, r := serve(t, c, o, "GET", "/a")
	if rec.Code != 200 || rec.Body.String() != "hello" || r.Result != edge.ResultMiss {
		t.Fatalf("first = %d %q %s, want 200 hello Miss", rec.Code, rec.Body, r.Result)
	}
	if got := rec.Header().Get("X-Cache"); got != "Miss from edgeward" {
		t.Errorf("first X-Cache = %q, want Miss from edgeward", got)
	}
	clock.Advance(5 * time.Second)
	rec, r = serve(t, c, o, "GET", "/a")
	if rec.Code != 200 || rec.Body.String() != "hello" || r.Result != edge.ResultHit {
		t.Fatalf("second = %d %q %s, want 200 hello Hit", rec.Code, rec.Body, r.Result)
	}
	if got := rec.Header().Get("X-Cache"); got != "Hit from edgeward" {
		t.Errorf("second X-Cache = %q, want Hit from edgeward", got)
	}
	if got := rec.Header().Get("Age"); got != "5" {
		t.Errorf("second Age = %q, want 5", got)
	}
	if got := rec.Header().Get("Content-Type"); got != "text/plain" {
		t.Errorf("second Content-Type = %q, want text/plain", got)
	}
	if n := o.count(); n != 1 {
		t.Errorf("origin requests = %d, want 1", n)
	}
	clock.Advance(60 * time.Second)
	if _, r = serve(t, c, o, "GET", "/a"); r.Result != edge.ResultMiss {
		t.Errorf("after expiry Result = %s, want Miss", r.Result)
	}
	if n := o.count(); n != 2 {
		t.Errorf("origin requests after expiry = %d, want 2", n)
	}
}

func TestServe_HeadFromGet(t *testing.T) {
	t.Parallel()
	_, c, clock := newCache(t, honest(), StoreConfig{})
	o := newOrigin(t, clock, fixed(200, "hello", "Cache-Control: max-age=60"))
	serve(t, c, o, "GET", "/a")
	rec, r := serve(t, c, o, http.MethodHead, "/a")
	if r.Result != edge.ResultHit || rec.Body.Len() != 0 || rec.Header().Get("Content-Length") != "5" {
		t.Errorf("HEAD = %s body %q CL %q, want Hit, empty, 5", r.Result, rec.Body, rec.Header().Get("Content-Length"))
	}
	if n := o.count(); n != 1 {
		t.Errorf("origin requests = %d, want 1", n)
	}
}
