package authorizer

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sony/gobreaker/v2"

	"github.com/edgeward/edgeward/internal/edge"
	"github.com/edgeward/edgeward/internal/sideband"
	"github.com/edgeward/edgeward/internal/sidebandtest"
	"github.com/edgeward/edgeward/internal/testkit"
)

func TestAuthorize_SendsExactRequestJSON(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, sidebandtest.Allow(nil))
	r := viewerRequest("POST", "https://api.example.com:8443/orders/7?expand=items&x=%20y", `{"qty":2}`,
		"Authorization", "Bearer tok", "Content-Type", "application/json", "X-Tag", "one", "X-Tag", "two")
	r.HTTP.ProtoMajor, r.HTTP.ProtoMinor = 2, 0

	resp, err := h.a.ViewerRequest(context.Background(), r)
	if resp != nil || err != nil {
		t.Fatalf("ViewerRequest() = %v, %v, want an allow", resp, err)
	}
	calls := h.srv.Calls()
	if len(calls) != 1 {
		t.Fatalf("calls = %d, want 1", len(calls))
	}
	c := calls[0]
	if c.Method != "POST" || c.Path != testEnvPath+"/sideband/request" {
		t.Errorf("call = %s %s, want POST %s/sideband/request", c.Method, c.Path, testEnvPath)
	}
	for name, want := range map[string]string{
		"Client-Token": testCredential, "Content-Type": "application/json", "Accept": "application/json",
	} {
		if got := c.Header.Get(name); got != want {
			t.Errorf("sideband call header %s = %q, want %q", name, got, want)
		}
	}
	var got map[string]any
	if err := json.Unmarshal(c.Body, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"source_ip":    "203.0.113.7",
		"source_port":  51234.0,
		"method":       "POST",
		"url":          "https://api.example.com:8443/orders/7?expand=items&x=%20y",
		"http_version": "2.0",
		"headers": []any{
			map[string]any{"host": "api.example.com:8443"},
			map[string]any{"authorization": "Bearer tok"},
			map[string]any{"content-type": "application/json"},
			map[string]any{"x-tag": "one"},
			map[string]any{"x-tag": "two"},
		},
		"body": `{"qty":2}`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("request-phase body mismatch (-want +got):\n%s", diff)
	}
	// The body was read to be sent, and still reaches the origin whole.
	b, _ := io.ReadAll(r.HTTP.Body)
	if string(b) != `{"qty":2}` || r.HTTP.ContentLength != int64(len(b)) {
		t.Errorf("origin body = %q (length %d), want the original", b, r.HTTP.ContentLength)
	}
}

func TestAuthorize_BodyOnlyForConfiguredTypesAndSize(t *testing.T) {
	t.Parallel()
	long := `{"pad":"` + strings.Repeat("x", 200) + `"}`
	tests := []struct {
		name, ctype, body string
		wantSent          bool
	}{
		{"json", "application/json; charset=utf-8", `{"a":1}`, true},
		{"form not configured", "application/x-www-form-urlencoded", "a=1", false},
		{"text range", "text/plain", "hello", true},
		{"over max_bytes", "application/json", long, false},
		{"not UTF-8", "application/json", "\xff\xfe", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, func(c *Config) {
				c.IncludeBody = IncludeBody{ContentTypes: []string{"application/json", "text/*"}, MaxBytes: 100}
			}, sidebandtest.Allow(nil))
			r := viewerRequest("POST", "https://api.example.com/x", tt.body, "Content-Type", tt.ctype)
			if resp, err := h.a.ViewerRequest(context.Background(), r); resp != nil || err != nil {
				t.Fatalf("ViewerRequest() = %v, %v, want an allow", resp, err)
			}
			var sent sideband.Request
			if err := h.srv.Calls()[0].Decode(&sent); err != nil {
				t.Fatal(err)
			}
			if got := sent.Body != nil; got != tt.wantSent {
				t.Errorf("body sent = %v, want %v", got, tt.wantSent)
			}
			if got, _ := io.ReadAll(r.HTTP.Body); string(got) != tt.body {
				t.Errorf("origin body = %q, want %q", got, tt.body)
			}
		})
	}
}

