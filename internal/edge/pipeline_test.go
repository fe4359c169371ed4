package edge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
)

func newServer(t testing.TB, cfg Config, bs []Behavior, opts Options) *Server {
	t.Helper()
	s, err := New(cfg, bs, opts)
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	return s
}

func serve(s http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	return w
}

// errorBody decodes the edge's JSON error body.
func errorBody(t *testing.T, w *httptest.ResponseRecorder) map[string]string {
	t.Helper()
	var m map[string]string
	if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
		t.Fatalf("error body %q is not JSON: %v", w.Body.String(), err)
	}
	return m
}

func TestServeHTTP_ForwardsTheCanonicalPathAndQuery(t *testing.T) {
	t.Parallel()
	o := &fakeOrigin{}
	s := newServer(t, Config{}, []Behavior{{PathPattern: "*", Origin: o}}, Options{})
	w := serve(s, httptest.NewRequest("GET", "/a/./b//%7ec/../d%3b?x=1&y=%2F", nil))
	if w.Code != 200 {
		t.Fatalf("status = %d, want 200", w.Code)
	}
	got := o.requests()
	if len(got) != 1 || got[0].Path != "/a/b/d%3B" || got[0].Query != "x=1&y=%2F" {
		t.Fatalf("origin saw %+v, want path /a/b/d%%3B and query x=1&y=%%2F", got)
	}
}

func TestServeHTTP_RefusesBadPathsWithJSON400(t *testing.T) {
	t.Parallel()
	o := &fakeOrigin{}
	s := newServer(t, Config{}, []Behavior{{PathPattern: "*", Origin: o}}, Options{})
	for _, p := range []string{"/a%2Fb", "/a%5cb", "/a%00", "/a/..;x/b", "/%C0%AF", "/a%zz"} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RequestURI = p
		w := serve(s, r)
		if w.Code != 400 {
			t.Errorf("GET %s: status = %d, want 400", p, w.Code)
			continue
		}
		m := errorBody(t, w)
		if m["request_id"] == "" || m["request_id"] != w.Header().Get("X-Request-Id") || !strings.HasPrefix(m["error"], "bad request path") {
			t.Errorf("GET %s: body %v, header id %q, want a bad-path error carrying the request id", p, m, w.Header().Get("X-Request-Id"))
		}
		if ct, cc := w.Header().Get("Content-Type"), w.Header().Get("Cache-Control"); ct != "application/json" || cc != "no-store" {
			t.Errorf("GET %s: Content-Type %q Cache-Control %q, want application/json, no-store", p, ct, cc)
		}
	}
	if n := len(o.requests()); n != 0 {
		t.Fatalf("origin got %d requests, want none", n)
	}
}

func TestServeHTTP_MethodNotAllowedNamesAllow(t *testing.T) {
	t.Parallel()
	o := &fakeOrigin{}
	s := newServer(t, Config{}, []Behavior{
		{PathPattern: "/w/*", Origin: o, AllowedMethods: []string{"GET", "POST"}},
		{PathPattern: "*", Origin: o},
	}, Options{})
	tests := []struct {
		method, path, allow string
		want                int
	}{
		{"POST", "/r", "GET, HEAD", 405},
		{"DELETE", "/w/x", "GET, POST, HEAD", 405},
		{"POST", "/w/x", "", 200},
		{"HEAD", "/r", "", 200},
		{"get", "/r", "GET, HEAD", 405},
	}
	for _, tt := range tests {
		w := serve(s, httptest.NewRequest(tt.method, tt.path, nil))
		if w.Code != tt.want || w.Header().Get("Allow") != tt.allow {
			t.Errorf("%s %s = %d Allow %q, want %d Allow %q", tt.method, tt.path, w.Code, w.Header().Get("Allow"), tt.want, tt.allow)
		}
	}
}

