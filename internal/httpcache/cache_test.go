package httpcache

import (
	"net/http"
	"strings"
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

func TestServe_RevalidatesStaleWith304(t *testing.T) {
	t.Parallel()
	for _, validator := range []string{`ETag: "v1"`, "Last-Modified: Wed, 01 Jan 2020 00:00:00 GMT"} {
		t.Run(validator, func(t *testing.T) {
			t.Parallel()
			_, c, clock := newCache(t, honest(), StoreConfig{})
			o := newOrigin(t, clock, fixed(200, "body", "Cache-Control: max-age=10", validator, "X-Version: 1", "Content-Type: text/plain"))
			serve(t, c, o, "GET", "/a")
			clock.Advance(20 * time.Second)
			o.setHandler(func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("If-None-Match") == "" && r.Header.Get("If-Modified-Since") == "" {
					t.Errorf("revalidation carries no validator: %v", r.Header)
				}
				w.Header().Set("Cache-Control", "max-age=100")
				w.Header().Set("X-Version", "2")
				w.Header().Set("Content-Length", "99") // must not replace the stored one
				w.WriteHeader(http.StatusNotModified)
			})
			rec, r := serve(t, c, o, "GET", "/a")
			if r.Result != edge.ResultRefreshHit || rec.Code != 200 || rec.Body.String() != "body" {
				t.Fatalf("revalidated = %s %d %q, want RefreshHit 200 body", r.Result, rec.Code, rec.Body)
			}
			if got := rec.Header().Get("X-Version"); got != "2" {
				t.Errorf("X-Version after 304 = %q, want 2 (updated)", got)
			}
			if got := rec.Header().Get("Content-Length"); got != "4" {
				t.Errorf("Content-Length after 304 = %q, want 4 (not updated)", got)
			}
			if got := rec.Header().Get("X-Cache"); got != "RefreshHit from edgeward" {
				t.Errorf("X-Cache = %q, want RefreshHit from edgeward", got)
			}
			clock.Advance(50 * time.Second)
			if rec, r = serve(t, c, o, "GET", "/a"); r.Result != edge.ResultHit || rec.Header().Get("Age") != "50" {
				t.Errorf("after refresh = %s Age %q, want Hit Age 50 (freshness from the 304)", r.Result, rec.Header().Get("Age"))
			}
			if n := o.count(); n != 2 {
				t.Errorf("origin requests = %d, want 2", n)
			}
		})
	}
}

func TestServe_NoCacheRevalidatesEveryTime(t *testing.T) {
	t.Parallel()
	_, c, clock := newCache(t, honest(), StoreConfig{})
	o := newOrigin(t, clock, fixed(200, "body", "Cache-Control: max-age=3600, no-cache", `ETag: "x"`))
	serve(t, c, o, "GET", "/a")
	o.setHandler(fixed(http.StatusNotModified, "", `ETag: "x"`))
	for range 2 {
		if _, r := serve(t, c, o, "GET", "/a"); r.Result != edge.ResultRefreshHit {
			t.Errorf("Result = %s, want RefreshHit", r.Result)
		}
	}
	if n := o.count(); n != 3 {
		t.Errorf("origin requests = %d, want 3", n)
	}
}

func TestServe_StaleWhileRevalidateRefreshesInBackground(t *testing.T) {
	t.Parallel()
	s, c, clock := newCache(t, honest(), StoreConfig{})
	o := newOrigin(t, clock, fixed(200, "v1", "Cache-Control: max-age=10, stale-while-revalidate=60"))
	serve(t, c, o, "GET", "/a")
	clock.Advance(30 * time.Second)
	o.setHandler(fixed(200, "v2", "Cache-Control: max-age=10, stale-while-revalidate=60"))
	rec, r := serve(t, c, o, "GET", "/a")
	if r.Result != edge.ResultHit || rec.Body.String() != "v1" {
		t.Fatalf("stale = %s %q, want Hit v1 (served stale)", r.Result, rec.Body)
	}
	s.bg.Wait()
	if rec, _ = serve(t, c, o, "GET", "/a"); rec.Body.String() != "v2" {
		t.Errorf("after refresh body = %q, want v2", rec.Body)
	}
	if n := o.count(); n != 2 {
		t.Errorf("origin requests = %d, want 2 (one background refresh)", n)
	}
	clock.Advance(2 * time.Minute) // past the window: a normal miss
	if _, r = serve(t, c, o, "GET", "/a"); r.Result != edge.ResultMiss {
		t.Errorf("past the window Result = %s, want Miss", r.Result)
	}
}