func TestAuthorize_AllowAppliesDiff(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, sidebandtest.Allow(func(rep *sideband.Reply) {
		rep.Method = "PUT"
		rep.URL = "https://api.example.com:443/v2/orders/7?expand=all"
		var hs sideband.Headers
		for _, e := range rep.Headers {
			switch e.Name {
			case "authorization": // removed
			case "x-tag":
				if e.Value == "one" {
					hs = append(hs, sideband.Header{Name: "X-Tag", Value: "changed"})
				}
			default:
				hs = append(hs, e)
			}
		}
		hs = append(hs,
			sideband.Header{Name: "x-user-id", Value: "user-42"},
			sideband.Header{Name: "client-token", Value: "planted"},   // never set
			sideband.Header{Name: "transfer-encoding", Value: "gzip"}, // never set
		)
		rep.Headers = hs
		body := `{"qty":3}`
		rep.Body = &body
		rep.SourceIP = "10.0.0.1" // ignored
	}))
	r := viewerRequest("POST", "https://api.example.com/orders/7?expand=items", `{"qty":2}`,
		"Authorization", "Bearer tok", "Content-Type", "application/json", "X-Tag", "one", "X-Tag", "two", "Accept", "*/*")
	if resp, err := h.a.ViewerRequest(context.Background(), r); resp != nil || err != nil {
		t.Fatalf("ViewerRequest() = %v, %v, want an allow", resp, err)
	}
	got := r.HTTP
	if got.Method != "PUT" || got.URL.Path != "/v2/orders/7" || got.URL.RawQuery != "expand=all" || got.Host != "api.example.com" {
		t.Errorf("forwarded = %s %s ? %s (host %s), want PUT /v2/orders/7 ? expand=all (host api.example.com)",
			got.Method, got.URL.Path, got.URL.RawQuery, got.Host)
	}
	wantHeader := http.Header{
		"Content-Type": {"application/json"},
		"X-Tag":        {"changed"},
		"X-User-Id":    {"user-42"},
		"Accept":       {"*/*"},
	}
	if diff := cmp.Diff(wantHeader, got.Header); diff != "" {
		t.Errorf("forwarded headers mismatch (-want +got):\n%s", diff)
	}
	b, _ := io.ReadAll(got.Body)
	if string(b) != `{"qty":3}` || got.ContentLength != 9 {
		t.Errorf("forwarded body = %q (length %d), want {\"qty\":3} (9)", b, got.ContentLength)
	}
	if r.Client.Addr().String() != "203.0.113.7" {
		t.Errorf("client address changed to %s; source_ip changes must be ignored", r.Client.Addr())
	}
}

func TestAuthorize_UnchangedEchoLeavesRequestAlone(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, sidebandtest.Allow(nil))
	r := viewerRequest("GET", "http://api.example.com/a%3Bb/c?q=1", "", "X-A", "1", "X-A", "2")
	before := r.HTTP.Clone(context.Background())
	if resp, err := h.a.ViewerRequest(context.Background(), r); resp != nil || err != nil {
		t.Fatalf("ViewerRequest() = %v, %v, want an allow", resp, err)
	}
	if r.HTTP.Method != before.Method || r.HTTP.URL.String() != before.URL.String() || !cmp.Equal(r.HTTP.Header, before.Header) {
		t.Errorf("echo changed the request: %s %s %v, want %s %s %v",
			r.HTTP.Method, r.HTTP.URL, r.HTTP.Header, before.Method, before.URL, before.Header)
	}
}

// TestAuthorize_BadAllowIs502 pins that an allow the edge cannot apply
// faithfully is no decision, and that it changes nothing.
func TestAuthorize_BadAllowIs502(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		url  string
	}{
		{"dot segments", "https://api.example.com/a/../admin"},
		{"duplicate slashes", "https://api.example.com//admin"},
		{"encoded slash", "https://api.example.com/a%2Fb"},
		{"space in query", "https://api.example.com/a?x=1 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, nil, sidebandtest.Allow(func(rep *sideband.Reply) {
				rep.URL = tt.url
				rep.Headers = append(rep.Headers, sideband.Header{Name: "x-user-id", Value: "u"})
			}))
			r := viewerRequest("GET", "https://api.example.com/a", "")
			resp, err := h.a.ViewerRequest(context.Background(), r)
			if e := asEdgeError(err); resp != nil || e == nil || e.Status != http.StatusBadGateway {
				t.Fatalf("ViewerRequest(allow to %q) = %v, %v, want a 502", tt.url, resp, err)
			}
			if r.HTTP.URL.Path != "/a" || r.HTTP.Header.Get("X-User-Id") != "" {
				t.Errorf("a refused allow changed the request: %s %v", r.HTTP.URL.Path, r.HTTP.Header)
			}
		})
	}
}