func TestServeHTTP_StripsOwnedHeadersOnEveryBehavior(t *testing.T) {
	t.Parallel()
	o := &fakeOrigin{}
	var sawOwned atomic.Bool
	f := fn(func(ctx context.Context, r *Request) (*Response, error) {
		if r.HTTP.Header.Get("X-User-Id") != "" || r.HTTP.Header.Get("X-Gateway-Secret") != "" {
			sawOwned.Store(true)
		}
		if !r.Owned("X-User-Id") || !r.Owned("X-Forwarded-Port") || r.Owned("Accept") {
			t.Errorf("Owned: X-User-Id %v X-Forwarded-Port %v Accept %v, want true true false",
				r.Owned("X-User-Id"), r.Owned("X-Forwarded-Port"), r.Owned("Accept"))
		}
		return nil, nil
	})
	s := newServer(t, Config{OwnedHeaders: []string{"x-tenant"}}, []Behavior{
		{PathPattern: "/fn/*", Origin: o, Function: f},
		{PathPattern: "*", Origin: o},
	}, Options{OwnedHeaders: []string{"X-Gateway-Secret", "x-user-id"}})
	owned := []string{
		"X-Gateway-Secret", "X-User-Id", "X-Tenant", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto",
		"X-Forwarded-Port", "Forwarded", "Via", "X-Http-Method-Override", "X-Http-Method", "X-Method-Override",
		"X-Original-Url", "X-Rewrite-Url", "X-Real-Ip",
	}
	for _, path := range []string{"/fn/x", "/plain"} {
		r := httptest.NewRequest("GET", path, nil)
		for _, h := range owned {
			r.Header.Set(h, "spoofed")
		}
		r.Header.Set("X-Request-Id", "spoofed")
		r.Header.Set("Accept", "text/plain")
		if w := serve(s, r); w.Code != 200 {
			t.Fatalf("GET %s = %d, want 200", path, w.Code)
		}
	}
	if sawOwned.Load() {
		t.Fatal("the function saw an owned header sent by the client")
	}
	for _, got := range o.requests() {
		for _, h := range owned {
			if v := got.Header.Get(h); v != "" {
				t.Errorf("origin got %s: %q, want it stripped", h, v)
			}
		}
		if id := got.Header.Get("X-Request-Id"); id == "spoofed" || id == "" {
			t.Errorf("origin got X-Request-Id %q, want the edge's own", id)
		}
		if got.Header.Get("Accept") != "text/plain" {
			t.Errorf("origin lost Accept: %s", headerNames(got.Header))
		}
	}
}

func TestServeHTTP_StripsUnderscoreSpellingsOfOwnedHeaders(t *testing.T) {
	t.Parallel()
	o := &fakeOrigin{}
	s := newServer(t, Config{OwnedHeaders: []string{"x-tenant"}}, []Behavior{{PathPattern: "*", Origin: o}},
		Options{OwnedHeaders: []string{"x-user-id", "CLIENT-TOKEN"}})
	r := httptest.NewRequest("GET", "/", nil)
	// As a client writes them; net/http keeps underscores in names.
	spoofed := []string{"x_user_id", "X_USER_ID", "x-user_id", "client_token", "x_tenant", "x_forwarded_for",
		"X_Forwarded_Host", "x_real_ip", "true_client_ip", "x_original_url", "x_http_method_override"}
	for _, h := range spoofed {
		r.Header[h] = []string{"spoofed"}
	}
	r.Header["X_app_version"] = []string{"7"} // not owned in either spelling
	serve(s, r)
	got := o.requests()[0].Header
	for k, vv := range got {
		if strings.Contains(strings.Join(vv, ","), "spoofed") {
			t.Errorf("origin got %s: %q, want every underscore spelling of an owned header stripped", k, vv)
		}
	}
	if got.Get("X_app_version") != "7" {
		t.Errorf("origin got X_app_version %q, want 7 (not an owned name)", got.Get("X_app_version"))
	}
}

func TestServeHTTP_DropsRequestTrailers(t *testing.T) {
	t.Parallel()
	var trailer http.Header
	var body string
	o := originFunc(func(w http.ResponseWriter, r *Request) error {
		b, _ := io.ReadAll(r.HTTP.Body)
		body, trailer = string(b), r.HTTP.Trailer
		return nil
	})
	s := newServer(t, Config{}, []Behavior{{PathPattern: "*", Origin: o, AllowedMethods: []string{"POST"}}},
		Options{OwnedHeaders: []string{"x-user-id"}})
	r := httptest.NewRequest("POST", "/", strings.NewReader("hello"))
	r.Trailer = http.Header{"X-User-Id": {"spoofed"}, "X-Checksum": {"1"}}
	if w := serve(s, r); w.Code != http.StatusOK {
		t.Fatalf("POST / = %d, want 200", w.Code)
	}
	if body != "hello" || trailer != nil {
		t.Fatalf("origin got body %q trailer %v, want hello and no trailers", body, trailer)
	}
}