func TestServe_StaleIfError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		cc       string
		policy   time.Duration
		advance  time.Duration
		down     bool // origin unreachable; else it answers 503
		wantBody string
		wantCode int
	}{
		{"origin down within stale-if-error", "max-age=10, stale-if-error=60", 0, 30 * time.Second, true, "v1", 200},
		{"origin 503 within stale-if-error", "max-age=10, stale-if-error=60", 0, 30 * time.Second, false, "v1", 200},
		{"policy default", "max-age=10", time.Minute, 30 * time.Second, true, "v1", 200},
		{"past the window", "max-age=10, stale-if-error=60", 0, 2 * time.Minute, true, "", 502},
		{"no stale-if-error", "max-age=10", 0, 30 * time.Second, true, "", 502},
		{"must-revalidate forbids", "max-age=10, must-revalidate, stale-if-error=60", 0, 30 * time.Second, true, "", 502},
		{"503 passed through without stale-if-error", "max-age=10, must-revalidate", 0, 30 * time.Second, false, "down", 503},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := honest()
			cfg.StaleIfError = tt.policy
			cfg.StaleIfUnreachable = ptr(time.Duration(0)) // stale-if-error alone
			_, c, clock := newCache(t, cfg, StoreConfig{})
			o := newOrigin(t, clock, fixed(200, "v1", "Cache-Control: "+tt.cc, `ETag: "1"`))
			serve(t, c, o, "GET", "/a")
			clock.Advance(tt.advance)
			var up edge.Origin = o
			if tt.down {
				up = &downOrigin{}
			} else {
				o.setHandler(fixed(503, "down"))
			}
			rec, _ := serve(t, c, up, "GET", "/a")
			if rec.Code != tt.wantCode || (tt.wantBody != "" && rec.Body.String() != tt.wantBody) {
				t.Errorf("stale-if-error = %d %q, want %d %q", rec.Code, rec.Body, tt.wantCode, tt.wantBody)
			}
		})
	}
}

// TestServe_StaleIfUnreachable pins the default for an origin that cannot
// be reached: a stale object is served (as CloudFront serves expired
// objects while a custom origin is unavailable), within
// stale_if_unreachable, never when the response forbids serving stale
// (RFC 9111 4.2.4), and never for an origin that answers 503.
func TestServe_StaleIfUnreachable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		cc       string
		window   *time.Duration // nil: the default (1h)
		advance  time.Duration
		down     bool
		wantCode int
	}{
		{"default: served stale", "max-age=10", nil, 30 * time.Minute, true, 200},
		{"default: past one hour", "max-age=10", nil, 61 * time.Minute, true, 502},
		{"configured window", "max-age=10", ptr(5 * time.Minute), 4 * time.Minute, true, 200},
		{"past the configured window", "max-age=10", ptr(5 * time.Minute), 6 * time.Minute, true, 502},
		{"off", "max-age=10", ptr(time.Duration(0)), time.Minute, true, 502},
		{"must-revalidate forbids", "max-age=10, must-revalidate", nil, time.Minute, true, 502},
		{"proxy-revalidate forbids", "max-age=10, proxy-revalidate", nil, time.Minute, true, 502},
		{"s-maxage forbids", "s-maxage=10", nil, time.Minute, true, 502},
		{"no-cache forbids", "no-cache", nil, time.Minute, true, 502},
		{"an answering origin's 503 is passed on", "max-age=10", nil, time.Minute, false, 503},
		{"stale-if-error beyond the window still counts", "max-age=10, stale-if-error=7200", nil, 90 * time.Minute, true, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := honest()
			cfg.StaleIfUnreachable = tt.window
			_, c, clock := newCache(t, cfg, StoreConfig{})
			o := newOrigin(t, clock, fixed(200, "v1", "Cache-Control: "+tt.cc))
			serve(t, c, o, "GET", "/a")
			clock.Advance(tt.advance)
			var up edge.Origin = o
			if tt.down {
				up = &downOrigin{}
			} else {
				o.setHandler(fixed(503, "down"))
			}
			rec, _ := serve(t, c, up, "GET", "/a")
			if rec.Code != tt.wantCode || (tt.wantCode == 200 && rec.Body.String() != "v1") {
				t.Errorf("origin unreachable after %v = %d %q, want %d", tt.advance, rec.Code, rec.Body, tt.wantCode)
			}
		})
	}
}

