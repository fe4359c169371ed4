package sideband_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/edgeward/edgeward/internal/sideband"
	"github.com/edgeward/edgeward/internal/sidebandtest"
)

func newClient(t *testing.T, url string, mod func(*sideband.ClientConfig)) *sideband.Client {
	t.Helper()
	cfg := sideband.ClientConfig{ServiceURL: url, Credential: "gw-secret", Timeout: 2 * time.Second}
	if mod != nil {
		mod(&cfg)
	}
	c, err := sideband.NewClient(cfg)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

func sampleRequest() *sideband.Request {
	return &sideband.Request{
		SourceIP: "192.0.2.1", SourcePort: 40000, Method: "GET",
		URL: "http://api.example.com/orders", HTTPVersion: "1.1",
		Headers: sideband.Headers{{Name: "host", Value: "api.example.com"}},
	}
}

func TestClient_JoinsServiceURLWithOneSlash(t *testing.T) {
	t.Parallel()
	tests := []struct{ suffix, wantPath string }{
		{"", "/sideband/request"},
		{"/", "/sideband/request"},
		{"/v1/environments/e1", "/v1/environments/e1/sideband/request"},
		{"/v1/environments/e1/", "/v1/environments/e1/sideband/request"},
		{"/v1/environments/e1//", "/v1/environments/e1/sideband/request"},
	}
	for _, tt := range tests {
		t.Run(tt.suffix, func(t *testing.T) {
			t.Parallel()
			srv := sidebandtest.NewServer(sidebandtest.Allow(nil))
			defer srv.Close()
			c := newClient(t, srv.URL+tt.suffix, nil)
			if _, err := c.Request(context.Background(), sampleRequest()); err != nil {
				t.Fatalf("Request() error: %v", err)
			}
			if got := srv.Calls()[0].Path; got != tt.wantPath {
				t.Errorf("service_url %q + request path = %q, want %q", srv.URL+tt.suffix, got, tt.wantPath)
			}
		})
	}
}

func TestClient_SendsJSONWithCredential(t *testing.T) {
	t.Parallel()
	srv := sidebandtest.NewServer(sidebandtest.Allow(nil))
	defer srv.Close()
	c := newClient(t, srv.URL, func(c *sideband.ClientConfig) { c.CredentialHeader = "PDG-TOKEN" })
	if _, err := c.Request(context.Background(), sampleRequest()); err != nil {
		t.Fatal(err)
	}
	call := srv.Calls()[0]
	for name, want := range map[string]string{
		"Content-Type": "application/json",
		"Accept":       "application/json",
		"Pdg-Token":    "gw-secret",
	} {
		if got := call.Header.Get(name); got != want {
			t.Errorf("header %s = %q, want %q", name, got, want)
		}
	}
	if call.Method != http.MethodPost {
		t.Errorf("method = %s, want POST", call.Method)
	}
	var got map[string]any
	if err := json.Unmarshal(call.Body, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"source_ip": "192.0.2.1", "source_port": 40000.0, "method": "GET",
		"url": "http://api.example.com/orders", "http_version": "1.1",
		"headers": []any{map[string]any{"host": "api.example.com"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("request body mismatch (-want +got):\n%s", diff)
	}
}

// TestClient_ClassifiesErrors pins the three kinds of failure the
// authorizer branches on.
func TestClient_ClassifiesErrors(t *testing.T) {
	t.Parallel()
	big := `{"method":"GET","url":"http://a/","headers":[],"pad":"` + strings.Repeat("x", 2048) + `"}`
	tests := []struct {
		name       string
		reply      sidebandtest.Reply
		wantStatus int  // *StatusError
		wantMal    bool // ErrMalformedReply
		wantTrans  bool // ErrTransport
	}{
		{"503", sidebandtest.Error(503, "UNAVAILABLE", "down"), 503, false, false},
		{"401", sidebandtest.Error(401, "INVALID_TOKEN", "The Gateway Token is invalid"), 401, false, false},
		{"redirect not followed", sidebandtest.Reply{Status: 302, Header: http.Header{"Location": {"/elsewhere"}}}, 302, false, false},
		{"empty object", sidebandtest.Reply{Body: `{}`}, 0, true, false},
		{"response null", sidebandtest.Reply{Body: `{"response":null}`}, 0, true, false},
		{"html", sidebandtest.Reply{Header: http.Header{"Content-Type": {"text/html"}}, Body: `<html>oops</html>`}, 0, true, false},
		{"truncated JSON", sidebandtest.Reply{Body: `{"method":"GET","url":"http://a/","head`}, 0, true, false},
		{"oversized", sidebandtest.Reply{Body: big}, 0, true, false},
		{"cut short", sidebandtest.Reply{Header: http.Header{"Content-Length": {"500"}}, Body: `{"method":"GET"`}, 0, false, true},
		{"connection dropped", sidebandtest.Reply{Close: true}, 0, false, true},
		{"allow echoed as text/plain", textEcho("text/plain"), 0, true, false},
		{"allow echoed as text/html", textEcho("text/html; charset=utf-8"), 0, true, false},
		{"allow echoed as octet-stream", textEcho("application/octet-stream"), 0, true, false},
		{"allow echoed with an invalid Content-Type", textEcho("application/json;;;"), 0, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := sidebandtest.NewServer(tt.reply, sidebandtest.Allow(nil))
			defer srv.Close()
			c := newClient(t, srv.URL, func(c *sideband.ClientConfig) { c.MaxReplyBytes = 1024 })
			rep, err := c.Request(context.Background(), sampleRequest())
			if err == nil {
				t.Fatalf("Request() = %+v, want an error", rep)
			}
			var se *sideband.StatusError
			if got := errors.As(err, &se); got != (tt.wantStatus != 0) || (got && se.Status != tt.wantStatus) {
				t.Errorf("Request() error = %v, want StatusError %d", err, tt.wantStatus)
			}
			if got := errors.Is(err, sideband.ErrMalformedReply); got != tt.wantMal {
				t.Errorf("errors.Is(%v, ErrMalformedReply) = %v, want %v", err, got, tt.wantMal)
			}
			if got := errors.Is(err, sideband.ErrTransport); got != tt.wantTrans {
				t.Errorf("errors.Is(%v, ErrTransport) = %v, want %v", err, got, tt.wantTrans)
			}
			if tt.wantStatus == 302 && srv.CallCount() != 1 {
				t.Errorf("calls = %d, want 1 (the redirect is not followed)", srv.CallCount())
			}
		})
	}
}

// textEcho is an allow (the request echoed) under Content-Type ct, as an
// endpoint that reflects what is POSTed to it would answer.
func textEcho(ct string) sidebandtest.Reply {
	return sidebandtest.Reply{Func: func(c sidebandtest.Call) sidebandtest.Reply {
		return sidebandtest.Reply{Header: http.Header{"Content-Type": {ct}}, Body: string(c.Body)}
	}}
}

func TestClient_AcceptsJSONMediaTypes(t *testing.T) {
	t.Parallel()
	for _, ct := range []string{"application/json", "application/json; charset=utf-8", "Application/JSON", "application/vnd.ping+json"} {
		t.Run(ct, func(t *testing.T) {
			t.Parallel()
			srv := sidebandtest.NewServer(textEcho(ct))
			defer srv.Close()
			c := newClient(t, srv.URL, nil)
			if _, err := c.Request(context.Background(), sampleRequest()); err != nil {
				t.Fatalf("Request() with Content-Type %q = %v, want an allow", ct, err)
			}
		})
	}
}

func TestClient_StatusErrorCarriesRetryAfterAndBody(t *testing.T) {
	t.Parallel()
	rep := sidebandtest.Error(429, "LIMIT_EXCEEDED", "slow down")
	rep.Header = http.Header{"Retry-After": {"7"}}
	srv := sidebandtest.NewServer(rep)
	defer srv.Close()
	c := newClient(t, srv.URL, nil)
	_, err := c.Request(context.Background(), sampleRequest())
	var se *sideband.StatusError
	if !errors.As(err, &se) {
		t.Fatalf("Request() error = %v, want a StatusError", err)
	}
	if se.Status != 429 || se.RetryAfter != 7*time.Second || se.Body.Code != "LIMIT_EXCEEDED" || se.Body.Message != "slow down" {
		t.Errorf("StatusError = %+v, want 429, 7s, LIMIT_EXCEEDED, slow down", se)
	}
}

func TestClient_TimeoutIsTransportError(t *testing.T) {
	t.Parallel()
	srv := sidebandtest.NewServer(sidebandtest.Reply{Hang: true})
	defer srv.Close()
	c := newClient(t, srv.URL, func(c *sideband.ClientConfig) { c.Timeout = 50 * time.Millisecond })
	start := time.Now()
	_, err := c.Request(context.Background(), sampleRequest())
	if !errors.Is(err, sideband.ErrTransport) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Request(hanging service) error = %v, want ErrTransport wrapping DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Request(hanging service) took %v, want about the 50ms timeout", d)
	}
}

func TestClient_ConnectionRefusedIsTransportError(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c := newClient(t, "http://"+addr, nil)
	if _, err := c.Request(context.Background(), sampleRequest()); !errors.Is(err, sideband.ErrTransport) {
		t.Errorf("Request(closed port) error = %v, want ErrTransport", err)
	}
}

func TestClient_ReusesConnections(t *testing.T) {
	t.Parallel()
	fake := sidebandtest.NewServer()
	defer fake.Close()
	fake.SetFallback(sidebandtest.Allow(nil))
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(fake)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	c := newClient(t, srv.URL, nil)
	for range 5 {
		if _, err := c.Request(context.Background(), sampleRequest()); err != nil {
			t.Fatal(err)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("5 sequential calls opened %d connections, want 1 (keep-alive)", n)
	}
}

func TestClient_TLSWithCAFile(t *testing.T) {
	t.Parallel()
	srv := sidebandtest.NewTLSServer()
	defer srv.Close()
	srv.SetFallback(sidebandtest.Allow(nil))
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, srv.CertificatePEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	trusted := newClient(t, srv.URL, func(c *sideband.ClientConfig) { c.CAFile = ca })
	if _, err := trusted.Request(context.Background(), sampleRequest()); err != nil {
		t.Errorf("Request(with CA file) error: %v", err)
	}
	untrusted := newClient(t, srv.URL, nil)
	if _, err := untrusted.Request(context.Background(), sampleRequest()); !errors.Is(err, sideband.ErrTransport) {
		t.Errorf("Request(without CA) error = %v, want a TLS transport error", err)
	}
}

func TestClient_ResponsePhase(t *testing.T) {
	t.Parallel()
	srv := sidebandtest.NewServer(sidebandtest.Respond(200, sideband.Headers{{Name: "x-filtered", Value: "1"}}, "[]"))
	defer srv.Close()
	c := newClient(t, srv.URL+"/base/", nil)
	const state = `{"k":  "v"}`
	resp, err := c.Response(context.Background(), &sideband.ResponseRequest{
		Method: "GET", URL: "http://a/", HTTPVersion: "1.1", ResponseCode: 200, ResponseStatus: "OK",
		State: json.RawMessage(state),
	})
	if err != nil {
		t.Fatal(err)
	}
	if resp.ResponseCode != 200 || resp.Body == nil || *resp.Body != "[]" {
		t.Errorf("Response() = %+v, want 200 with body []", resp)
	}
	call := srv.Calls()[0]
	if call.Path != "/base/sideband/response" {
		t.Errorf("path = %q, want /base/sideband/response", call.Path)
	}
	if !strings.Contains(string(call.Body), `"state":`+state) {
		t.Errorf("body = %s, want state %s byte for byte", call.Body, state)
	}
}

func TestNewClient_RejectsBadConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  sideband.ClientConfig
		want string
	}{
		{"empty URL", sideband.ClientConfig{}, "service URL"},
		{"relative URL", sideband.ClientConfig{ServiceURL: "/x"}, "service URL"},
		{"ftp", sideband.ClientConfig{ServiceURL: "ftp://a/"}, "scheme"},
		{"userinfo", sideband.ClientConfig{ServiceURL: "https://u:p@a/"}, "credentials"},
		{"query", sideband.ClientConfig{ServiceURL: "https://a/?x=1"}, "query"},
		{"bad header", sideband.ClientConfig{ServiceURL: "https://a/", CredentialHeader: "a b"}, "credential header"},
		{"newline credential", sideband.ClientConfig{ServiceURL: "https://a/", Credential: "a\nb"}, "credential"},
		{"missing CA file", sideband.ClientConfig{ServiceURL: "https://a/", CAFile: "/nonexistent/ca.pem"}, "CA file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := sideband.NewClient(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewClient(%+v) error = %v, want one about %q", tt.cfg, err, tt.want)
			}
			if err != nil && tt.cfg.Credential != "" && strings.Contains(err.Error(), tt.cfg.Credential) {
				t.Errorf("NewClient error %q contains the credential", err)
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0}, {"0", 0}, {"-3", 0}, {"5", 5 * time.Second}, {"abc", 0},
		{now.Add(30 * time.Second).Format(http.TimeFormat), 30 * time.Second},
		{now.Add(-30 * time.Second).Format(http.TimeFormat), 0},
		{"99999999999", 24 * time.Hour},
	}
	for _, tt := range tests {
		if got := sideband.ParseRetryAfter(tt.in, now); got != tt.want {
			t.Errorf("ParseRetryAfter(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