func TestServeHTTP_FunctionCannotChangeToAMethodTheBehaviorRefuses(t *testing.T) {
	t.Parallel()
	for _, m := range []string{"CONNECT", "TRACE", "DELETE"} {
		o := &fakeOrigin{}
		f := fn(func(ctx context.Context, r *Request) (*Response, error) {
			r.HTTP.Method = m
			return nil, nil
		})
		s := newServer(t, Config{}, []Behavior{{PathPattern: "*", Origin: o, Function: f, AllowedMethods: []string{"GET", "POST"}}}, Options{})
		if w := serve(s, httptest.NewRequest("GET", "/", nil)); w.Code != http.StatusInternalServerError {
			t.Errorf("function turning GET into %s = %d, want 500", m, w.Code)
		}
		if len(o.requests()) != 0 {
			t.Errorf("function turning GET into %s reached the origin", m)
		}
	}
}

func TestServeHTTP_OverrideHeadersCanBeKept(t *testing.T) {
	t.Parallel()
	o := &fakeOrigin{}
	no := false
	s := newServer(t, Config{StripOverrideHeaders: &no}, []Behavior{{PathPattern: "*", Origin: o}}, Options{})
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("X-HTTP-Method-Override", "DELETE")
	serve(s, r)
	if got := o.requests()[0].Header.Get("X-Http-Method-Override"); got != "DELETE" {
		t.Fatalf("origin got X-HTTP-Method-Override %q with strip_override_headers false, want DELETE", got)
	}
}

func TestServeHTTP_StripsHopByHopAndNominatedHeaders(t *testing.T) {
	t.Parallel()
	o := &fakeOrigin{}
	f := fn(func(ctx context.Context, r *Request) (*Response, error) {
		r.HTTP.Header.Set("X-User-Id", "alice") // as a decision would
		return nil, nil
	})
	s := newServer(t, Config{}, []Behavior{{PathPattern: "*", Origin: o, Function: f}}, Options{OwnedHeaders: []string{"X-User-Id"}})
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Connection", "keep-alive, X-Secret, x-user-id")
	r.Header.Set("X-Secret", "s")
	r.Header.Set("Keep-Alive", "timeout=5")
	r.Header.Set("Proxy-Authorization", "Basic eA==")
	r.Header.Set("Proxy-Connection", "keep-alive")
	r.Header.Set("Upgrade", "h2c")
	r.Header.Set("Te", "trailers, deflate")
	r.Header.Set("Trailer", "X-T")
	serve(s, r)
	got := o.requests()[0].Header
	for _, h := range []string{"Connection", "X-Secret", "Keep-Alive", "Proxy-Authorization", "Proxy-Connection", "Upgrade", "Trailer"} {
		if v := got.Get(h); v != "" {
			t.Errorf("origin got %s: %q, want it stripped", h, v)
		}
	}
	if got.Get("Te") != "trailers" {
		t.Errorf("origin got Te %q, want trailers", got.Get("Te"))
	}
	if got.Get("X-User-Id") != "alice" {
		t.Errorf("origin got X-User-Id %q, want the function's alice (Connection must not remove it)", got.Get("X-User-Id"))
	}
}