func TestAuthorize_AllowMayOnlyChangeToAServedMethod(t *testing.T) {
	t.Parallel()
	b := &edge.Behavior{PathPattern: "/orders/*", AllowedMethods: []string{"GET", "POST"}}
	tests := []struct {
		method string
		ok     bool
	}{
		{"POST", true},
		{"HEAD", true}, // GET implies HEAD
		{"CONNECT", false},
		{"TRACE", false},
		{"DELETE", false},
	}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, nil, sidebandtest.Allow(func(rep *sideband.Reply) { rep.Method = tt.method }))
			r := viewerRequest("GET", "https://api.example.com/orders/1", "")
			r.Behavior = b
			resp, err := h.a.ViewerRequest(context.Background(), r)
			switch e := asEdgeError(err); {
			case tt.ok && (resp != nil || err != nil || r.HTTP.Method != tt.method):
				t.Fatalf("allow turning GET into %s = %v, %v, method %s; want it applied", tt.method, resp, err, r.HTTP.Method)
			case !tt.ok && (resp != nil || e == nil || e.Status != http.StatusBadGateway || r.HTTP.Method != "GET"):
				t.Fatalf("allow turning GET into %s = %v, %v, method %s; want a 502 and GET kept", tt.method, resp, err, r.HTTP.Method)
			}
		})
	}
}

func TestAuthorize_DenyReachesViewerVerbatim(t *testing.T) {
	t.Parallel()
	body := `{"error":"invalid_token","error_description":"expired"}`
	h := newHarness(t, nil, sidebandtest.Deny(401, sideband.Headers{
		{Name: "WWW-Authenticate", Value: `Bearer realm="Orders API", error="invalid_token"`},
		{Name: "content-type", Value: "application/json"},
		{Name: "x-multi", Value: "1"}, {Name: "x-multi", Value: "2"},
		{Name: "connection", Value: "close, x-hidden"},
		{Name: "x-hidden", Value: "dropped because Connection names it"},
		{Name: "transfer-encoding", Value: "chunked"},
		{Name: "content-length", Value: "999"},
	}, body))
	r := viewerRequest("GET", "https://api.example.com/orders", "")
	resp, err := h.a.ViewerRequest(context.Background(), r)
	if err != nil || resp == nil {
		t.Fatalf("ViewerRequest() = %v, %v, want a deny", resp, err)
	}
	want := &edge.Response{
		Status: 401,
		Header: http.Header{
			"Www-Authenticate": {`Bearer realm="Orders API", error="invalid_token"`},
			"Content-Type":     {"application/json"},
			"X-Multi":          {"1", "2"},
		},
		Body: []byte(body),
	}
	if diff := cmp.Diff(want, resp); diff != "" {
		t.Errorf("deny mismatch (-want +got):\n%s", diff)
	}
	if got := testkit.Metric(t, h.reg, "edgeward_authorize_decisions_total", map[string]string{"phase": "request", "result": "deny"}); got != 1 {
		t.Errorf("deny decisions = %v, want 1", got)
	}
}

