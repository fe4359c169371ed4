package edge

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// policyServer serves one "*" behavior with policy p in front of o, with
// a viewer-request function that denies every request without a token
// (so a preflight answered at the edge is seen not to reach it).
func policyServer(t *testing.T, cfg ResponseHeadersConfig, o *fakeOrigin, cache Cache) (*Server, *int) {
	t.Helper()
	p, err := NewResponseHeaders(cfg)
	if err != nil {
		t.Fatalf("NewResponseHeaders: %v", err)
	}
	calls := new(int)
	deny := fn(func(_ context.Context, r *Request) (*Response, error) {
		*calls++
		if r.HTTP.Header.Get("Authorization") == "" {
			return &Response{Status: http.StatusUnauthorized}, nil
		}
		return nil, nil
	})
	return newServer(t, Config{}, []Behavior{{
		PathPattern: "*", AllowedMethods: []string{"GET", "HEAD", "OPTIONS", "POST"}, OriginID: "o", Origin: o,
		FunctionName: "deny", Function: deny, Cache: cache, ResponseHeaders: p,
	}}, Options{}), calls
}

func req(method, target string, headers ...string) *http.Request {
	r := httptest.NewRequest(method, "http://edge.example"+target, nil)
	r.RequestURI = target
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		r.Header.Add(k, strings.TrimSpace(v))
	}
	return r
}

func TestResponseHeaders_PreflightAtTheEdge(t *testing.T) {
	t.Parallel()
	cfg := ResponseHeadersConfig{CORS: &CORSConfig{
		AllowOrigins: []string{"https://app.example"}, AllowMethods: []string{"GET", "POST"},
		AllowHeaders: []string{"Authorization", "Content-Type"}, MaxAge: 10 * time.Minute, AllowCredentials: true,
	}}
	tests := []struct {
		name    string
		headers []string
		status  int
		want    map[string]string
	}{
		{"allowed preflight: 204 with every CORS header", []string{"Origin: https://app.example", "Access-Control-Request-Method: POST"}, 204, map[string]string{
			"Access-Control-Allow-Origin": "https://app.example", "Access-Control-Allow-Methods": "GET, POST",
			"Access-Control-Allow-Headers": "Authorization, Content-Type", "Access-Control-Max-Age": "600",
			"Access-Control-Allow-Credentials": "true", "Vary": "Origin"}},
		{"other origin: 403 without CORS headers", []string{"Origin: https://evil.example", "Access-Control-Request-Method: POST"}, 403, map[string]string{"Access-Control-Allow-Origin": ""}},
		{"method not allowed: 403", []string{"Origin: https://app.example", "Access-Control-Request-Method: DELETE"}, 403, map[string]string{"Access-Control-Allow-Origin": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := &fakeOrigin{}
			s, calls := policyServer(t, cfg, o, nil)
			w := serve(s, req("OPTIONS", "/api", tt.headers...))
			if w.Code != tt.status {
				t.Fatalf("preflight status = %d, want %d", w.Code, tt.status)
			}
			for k, v := range tt.want {
				if got := w.Header().Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			if *calls != 0 || len(o.requests()) != 0 {
				t.Errorf("preflight reached the function %d times and the origin %d times, want 0", *calls, len(o.requests()))
			}
		})
	}
	// Not a preflight (no Access-Control-Request-Method): the function runs.
	o := &fakeOrigin{}
	s, calls := policyServer(t, cfg, o, nil)
	if w := serve(s, req("OPTIONS", "/api", "Origin: https://app.example")); w.Code != http.StatusUnauthorized || *calls != 1 {
		t.Errorf("plain OPTIONS = %d after %d function calls, want 401 after 1", w.Code, *calls)
	}
}

func TestResponseHeaders_AppliedToAnswers(t *testing.T) {
	t.Parallel()
	sampling := 100.0
	cfg := ResponseHeadersConfig{
		CORS: &CORSConfig{AllowOrigins: []string{"*"}, ExposeHeaders: []string{"X-Total"}, Preflight: PreflightOrigin},
		Security: SecurityHeaders{
			ContentTypeOptions: &HeaderValue{Value: "nosniff", Override: true},
			FrameOptions:       &HeaderValue{Value: "SAMEORIGIN"},
		},
		Custom:       []CustomHeader{{Name: "X-Edge", Value: "edgeward"}, {Name: "X-Team", Value: "ours", Override: true}},
		Remove:       []string{"Server", "X-Powered-By"},
		ServerTiming: &ServerTimingConfig{Enabled: true, SamplingRate: &sampling},
	}
	o := &fakeOrigin{header: http.Header{
		"X-Frame-Options": {"DENY"}, "X-Content-Type-Options": {"sniff-me"}, "Server": {"nginx"},
		"X-Powered-By": {"php"}, "X-Team": {"theirs"},
	}}
	for _, c := range []struct {
		name  string
		cache Cache
	}{{"no cache", nil}, {"cache hit", newMemCache()}} {
		s, _ := policyServer(t, cfg, o, c.cache)
		var w *httptest.ResponseRecorder
		for range 2 { // the second is a hit on the cached behavior
			w = serve(s, req("GET", "/api", "Origin: https://any.example", "Authorization: Bearer t"))
		}
		want := map[string]string{
			"X-Frame-Options":               "DENY",    // origin's kept
			"X-Content-Type-Options":        "nosniff", // override
			"X-Edge":                        "edgeward",
			"X-Team":                        "ours",
			"Server":                        "",
			"X-Powered-By":                  "",
			"Access-Control-Allow-Origin":   "*",
			"Access-Control-Expose-Headers": "X-Total",
			"Access-Control-Allow-Methods":  "",
		}
		for k, v := range want {
			if got := w.Header().Get(k); got != v {
				t.Errorf("%s: %s = %q, want %q", c.name, k, got, v)
			}
		}
		if st := w.Header().Get("Server-Timing"); !strings.Contains(st, `cdn-rid;desc="`) || !strings.HasPrefix(st, "cdn-cache-") {
			t.Errorf("%s: Server-Timing = %q, want the cache result and request id", c.name, st)
		}
	}
	// Without Origin, no CORS headers.
	s, _ := policyServer(t, cfg, o, nil)
	if w := serve(s, req("GET", "/api", "Authorization: Bearer t")); w.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("non-CORS request got Access-Control-Allow-Origin %q", w.Header().Get("Access-Control-Allow-Origin"))
	}
}

func TestResponseHeadersConfig_Validate(t *testing.T) {
	t.Parallel()
	bad := -1.0
	cfg := ResponseHeadersConfig{
		CORS:         &CORSConfig{AllowOrigins: []string{"*", "app.example"}, AllowCredentials: true, Preflight: "somewhere", MaxAge: -time.Second},
		Security:     SecurityHeaders{FrameOptions: &HeaderValue{Value: ""}},
		Custom:       []CustomHeader{{Name: "X-Request-Id", Value: "x"}, {Name: "bad name", Value: "v\n"}},
		Remove:       []string{"Content-Length"},
		ServerTiming: &ServerTimingConfig{Enabled: true, SamplingRate: &bad},
	}
	err := cfg.Validate()
	if err == nil {
		t.Fatal("Validate() = nil, want errors")
	}
	for _, want := range []string{
		"cors.allow_origins[1]", "cors.allow_credentials", "cors.preflight", "cors.max_age",
		"security.frame_options.value", "custom[0].name", "custom[1].name", "custom[1].value", "remove[0]",
		"server_timing.sampling_rate",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want a problem at %s", err, want)
		}
	}
}