func TestServeHTTP_KeepsAWebSocketUpgrade(t *testing.T) {
	t.Parallel()
	o := &fakeOrigin{}
	s := newServer(t, Config{}, []Behavior{{PathPattern: "*", Origin: o}}, Options{})
	r := httptest.NewRequest("GET", "/ws", nil)
	r.Header.Set("Connection", "keep-alive, Upgrade, X-Drop")
	r.Header.Set("Upgrade", "websocket")
	r.Header.Set("X-Drop", "1")
	r.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	serve(s, r)
	got := o.requests()[0].Header
	want := map[string]string{"Connection": "Upgrade", "Upgrade": "websocket", "X-Drop": "", "Sec-Websocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}
	for k, v := range want {
		if got.Get(k) != v {
			t.Errorf("origin got %s %q, want %q", k, got.Get(k), v)
		}
	}
}

func TestServeHTTP_FunctionDenyIsSentVerbatim(t *testing.T) {
	t.Parallel()
	o := &fakeOrigin{}
	log := &recLog{}
	f := fn(func(ctx context.Context, r *Request) (*Response, error) {
		return &Response{Status: 401, Header: http.Header{
			"www-authenticate": {`Bearer error="invalid_token"`},
			"Content-Type":     {"application/json"},
			"Connection":       {"X-Hidden"},
			"X-Hidden":         {"1"},
			"Keep-Alive":       {"timeout=1"},
			"Content-Length":   {"999"},
			"X-Request-Id":     {"function-made"},
		}, Body: []byte(`{"denied":true}`)}, nil
	})
	s := newServer(t, Config{}, []Behavior{{PathPattern: "*", Origin: o, Function: f}}, Options{AccessLog: log})
	w := serve(s, httptest.NewRequest("GET", "/", nil))
	if w.Code != 401 || w.Body.String() != `{"denied":true}` {
		t.Fatalf("deny = %d %q, want 401 {\"denied\":true}", w.Code, w.Body.String())
	}
	h := w.Header()
	if h.Get("Www-Authenticate") != `Bearer error="invalid_token"` || h.Get("Content-Type") != "application/json" ||
		h.Get("X-Hidden") != "" || h.Get("Keep-Alive") != "" || h.Get("Content-Length") != "15" {
		t.Fatalf("deny headers = %v, want the function's minus hop-by-hop, Content-Length 15", h)
	}
	if id := h.Get("X-Request-Id"); id == "" || id == "function-made" {
		t.Fatalf("X-Request-Id = %q, want the edge's", id)
	}
	if len(o.requests()) != 0 {
		t.Fatal("a denied request reached the origin")
	}
	if recs := log.records(); len(recs) != 1 || recs[0].Result != ResultFunctionGeneratedResponse || recs[0].Rec.Status != 401 {
		t.Fatalf("access log = %+v, want one FunctionGeneratedResponse 401", recs)
	}
}

func TestServeHTTP_FunctionErrors(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&lockedWriter{w: &buf}, nil))
	tests := []struct {
		name string
		f    fn
		want int
		msg  string
	}{
		{"edge error keeps status", func(context.Context, *Request) (*Response, error) {
			return nil, &Error{Status: 502, Msg: "no decision", Err: errors.New("dial tcp: refused")}
		}, 502, "no decision"},
		{"wrapped edge error", func(context.Context, *Request) (*Response, error) {
			return nil, errors.Join(errors.New("ctx"), &Error{Status: 429, Msg: "slow down", Header: http.Header{"Retry-After": {"3"}}})
		}, 429, "slow down"},
		{"plain error is 500", func(context.Context, *Request) (*Response, error) {
			return nil, errors.New("secret internals")
		}, 500, "internal error"},
		{"panic is 500", func(context.Context, *Request) (*Response, error) {
			panic("function bug")
		}, 500, "internal error"},
		{"bad status is 500", func(context.Context, *Request) (*Response, error) {
			return &Response{Status: 101}, nil
		}, 500, "internal error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := &fakeOrigin{}
			s := newServer(t, Config{}, []Behavior{{PathPattern: "*", Origin: o, Function: tt.f, FunctionName: "authorize"}}, Options{Logger: logger})
			w := serve(s, httptest.NewRequest("GET", "/", nil))
			if w.Code != tt.want {
				t.Fatalf("status = %d, want %d", w.Code, tt.want)
			}
			if m := errorBody(t, w); m["error"] != tt.msg {
				t.Fatalf("error = %q, want %q", m["error"], tt.msg)
			}
			if len(o.requests()) != 0 {
				t.Fatal("the request reached the origin after a function failure")
			}
			if tt.want == 429 && w.Header().Get("Retry-After") != "3" {
				t.Fatalf("Retry-After = %q, want 3", w.Header().Get("Retry-After"))
			}
		})
	}
	t.Cleanup(func() {
		if !strings.Contains(buf.String(), "function bug") {
			t.Errorf("log %q does not record the panic", buf.String())
		}
	})
}