func TestServe_Vary(t *testing.T) {
	t.Parallel()
	_, c, clock := newCache(t, honest(), StoreConfig{})
	o := newOrigin(t, clock, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("Vary", "Foo, Accept-Language")
		w.Write([]byte("foo=" + r.Header.Get("Foo") + " lang=" + r.Header.Get("Accept-Language")))
	})
	steps := []struct {
		headers []string
		want    edge.Result
		body    string
	}{
		{[]string{"Foo: 1", "Accept-Language: en, de"}, edge.ResultMiss, "foo=1 lang=en, de"},
		{[]string{"Foo: 1", "Accept-Language: de,EN"}, edge.ResultHit, "foo=1 lang=en, de"}, // language order and case normalised
		{[]string{"Foo: 2", "Accept-Language: en, de"}, edge.ResultMiss, "foo=2 lang=en, de"},
		{[]string{"Foo: 1", "Accept-Language: en, de"}, edge.ResultHit, "foo=1 lang=en, de"}, // both variants kept
		{[]string{"Accept-Language: en, de"}, edge.ResultMiss, "foo= lang=en, de"},           // absent is not empty
		{[]string{"Foo:  2 ", "Accept-Language: en,de"}, edge.ResultHit, "foo=2 lang=en, de"},
	}
	for i, st := range steps {
		rec, r := serve(t, c, o, "GET", "/v", st.headers...)
		if r.Result != st.want || rec.Body.String() != st.body {
			t.Errorf("step %d %q = %s %q, want %s %q", i, st.headers, r.Result, rec.Body, st.want, st.body)
		}
	}
}

func TestServe_VaryStarNeverServedFromCache(t *testing.T) {
	t.Parallel()
	_, c, clock := newCache(t, honest(), StoreConfig{})
	o := newOrigin(t, clock, fixed(200, "x", "Cache-Control: max-age=60", "Vary: *"))
	serve(t, c, o, "GET", "/a")
	if _, r := serve(t, c, o, "GET", "/a"); r.Result != edge.ResultMiss {
		t.Errorf("Vary: * second Result = %s, want Miss", r.Result)
	}
}

func TestServe_SharedCacheRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		cfg     func(*PolicyConfig)
		req     []string
		resp    []string
		wantHit bool
	}{
		{"private", nil, nil, []string{"Cache-Control: private, max-age=60"}, false},
		{"no-store", nil, nil, []string{"Cache-Control: no-store, max-age=60"}, false},
		{"set-cookie", nil, nil, []string{"Cache-Control: max-age=60", "Set-Cookie: session=alice"}, false},
		{"set-cookie allowed", func(c *PolicyConfig) { c.CacheSetCookie = true }, nil, []string{"Cache-Control: max-age=60", "Set-Cookie: a=b"}, true},
		{"authorization", nil, []string{"Authorization: Bearer alice"}, []string{"Cache-Control: max-age=60"}, false},
		{"authorization with public", nil, []string{"Authorization: Bearer alice"}, []string{"Cache-Control: max-age=60, public"}, true},
		{"authorization with s-maxage", nil, []string{"Authorization: Bearer alice"}, []string{"Cache-Control: s-maxage=60"}, true},
		{"authorization with must-revalidate", nil, []string{"Authorization: Bearer alice"}, []string{"Cache-Control: max-age=60, must-revalidate"}, true},
		{"authorization in the key", func(c *PolicyConfig) { c.Key.Headers = []string{"authorization"} }, []string{"Authorization: Bearer alice"}, []string{"Cache-Control: max-age=60"}, true},
		{"min_ttl overrides private", func(c *PolicyConfig) { c.MinTTL = time.Minute; c.DefaultTTL = ptr(time.Minute) }, nil, []string{"Cache-Control: private"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := honest()
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			_, c, clock := newCache(t, cfg, StoreConfig{})
			o := newOrigin(t, clock, func(w http.ResponseWriter, r *http.Request) {
				fixed(200, "for "+r.Header.Get("Authorization"), tt.resp...)(w, r)
			})
			serve(t, c, o, "GET", "/a", tt.req...)
			// Another viewer (same key: Authorization is forwarded but
			// only keyed in one case, where the second viewer matches).
			_, r := serve(t, c, o, "GET", "/a", tt.req...)
			if got := r.Result == edge.ResultHit; got != tt.wantHit {
				t.Errorf("second viewer Result = %s, want hit %v", r.Result, tt.wantHit)
			}
		})
	}
}

func TestServe_AuthorizationKeyedPerCredential(t *testing.T) {
	t.Parallel()
	cfg := honest()
	cfg.Key.Headers = []string{"Authorization"}
	_, c, clock := newCache(t, cfg, StoreConfig{})
	o := newOrigin(t, clock, func(w http.ResponseWriter, r *http.Request) {
		fixed(200, "for "+r.Header.Get("Authorization"), "Cache-Control: max-age=60")(w, r)
	})
	serve(t, c, o, "GET", "/me", "Authorization: Bearer alice")
	rec, r := serve(t, c, o, "GET", "/me", "Authorization: Bearer bob")
	if r.Result != edge.ResultMiss || rec.Body.String() != "for Bearer bob" {
		t.Errorf("bob = %s %q, want Miss, his own answer", r.Result, rec.Body)
	}
}