// TestAuthorize_RetriesOnlyOnTransportErrorsAnd5xx pins the retry table
// with max_retries: 1.
func TestAuthorize_RetriesOnlyOnTransportErrorsAnd5xx(t *testing.T) {
	t.Parallel()
	allow := sidebandtest.Allow(nil)
	e503 := sidebandtest.Error(503, "UNAVAILABLE", "down")
	tests := []struct {
		name       string
		script     []sidebandtest.Reply
		wantStatus int // 0: allowed
		wantCalls  int
	}{
		{"503 then allow", []sidebandtest.Reply{e503, allow}, 0, 2},
		{"two 503s", []sidebandtest.Reply{e503, e503, allow}, 502, 2},
		{"500 then deny", []sidebandtest.Reply{sidebandtest.Error(500, "E", "x"), sidebandtest.Deny(403, nil, "no")}, 403, 2},
		{"dropped connection then allow", []sidebandtest.Reply{{Close: true}, allow}, 0, 2},
		{"400 is not retried", []sidebandtest.Reply{sidebandtest.Error(400, "INVALID", "bad"), allow}, 502, 1},
		{"401 is not retried", []sidebandtest.Reply{sidebandtest.Error(401, "INVALID_TOKEN", "The Gateway Token is invalid"), allow}, 502, 1},
		{"403 is not retried", []sidebandtest.Reply{sidebandtest.Error(403, "FORBIDDEN", "no"), allow}, 502, 1},
		{"malformed is not retried", []sidebandtest.Reply{{Body: `{}`}, allow}, 502, 1},
		{"deny is not retried", []sidebandtest.Reply{sidebandtest.Deny(403, nil, "no"), allow}, 403, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, func(c *Config) { one := 1; c.MaxRetries = &one }, tt.script...)
			resp, err := h.a.ViewerRequest(context.Background(), viewerRequest("GET", "https://api.example.com/x", ""))
			status := 0
			switch {
			case resp != nil:
				status = resp.Status
			case err != nil:
				e := asEdgeError(err)
				if e == nil {
					t.Fatalf("ViewerRequest() error %v is not an *edge.Error", err)
				}
				status = e.Status
			}
			if status != tt.wantStatus {
				t.Errorf("ViewerRequest() status = %d (err %v), want %d", status, err, tt.wantStatus)
			}
			if got := h.srv.CallCount(); got != tt.wantCalls {
				t.Errorf("service calls = %d, want %d", got, tt.wantCalls)
			}
			if got := testkit.Metric(t, h.reg, "edgeward_authorize_attempts_total", map[string]string{"phase": "request"}); int(got) != tt.wantCalls {
				t.Errorf("attempts metric = %v, want %d", got, tt.wantCalls)
			}
		})
	}
}

func TestAuthorize_ConnectionRefusedIs502AfterAllAttempts(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	srv := sidebandtest.NewServer()
	t.Cleanup(srv.Close)
	two := 2
	h := newHarnessWith(t, srv, Config{ServiceURL: URLs{"http://" + addr}, SecretHeaderValue: testCredential, MaxRetries: &two, Timeout: 2 * time.Second})
	_, err = h.a.ViewerRequest(context.Background(), viewerRequest("GET", "https://api.example.com/x", ""))
	if e := asEdgeError(err); e == nil || e.Status != 502 {
		t.Fatalf("ViewerRequest(refused) error = %v, want 502", err)
	}
	if got := testkit.Metric(t, h.reg, "edgeward_authorize_attempts_total", map[string]string{"phase": "request"}); got != 3 {
		t.Errorf("attempts = %v, want max_retries+1 = 3", got)
	}
	if got := testkit.Metric(t, h.reg, "edgeward_authorize_retries_total", map[string]string{"phase": "request"}); got != 2 {
		t.Errorf("retries = %v, want 2", got)
	}
}

func TestAuthorize_SlowServiceIs502WithinTimeout(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	const timeout = 300 * time.Millisecond
	h := newHarness(t, func(c *Config) { c.Timeout = timeout },
		sidebandtest.Reply{Wait: release, Body: `{"response":{"response_code":200}}`},
		sidebandtest.Reply{Wait: release})
	start := time.Now()
	_, err := h.a.ViewerRequest(context.Background(), viewerRequest("GET", "https://api.example.com/x", ""))
	elapsed := time.Since(start)
	if e := asEdgeError(err); e == nil || e.Status != 502 {
		t.Fatalf("ViewerRequest(slow service) error = %v, want 502", err)
	}
	if elapsed > timeout+700*time.Millisecond {
		t.Errorf("ViewerRequest(slow service) took %v, want at most timeout %v + margin", elapsed, timeout)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v does not say the deadline passed", err)
	}
}

func TestAuthorize_413Relayed(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, sidebandtest.Error(413, "REQUEST_TOO_LARGE", "body too large"))
	_, err := h.a.ViewerRequest(context.Background(), viewerRequest("GET", "https://api.example.com/x", ""))
	if e := asEdgeError(err); e == nil || e.Status != 413 {
		t.Fatalf("ViewerRequest() error = %v, want 413", err)
	}
}