func TestServeHTTP_FunctionMustLeaveACanonicalPath(t *testing.T) {
	t.Parallel()
	o := &fakeOrigin{}
	f := fn(func(ctx context.Context, r *Request) (*Response, error) {
		r.HTTP.URL.Path = "/a/../admin"
		r.HTTP.URL.RawPath = ""
		return nil, nil
	})
	s := newServer(t, Config{}, []Behavior{{PathPattern: "*", Origin: o, Function: f}}, Options{})
	if w := serve(s, httptest.NewRequest("GET", "/a", nil)); w.Code != 500 {
		t.Fatalf("status = %d, want 500", w.Code)
	}
	if len(o.requests()) != 0 {
		t.Fatal("a non-canonical rewritten path reached the origin")
	}
}

func TestServeHTTP_FunctionRunsBeforeEveryCacheHit(t *testing.T) {
	t.Parallel()
	o := &fakeOrigin{body: "cached body"}
	var calls atomic.Int32
	allow := true
	f := fn(func(ctx context.Context, r *Request) (*Response, error) {
		calls.Add(1)
		if !allow {
			return &Response{Status: 403}, nil
		}
		return nil, nil
	})
	log := &recLog{}
	s := newServer(t, Config{}, []Behavior{{PathPattern: "*", Origin: o, Function: f, Cache: newMemCache()}}, Options{AccessLog: log})
	for range 3 {
		if w := serve(s, httptest.NewRequest("GET", "/doc", nil)); w.Body.String() != "cached body" {
			t.Fatalf("body = %q, want cached body", w.Body.String())
		}
	}
	allow = false
	if w := serve(s, httptest.NewRequest("GET", "/doc", nil)); w.Code != 403 {
		t.Fatalf("denied request on a cached object = %d, want 403", w.Code)
	}
	if calls.Load() != 4 || len(o.requests()) != 1 {
		t.Fatalf("function calls %d origin requests %d, want 4 and 1", calls.Load(), len(o.requests()))
	}
	var results []Result
	for _, r := range log.records() {
		results = append(results, r.Result)
	}
	want := []Result{ResultMiss, ResultHit, ResultHit, ResultFunctionGeneratedResponse}
	if diff := cmp.Diff(want, results); diff != "" {
		t.Fatalf("results (-want +got):\n%s", diff)
	}
}

func TestServeHTTP_OriginErrorIsRendered(t *testing.T) {
	t.Parallel()
	o := &fakeOrigin{err: &Error{Status: 504, Msg: "origin timeout", Err: context.DeadlineExceeded}}
	log := &recLog{}
	s := newServer(t, Config{}, []Behavior{{PathPattern: "*", Origin: o}}, Options{AccessLog: log})
	w := serve(s, httptest.NewRequest("GET", "/", nil))
	if w.Code != 504 || errorBody(t, w)["error"] != "origin timeout" {
		t.Fatalf("= %d %q, want 504 origin timeout", w.Code, w.Body.String())
	}
	recs := log.records()
	if len(recs) != 1 || recs[0].Result != ResultError || !errors.Is(recs[0].Rec.Err, context.DeadlineExceeded) {
		t.Fatalf("access log = %+v, want Result Error with the cause", recs)
	}
}

func TestServeHTTP_ViewerResponseFunction(t *testing.T) {
	t.Parallel()
	o := &fakeOrigin{body: "secret-ish body", header: http.Header{"X-Origin": {"1"}}}
	rf := respFn(func(ctx context.Context, r *Request, resp *Response) (*Response, error) {
		if resp.Status != 200 || string(resp.Body) != "secret-ish body" || resp.Header.Get("X-Origin") != "1" {
			t.Errorf("viewer-response saw %d %q %v", resp.Status, resp.Body, resp.Header)
		}
		return &Response{Status: 200, Header: http.Header{"X-Redacted": {"yes"}}, Body: []byte("redacted")}, nil
	})
	s := newServer(t, Config{}, []Behavior{{PathPattern: "*", Origin: o, ResponseFunction: rf}}, Options{})
	w := serve(s, httptest.NewRequest("GET", "/", nil))
	if w.Body.String() != "redacted" || w.Header().Get("X-Redacted") != "yes" || w.Header().Get("X-Origin") != "" {
		t.Fatalf("= %q %v, want the function's response", w.Body.String(), w.Header())
	}

	big := &fakeOrigin{body: strings.Repeat("x", 2048)}
	s = newServer(t, Config{ResponseBufferMax: 1024}, []Behavior{{PathPattern: "*", Origin: big, ResponseFunction: rf}}, Options{})
	if w := serve(s, httptest.NewRequest("GET", "/", nil)); w.Code != 502 {
		t.Fatalf("oversized response for the viewer-response function = %d, want 502", w.Code)
	}
}