func TestServe_ConditionalAnsweredFromFreshObject(t *testing.T) {
	t.Parallel()
	_, c, clock := newCache(t, honest(), StoreConfig{})
	lm := "Wed, 01 Jan 2020 00:00:00 GMT"
	o := newOrigin(t, clock, fixed(200, "body", "Cache-Control: max-age=60", `ETag: W/"abc"`, "Last-Modified: "+lm))
	serve(t, c, o, "GET", "/a")
	tests := []struct {
		name    string
		headers []string
		want    int
	}{
		{"weak etag match", []string{`If-None-Match: W/"abc"`}, 304},
		{"strong spelling matches weakly", []string{`If-None-Match: "x", "abc"`}, 304},
		{"star", []string{`If-None-Match: *`}, 304},
		{"no match", []string{`If-None-Match: "zzz"`}, 200},
		{"If-None-Match wins over If-Modified-Since", []string{`If-None-Match: "zzz"`, "If-Modified-Since: " + lm}, 200},
		{"not modified since", []string{"If-Modified-Since: " + lm}, 304},
		{"modified since", []string{"If-Modified-Since: Tue, 31 Dec 2019 00:00:00 GMT"}, 200},
	}
	for _, tt := range tests {
		rec, r := serve(t, c, o, "GET", "/a", tt.headers...)
		if rec.Code != tt.want || r.Result != edge.ResultHit {
			t.Errorf("%s: %d %s, want %d Hit", tt.name, rec.Code, r.Result, tt.want)
		}
		if tt.want == 304 && (rec.Header().Get("Etag") != `W/"abc"` || rec.Body.Len() != 0) {
			t.Errorf("%s: 304 ETag %q body %q, want the ETag and no body", tt.name, rec.Header().Get("Etag"), rec.Body)
		}
	}
	if n := o.count(); n != 1 {
		t.Errorf("origin requests = %d, want 1", n)
	}
}

func TestServe_RangeFromFullObject(t *testing.T) {
	t.Parallel()
	_, c, clock := newCache(t, honest(), StoreConfig{})
	o := newOrigin(t, clock, fixed(200, "0123456789A", "Cache-Control: max-age=60", `ETag: "r"`))
	serve(t, c, o, "GET", "/a")
	tests := []struct {
		headers   []string
		code      int
		body      string
		wantRange string
	}{
		{[]string{"Range: bytes=0-1"}, 206, "01", "bytes 0-1/11"},
		{[]string{"Range: bytes=1-"}, 206, "123456789A", "bytes 1-10/11"},
		{[]string{"Range: bytes=-1"}, 206, "A", "bytes 10-10/11"},
		{[]string{"Range: bytes=5-100"}, 206, "56789A", "bytes 5-10/11"},
		{[]string{"Range: bytes=20-"}, 416, "", "bytes */11"},
		{[]string{"Range: bytes=0-1,3-4"}, 200, "0123456789A", ""},
		{[]string{"Range: lines=1-2"}, 200, "0123456789A", ""},
		{[]string{"Range: bytes=0-1", `If-Range: "r"`}, 206, "01", "bytes 0-1/11"},
		{[]string{"Range: bytes=0-1", `If-Range: "old"`}, 200, "0123456789A", ""},
	}
	for _, tt := range tests {
		rec, _ := serve(t, c, o, "GET", "/a", tt.headers...)
		if rec.Code != tt.code || rec.Body.String() != tt.body || rec.Header().Get("Content-Range") != tt.wantRange {
			t.Errorf("%q = %d %q %q, want %d %q %q", tt.headers, rec.Code, rec.Body, rec.Header().Get("Content-Range"), tt.code, tt.body, tt.wantRange)
		}
	}
	if n := o.count(); n != 1 {
		t.Errorf("origin requests = %d, want 1", n)
	}
}

func TestServe_RangeMissPassesThrough(t *testing.T) {
	t.Parallel()
	_, c, clock := newCache(t, honest(), StoreConfig{})
	o := newOrigin(t, clock, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		http.ServeContent(w, r, "", time.Time{}, strings.NewReader("0123456789"))
	})
	rec, _ := serve(t, c, o, "GET", "/a", "Range: bytes=2-3")
	if rec.Code != 206 || rec.Body.String() != "23" {
		t.Errorf("range miss = %d %q, want 206 23 from the origin", rec.Code, rec.Body)
	}
	if _, r := serve(t, c, o, "GET", "/a"); r.Result != edge.ResultMiss {
		t.Errorf("after a range miss Result = %s, want Miss (a 206 is not stored)", r.Result)
	}
}