// TestAuthorize_429OpensShortCircuitWindow pins the relay of 429 and the
// window during which the service is not called.
func TestAuthorize_429OpensShortCircuitWindow(t *testing.T) {
	t.Parallel()
	limited := sidebandtest.Error(429, "LIMIT_EXCEEDED", "slow down")
	limited.Header = http.Header{"Retry-After": {"7"}}
	h := newHarness(t, nil, limited, sidebandtest.Allow(nil))
	ctx := context.Background()

	_, err := h.a.ViewerRequest(ctx, viewerRequest("GET", "https://api.example.com/x", ""))
	e := asEdgeError(err)
	if e == nil || e.Status != 429 || e.Header.Get("Retry-After") != "7" {
		t.Fatalf("first ViewerRequest() error = %v (header %v), want 429 with Retry-After 7", err, e)
	}

	h.clock.Advance(3 * time.Second)
	_, err = h.a.ViewerRequest(ctx, viewerRequest("GET", "https://api.example.com/x", ""))
	e = asEdgeError(err)
	if e == nil || e.Status != 429 || e.Header.Get("Retry-After") != "4" {
		t.Fatalf("ViewerRequest() inside the window error = %v, want 429 with Retry-After 4", err)
	}
	if n := h.srv.CallCount(); n != 1 {
		t.Errorf("service calls inside the window = %d, want 1 (the first only)", n)
	}

	h.clock.Advance(5 * time.Second)
	if resp, err := h.a.ViewerRequest(ctx, viewerRequest("GET", "https://api.example.com/x", "")); resp != nil || err != nil {
		t.Fatalf("ViewerRequest() after the window = %v, %v, want an allow", resp, err)
	}
	if n := h.srv.CallCount(); n != 2 {
		t.Errorf("service calls after the window = %d, want 2", n)
	}
}

func TestAuthorize_BreakerOpensAfterConsecutiveFailures(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config) {
		zero := 0
		c.MaxRetries = &zero
		c.Breaker = Breaker{Failures: 2, OpenFor: time.Hour}
	})
	// Fallback: every call answers 500.
	ctx := context.Background()
	for i := range 4 {
		_, err := h.a.ViewerRequest(ctx, viewerRequest("GET", "https://api.example.com/x", ""))
		if e := asEdgeError(err); e == nil || e.Status != 502 {
			t.Fatalf("request %d: error = %v, want 502", i, err)
		}
		if i >= 2 && !errors.Is(err, gobreaker.ErrOpenState) {
			t.Errorf("request %d: error = %v, want the breaker's", i, err)
		}
	}
	if n := h.srv.CallCount(); n != 2 {
		t.Errorf("service calls = %d, want 2 (the breaker opened after 2 failures)", n)
	}
	if got := testkit.Metric(t, h.reg, "edgeward_authorize_breaker_open", nil); got != 1 {
		t.Errorf("breaker_open = %v, want 1", got)
	}
}

func TestAuthorize_BreakerIgnores4xx(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config) { c.Breaker = Breaker{Failures: 1, OpenFor: time.Hour} })
	h.srv.SetFallback(sidebandtest.Error(401, "INVALID_TOKEN", "no"))
	for range 3 {
		_, _ = h.a.ViewerRequest(context.Background(), viewerRequest("GET", "https://api.example.com/x", ""))
	}
	if n := h.srv.CallCount(); n != 3 {
		t.Errorf("service calls = %d, want 3 (a 4xx is an answer, not a fault)", n)
	}
}