func TestServeHTTP_RequestID(t *testing.T) {
	t.Parallel()
	o := &fakeOrigin{}
	cfg := Config{TrustedProxies: []string{"10.0.0.0/8"}}
	s := newServer(t, cfg, []Behavior{{PathPattern: "*", Origin: o}}, Options{})
	ids := map[string]bool{}
	for range 100 {
		id := serve(s, httptest.NewRequest("GET", "/", nil)).Header().Get("X-Request-Id")
		if id == "" || ids[id] {
			t.Fatalf("request id %q empty or repeated", id)
		}
		ids[id] = true
	}
	tests := []struct {
		name, remote, inbound string
		reused                bool
	}{
		{"trusted peer", "10.1.2.3:5555", "abc-123", true},
		{"untrusted peer", "192.0.2.1:5555", "abc-123", false},
		{"trusted but unsafe", "10.1.2.3:5555", "abc 123\"", false},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tt.remote
		r.Header.Set("X-Request-Id", tt.inbound)
		w := serve(s, r)
		got := w.Header().Get("X-Request-Id")
		fwd := o.requests()[len(o.requests())-1].Header.Get("X-Request-Id")
		if (got == tt.inbound) != tt.reused || fwd != got {
			t.Errorf("%s: response id %q, forwarded %q, inbound %q, want reused=%v and both equal", tt.name, got, fwd, tt.inbound, tt.reused)
		}
	}
}

func TestServeHTTP_TrustedProxyReportsTheViewer(t *testing.T) {
	t.Parallel()
	var got Request
	f := fn(func(ctx context.Context, r *Request) (*Response, error) {
		got = Request{Client: r.Client, Peer: r.Peer, ForwardedFor: r.ForwardedFor, Scheme: r.Scheme, Host: r.Host}
		return nil, nil
	})
	s := newServer(t, Config{TrustedProxies: []string{"10.0.0.0/8", "::1"}}, []Behavior{{PathPattern: "*", Origin: nopOrigin{}, Function: f}}, Options{})
	tests := []struct {
		name, remote, xff, proto, host string
		client, forFor, scheme, vhost  string
	}{
		{"untrusted", "192.0.2.9:1000", "1.1.1.1", "https", "spoof.example", "192.0.2.9:1000", "", "http", "edge.example"},
		{"trusted", "10.0.0.1:1000", "203.0.113.7, 10.0.0.2", "https", "api.example", "203.0.113.7:0", "203.0.113.7, 10.0.0.2", "https", "api.example"},
		{"trusted spoofed left", "10.0.0.1:1000", "6.6.6.6, 203.0.113.7", "", "", "203.0.113.7:0", "6.6.6.6, 203.0.113.7", "http", "edge.example"},
		{"trusted garbage", "10.0.0.1:1000", "nonsense, 10.0.0.3", "gopher", "bad host/", "10.0.0.3:0", "nonsense, 10.0.0.3", "http", "edge.example"},
		{"trusted v6 mapped", "[::ffff:10.0.0.1]:1000", "203.0.113.8", "", "", "203.0.113.8:0", "203.0.113.8", "http", "edge.example"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "http://edge.example/", nil)
		r.RemoteAddr = tt.remote
		r.Header.Set("X-Forwarded-For", tt.xff)
		if tt.proto != "" {
			r.Header.Set("X-Forwarded-Proto", tt.proto)
		}
		if tt.host != "" {
			r.Header.Set("X-Forwarded-Host", tt.host)
		}
		serve(s, r)
		if got.Client.String() != tt.client || got.ForwardedFor != tt.forFor || got.Scheme != tt.scheme || got.Host != tt.vhost {
			t.Errorf("%s: Client %s ForwardedFor %q Scheme %q Host %q, want %s %q %q %q",
				tt.name, got.Client, got.ForwardedFor, got.Scheme, got.Host, tt.client, tt.forFor, tt.scheme, tt.vhost)
		}
	}
}

func TestServeHTTP_Limits(t *testing.T) {
	t.Parallel()
	o := &fakeOrigin{}
	cfg := Config{Limits: Limits{MaxBodyBytes: 10, MaxURIBytes: 64}}
	s := newServer(t, cfg, []Behavior{{PathPattern: "*", Origin: o, AllowedMethods: []string{"GET", "POST", "OPTIONS"}}}, Options{})
	long := httptest.NewRequest("GET", "/"+strings.Repeat("a", 64), nil)
	declared := httptest.NewRequest("POST", "/", strings.NewReader(strings.Repeat("b", 11)))
	undeclared := httptest.NewRequest("POST", "/", strings.NewReader(strings.Repeat("b", 11)))
	undeclared.ContentLength = -1
	star := httptest.NewRequest("OPTIONS", "/", nil)
	star.RequestURI = "*"
	connect := httptest.NewRequest("CONNECT", "/", nil)
	connect.RequestURI = "example.com:443"
	authority := httptest.NewRequest("GET", "/", nil)
	authority.RequestURI = "example.com:443"
	tests := []struct {
		name string
		r    *http.Request
		want int
	}{
		{"uri too long", long, 414},
		{"declared body too large", declared, 413},
		{"undeclared body too large", undeclared, 413},
		{"asterisk-form", star, 400},
		{"connect", connect, 405},
		{"authority-form", authority, 400},
		{"small body passes", httptest.NewRequest("POST", "/", strings.NewReader("ok")), 200},
	}
	for _, tt := range tests {
		w := serve(s, tt.r)
		if w.Code != tt.want {
			t.Errorf("%s: status = %d, want %d (%s)", tt.name, w.Code, tt.want, w.Body.String())
		}
		if w.Header().Get("X-Request-Id") == "" {
			t.Errorf("%s: no X-Request-Id", tt.name)
		}
	}
	if got := o.requests(); len(got) != 1 || got[0].Body != "ok" {
		t.Fatalf("origin saw %+v, want only the small body", got)
	}
}

func TestServeHTTP_AbsoluteFormIsMatchedByPathOnly(t *testing.T) {
	t.Parallel()
	o := &fakeOrigin{}
	s := newServer(t, Config{}, []Behavior{
		{PathPattern: "/admin/*", Origin: nopOrigin{}, Function: fn(func(context.Context, *Request) (*Response, error) {
			return &Response{Status: 403}, nil
		})},
		{PathPattern: "*", Origin: o},
	}, Options{})
	r := httptest.NewRequest("GET", "http://other.example/public/../admin/x?q=1", nil)
	if w := serve(s, r); w.Code != 403 {
		t.Fatalf("absolute-form into /admin = %d, want 403 (matched by its canonical path)", w.Code)
	}
	r = httptest.NewRequest("GET", "http://other.example/public/x?q=1", nil)
	serve(s, r)
	got := o.requests()
	if len(got) != 1 || got[0].Path != "/public/x" || got[0].Query != "q=1" {
		t.Fatalf("origin saw %+v, want /public/x?q=1", got)
	}
}

func TestServeHTTP_AccessLogRecord(t *testing.T) {
	t.Parallel()
	log := &recLog{}
	o := &fakeOrigin{body: "hello"}
	s := newServer(t, Config{}, []Behavior{{PathPattern: "*", Origin: o, AllowedMethods: []string{"POST"}}}, Options{AccessLog: log})
	w := serve(s, httptest.NewRequest("POST", "/x", strings.NewReader("12345")))
	recs := log.records()
	if len(recs) != 1 {
		t.Fatalf("access log has %d records, want 1", len(recs))
	}
	rec := recs[0]
	if rec.ID != w.Header().Get("X-Request-Id") || rec.Rec.Status != 200 || rec.Behavior != "*" || rec.Result != ResultMiss {
		t.Fatalf("record = %+v, want id, 200, behavior *, Miss", rec)
	}
	if rec.Rec.BytesIn < int64(5+len("POST /x HTTP/1.1")) || rec.Rec.BytesOut < 5 || rec.Rec.TimeTaken <= 0 || rec.Rec.TimeToFirstB <= 0 || rec.Rec.TimeToFirstB > rec.Rec.TimeTaken {
		t.Fatalf("record = %+v, want bytes and timings filled", rec.Rec)
	}
}