// TestAuthorize_MalformedRepliesAre502 pins "a decision is explicit".
func TestAuthorize_MalformedRepliesAre502(t *testing.T) {
	t.Parallel()
	huge := `{"method":"GET","url":"http://a/","headers":[],"pad":"` + strings.Repeat("x", sideband.DefaultMaxBody) + `"}`
	tests := []struct {
		name  string
		reply sidebandtest.Reply
	}{
		{"redirect", sidebandtest.Reply{Status: 302, Header: http.Header{"Location": {testEnvPath + "/sideband/request"}}}},
		{"empty object", sidebandtest.Reply{Body: `{}`}},
		{"response null", sidebandtest.Reply{Body: `{"response":null}`}},
		{"response null with echo", sidebandtest.Reply{Body: `{"method":"GET","url":"https://api.example.com/x","headers":[],"response":null}`}},
		{"html", sidebandtest.Reply{Header: http.Header{"Content-Type": {"text/html"}}, Body: "<html><body>Bad Gateway</body></html>"}},
		{"truncated JSON", sidebandtest.Reply{Body: `{"method":"GET","url":"https://api.example.com/x","headers":[`}},
		{"truncated transfer", sidebandtest.Reply{Header: http.Header{"Content-Length": {"400"}}, Body: `{"method":"GET"`}},
		{"oversized", sidebandtest.Reply{Body: huge}},
		{"empty 200", sidebandtest.Reply{}},
		{"allow without headers", sidebandtest.Reply{Body: `{"method":"GET","url":"https://api.example.com/x"}`}},
		{"deny with status 100", sidebandtest.Reply{Body: `{"response":{"response_code":"100"}}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, func(c *Config) { zero := 0; c.MaxRetries = &zero }, tt.reply)
			h.srv.SetFallback(sidebandtest.Allow(nil)) // what a followed redirect would get
			resp, err := h.a.ViewerRequest(context.Background(), viewerRequest("GET", "https://api.example.com/x", ""))
			if e := asEdgeError(err); resp != nil || e == nil || e.Status != 502 {
				t.Fatalf("ViewerRequest(%s) = %v, %v, want 502", tt.name, resp, err)
			}
			if n := h.srv.CallCount(); n != 1 {
				t.Errorf("service calls = %d, want 1", n)
			}
		})
	}
}

// TestAuthorize_CredentialCannotBeSmuggled: a client's CLIENT-TOKEN neither
// reaches the service's view nor the origin, and the service gets the
// configured credential.
func TestAuthorize_CredentialCannotBeSmuggled(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, sidebandtest.Allow(nil))
	r := viewerRequest("GET", "https://api.example.com/x", "", "CLIENT-TOKEN", "smuggled", "client-token", "again")
	if resp, err := h.a.ViewerRequest(context.Background(), r); resp != nil || err != nil {
		t.Fatalf("ViewerRequest() = %v, %v", resp, err)
	}
	c := h.srv.Calls()[0]
	if got := c.Header.Values("Client-Token"); !cmp.Equal(got, []string{testCredential}) {
		t.Errorf("credential header sent = %q, want only the configured credential", got)
	}
	if strings.Contains(string(c.Body), "smuggled") || strings.Contains(string(c.Body), "again") {
		t.Errorf("sideband body carries the client's CLIENT-TOKEN: %s", c.Body)
	}
	if v := r.HTTP.Header.Values("Client-Token"); len(v) != 0 {
		t.Errorf("origin would get Client-Token %q, want none", v)
	}
}

// TestAuthorize_LogsNeverCarrySecrets captures every log line at debug
// level across allows, denies, retries and errors, and searches them.
func TestAuthorize_LogsNeverCarrySecrets(t *testing.T) {
	t.Parallel()
	const bearer = "eyJhbGciOiJSUzI1NiJ9.bearer-token-secret.sig"
	const cookie = "session=cookie-secret-value"
	h := newHarness(t, func(c *Config) { c.OnError = OnErrorDeny },
		sidebandtest.Allow(nil),
		sidebandtest.Deny(403, nil, "no"),
		sidebandtest.Error(503, "E", "service says "+testCredential),
		sidebandtest.Error(503, "E", "again "+testCredential),
		sidebandtest.Allow(func(rep *sideband.Reply) { rep.URL = "https://api.example.com/a/../b" }),
	)
	var errs []string
	for range 4 {
		r := viewerRequest("GET", "https://api.example.com/x?access_token="+bearer, "",
			"Authorization", "Bearer "+bearer, "Cookie", cookie, "Client-Token", testCredential)
		_, err := h.a.ViewerRequest(context.Background(), r)
		if err != nil {
			errs = append(errs, err.Error())
		}
	}
	logs := h.logs.String()
	if !strings.Contains(logs, `"level":"DEBUG"`) || !strings.Contains(logs, "[redacted]") {
		t.Fatalf("expected debug attempt logs with redactions, got:\n%s", logs)
	}
	// allow, deny, 503 + its retry, the unusable allow: one line per attempt.
	if n := strings.Count(logs, `"msg":"authorize: sideband call"`); n != 5 {
		t.Errorf("debug attempt lines = %d, want 5:\n%s", n, logs)
	}
	for _, secret := range []string{testCredential, bearer, "cookie-secret-value"} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain secret %q:\n%s", secret, logs)
		}
		for _, e := range errs {
			if strings.Contains(e, secret) {
				t.Errorf("error %q contains secret %q", e, secret)
			}
		}
	}
}

func TestAuthorize_NoAttemptLogsWithoutDebug(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config) { c.Debug = false }, sidebandtest.Allow(nil))
	if _, err := h.a.ViewerRequest(context.Background(), viewerRequest("GET", "https://api.example.com/x", "")); err != nil {
		t.Fatal(err)
	}
	if logs := h.logs.String(); logs != "" {
		t.Errorf("debug: false logged:\n%s", logs)
	}
}

func TestAuthorize_OnErrorAllowForwardsAndWarns(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config) { c.OnError = OnErrorAllow; c.Debug = false })
	h.srv.SetFallback(sidebandtest.Error(503, "E", "down"))
	r := viewerRequest("GET", "https://api.example.com/x", "")
	resp, err := h.a.ViewerRequest(context.Background(), r)
	if resp != nil || err != nil {
		t.Fatalf("ViewerRequest(on_error allow, service down) = %v, %v, want forwarded", resp, err)
	}
	if logs := h.logs.String(); !strings.Contains(logs, `"level":"WARN"`) || !strings.Contains(logs, "NO DECISION") {
		t.Errorf("no warning logged for a fail-open forward:\n%s", logs)
	}
	if got := testkit.Metric(t, h.reg, "edgeward_authorize_fail_open_total", nil); got != 1 {
		t.Errorf("fail_open_total = %v, want 1", got)
	}
	// A deny is still a deny.
	h.srv.Push(sidebandtest.Deny(403, nil, "no"))
	resp, err = h.a.ViewerRequest(context.Background(), viewerRequest("GET", "https://api.example.com/x", ""))
	if err != nil || resp == nil || resp.Status != 403 {
		t.Errorf("ViewerRequest(on_error allow, deny) = %v, %v, want the deny", resp, err)
	}
}

func TestAuthorize_DefaultIsFailClosed(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	h.srv.SetFallback(sidebandtest.Error(503, "E", "down"))
	resp, err := h.a.ViewerRequest(context.Background(), viewerRequest("GET", "https://api.example.com/x", ""))
	if e := asEdgeError(err); resp != nil || e == nil || e.Status != 502 {
		t.Fatalf("ViewerRequest(service down) = %v, %v, want 502", resp, err)
	}
	if strings.Contains(asEdgeError(err).Msg, "down") {
		t.Errorf("viewer message %q carries the service's internals", asEdgeError(err).Msg)
	}
}

func TestAuthorize_PanicIs500EvenWhenFailOpen(t *testing.T) {
	t.Parallel()
	d := deciderFunc{request: func(context.Context, *sideband.Request) (*sideband.Reply, error) { panic("bug") }}
	a, err := New("f", Config{ServiceURL: URLs{Embedded}, OnError: OnErrorAllow}, d, Options{})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := a.ViewerRequest(context.Background(), viewerRequest("GET", "https://api.example.com/x", ""))
	if e := asEdgeError(err); resp != nil || e == nil || e.Status != 500 {
		t.Fatalf("ViewerRequest(panicking decider) = %v, %v, want 500", resp, err)
	}
}

// TestAuthorize_EmbeddedRepliesAreCheckedToo: an in-process Decider skips
// the JSON decoder, so the function checks what the decoder would have.
func TestAuthorize_EmbeddedRepliesAreCheckedToo(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		reply func(*sideband.Request) *sideband.Reply
	}{
		{"nil reply", func(*sideband.Request) *sideband.Reply { return nil }},
		{"empty method", func(r *sideband.Request) *sideband.Reply { c := *r; c.Method = ""; return &sideband.Reply{Request: c} }},
		{"method with space", func(r *sideband.Request) *sideband.Reply {
			c := *r
			c.Method = "G T"
			return &sideband.Reply{Request: c}
		}},
		{"no headers", func(r *sideband.Request) *sideband.Reply {
			c := *r
			c.Headers = nil
			return &sideband.Reply{Request: c}
		}},
		{"CRLF in a header", func(r *sideband.Request) *sideband.Reply {
			c := *r
			c.Headers = append(append(sideband.Headers{}, r.Headers...), sideband.Header{Name: "x-a", Value: "1\r\nx-b: 2"})
			return &sideband.Reply{Request: c}
		}},
		{"deny with status 99", func(*sideband.Request) *sideband.Reply {
			return &sideband.Reply{Response: &sideband.Response{ResponseCode: 99}}
		}},
		{"empty url", func(r *sideband.Request) *sideband.Reply { c := *r; c.URL = ""; return &sideband.Reply{Request: c} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := deciderFunc{request: func(_ context.Context, r *sideband.Request) (*sideband.Reply, error) { return tt.reply(r), nil }}
			a, err := New("f", Config{ServiceURL: URLs{Embedded}}, d, Options{})
			if err != nil {
				t.Fatal(err)
			}
			r := viewerRequest("GET", "https://api.example.com/x", "", "Accept", "*/*")
			resp, err := a.ViewerRequest(context.Background(), r)
			if e := asEdgeError(err); resp != nil || e == nil || e.Status != 502 {
				t.Fatalf("ViewerRequest(%s) = %v, %v, want 502", tt.name, resp, err)
			}
			if r.HTTP.Method != "GET" || r.HTTP.Header.Get("Accept") != "*/*" {
				t.Errorf("a refused reply changed the request: %s %v", r.HTTP.Method, r.HTTP.Header)
			}
		})
	}
}

func TestAuthorize_ResponsePhaseAsksOriginForIdentity(t *testing.T) {
	t.Parallel()
	a, err := New("f", Config{ServiceURL: URLs{Embedded}, ResponsePhase: true}, echoDecider, Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := viewerRequest("GET", "https://api.example.com/x", "", "Accept-Encoding", "gzip, br")
	if _, err := a.ViewerRequest(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	if got := r.HTTP.Header.Get("Accept-Encoding"); got != "identity" {
		t.Errorf("Accept-Encoding to the origin = %q, want identity with the response phase on", got)
	}
}

func TestAuthorize_InvalidHostIs400WithoutACall(t *testing.T) {
	t.Parallel()
	for _, host := range []string{"", " ", ":80", "api.example.com:99999", "api.example.com:0",
		"api.example.com:+80", "api.example.com:x", "a:b:c", "[::1", "[::1]x", "user@api.example.com"} {
		t.Run(host, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, nil, sidebandtest.Allow(nil))
			r := viewerRequest("GET", "https://api.example.com/a", "")
			r.HTTP.Host, r.Host = host, host
			resp, err := h.a.ViewerRequest(context.Background(), r)
			if e := asEdgeError(err); resp != nil || e == nil || e.Status != http.StatusBadRequest {
				t.Fatalf("ViewerRequest(Host %q) = %v, %v, want a 400", host, resp, err)
			}
			if n := len(h.srv.Calls()); n != 0 {
				t.Errorf("the service was called %d times for Host %q", n, host)
			}
		})
	}
}

func TestValidAuthority(t *testing.T) {
	t.Parallel()
	for host, want := range map[string]bool{
		"api.example.com": true, "api.example.com:8443": true, "api.example.com:": true,
		"127.0.0.1:1": true, "[::1]": true, "[::1]:65535": true, "API.EXAMPLE.COM": true,
		"": false, ":443": false, "a:65536": false, "a:0": false, "a:-1": false, "a:+1": false,
		"a:b:1": false, "[::1": false, "[::1]:": true, "[::1]1": false, "a/b": false, `a\b`: false,
		"u@a": false, "a b": false, "a?b": false, "a#b": false, "[]": false,
	} {
		if got := validAuthority(host); got != want {
			t.Errorf("validAuthority(%q) = %v, want %v", host, got, want)
		}
	}
}