func TestServeHTTP_PipelinePanicIs500(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{}, []Behavior{{PathPattern: "*", Origin: originFunc(func(w http.ResponseWriter, r *Request) error {
		panic("origin bug")
	})}}, Options{})
	w := serve(s, httptest.NewRequest("GET", "/", nil))
	if w.Code != 500 || errorBody(t, w)["error"] != "internal error" {
		t.Fatalf("= %d %q, want 500 internal error", w.Code, w.Body.String())
	}
}

func TestUpdate_SwapsBehaviors(t *testing.T) {
	t.Parallel()
	a, b := &fakeOrigin{body: "a"}, &fakeOrigin{body: "b"}
	s := newServer(t, Config{}, []Behavior{{PathPattern: "*", Origin: a}}, Options{})
	if w := serve(s, httptest.NewRequest("GET", "/x", nil)); w.Body.String() != "a" {
		t.Fatalf("before Update body = %q, want a", w.Body.String())
	}
	if err := s.Update([]Behavior{{PathPattern: "/x", Origin: b}}, nil); err == nil {
		t.Fatal("Update without a default behavior = nil error, want an error")
	}
	if w := serve(s, httptest.NewRequest("GET", "/x", nil)); w.Body.String() != "a" {
		t.Fatalf("after a refused Update body = %q, want a (old set kept)", w.Body.String())
	}
	if err := s.Update([]Behavior{{PathPattern: "/x", Origin: b}, {PathPattern: "*", Origin: a}}, []string{"X-New"}); err != nil {
		t.Fatalf("Update = %v", err)
	}
	if w := serve(s, httptest.NewRequest("GET", "/x", nil)); w.Body.String() != "b" {
		t.Fatalf("after Update body = %q, want b", w.Body.String())
	}
	if !slices.Contains(s.OwnedHeaders(), "X-New") {
		t.Fatalf("OwnedHeaders() = %q, want X-New after Update", s.OwnedHeaders())
	}
}

func TestMetrics_CountByBehaviorAndResult(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	s := newServer(t, Config{}, []Behavior{
		{PathPattern: "/api/*", OriginID: "api", Origin: &fakeOrigin{}},
		{PathPattern: "*", OriginID: "web", Origin: &fakeOrigin{}},
	}, Options{Registerer: reg})
	serve(s, httptest.NewRequest("GET", "/api/1", nil))
	serve(s, httptest.NewRequest("GET", "/api/2", nil))
	serve(s, httptest.NewRequest("POST", "/x", nil))
	r := httptest.NewRequest("GET", "/", nil)
	r.RequestURI = "/%2F"
	serve(s, r)
	// A second server on the same registry reuses the collectors.
	newServer(t, Config{}, []Behavior{{PathPattern: "*", Origin: nopOrigin{}}}, Options{Registerer: reg})

	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "edgeward_edge_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			if v := m.GetCounter().GetValue(); v > 0 {
				key := ""
				for _, l := range m.GetLabel() {
					key += l.GetName() + "=" + l.GetValue() + " "
				}
				got[strings.TrimSpace(key)] = v
			}
		}
	}
	want := map[string]float64{
		"behavior=/api/* origin=api result=Miss status_class=2xx": 2,
		"behavior=* origin=web result=Error status_class=4xx":     1,
		"behavior=- origin=- result=Error status_class=4xx":       1,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("requests_total (-want +got):\n%s", diff)
	}
}

// originFunc adapts a function literal to Origin.
type originFunc func(w http.ResponseWriter, r *Request) error

func (f originFunc) Forward(w http.ResponseWriter, r *Request) error { return f(w, r) }

// lockedWriter serialises writes from parallel tests.
type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
