package app_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/edgeward/edgeward/internal/app"
	"github.com/edgeward/edgeward/internal/config"
	"github.com/edgeward/edgeward/internal/origintest"
	"github.com/edgeward/edgeward/internal/token/tokentest"
)

const model = `
  gateway_credentials:
    - ${CRED}
  token_issuers:
    test: {issuer: %q, jwks_url: %q, algorithms: [RS256, ES256]}
  api_services:
    - name: Orders API
      base_urls: [http://%s]
      token_issuer: test
      audience: https://api.example.com
      operations:
        - name: Read orders
          methods: [GET, HEAD]
          paths: [{type: PARAMETER, pattern: "/orders/{id}"}]
          access_control: {scopes: {match: ANY, values: [orders:read]}}
        - name: Change orders
          methods: [POST]
          paths: [{type: EXACT, pattern: /orders}]
          access_control: {scopes: {match: ALL, values: [orders:write]}}
      statements:
        set_headers: {x-user-id: "{{claims.sub}}"}
        remove_headers: [authorization]
`

// edgeFile is the edge's configuration; function is the functions: section
// (empty for the implicit embedded authorize function).
func edgeFile(originAddr, decisionSection, function string) string {
	return fmt.Sprintf(`
admin: off
origins:
  orders:
    url: http://%s/prod
behaviors:
  - path_pattern: "/orders/*"
    origin: orders
    allowed_methods: [GET, HEAD, POST]
    viewer_request: authorize
    cache: {default_ttl: 60s}
  - path_pattern: "*"
    origin: orders
    allowed_methods: [GET, HEAD, POST]
    viewer_request: authorize
%s
%s
logging: {access_log: {path: off}}
`, originAddr, function, decisionSection)
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

func lookup(k string) (string, bool) {
	if k == "CRED" {
		return "s3cret-gateway-credential", true
	}
	return "", false
}

// start runs an edge (and, in standalone mode, a decision service) and
// returns the edge's base URL.
func start(t *testing.T, mode string, iss *tokentest.Issuer, org *origintest.Server) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	edgeLn := listen(t)
	edgeAddr := edgeLn.Addr().String()
	m := sprintfModel(iss, edgeAddr)
	var file string
	done := make(chan error, 2)
	switch mode {
	case "embedded":
		file = edgeFile(org.Addr(), "decision:"+m, "")
	case "standalone":
		dln := listen(t)
		df, err := config.ParseDecision("decision.yaml", []byte("admin: off\ndecision:"+m), lookup)
		if err != nil {
			t.Fatal(err)
		}
		d, err := app.NewDecision(ctx, "decision.yaml", df, app.Options{})
		if err != nil {
			t.Fatal(err)
		}
		go func() { done <- d.Serve(ctx, dln) }()
		// No owned_headers: the headers a remote decision sets are
		// forwarded past the cache because the authorize function marks
		// them, and its set replaces any inbound copy.
		file = edgeFile(org.Addr(), "", fmt.Sprintf(`functions:
  authorize:
    service_url: http://%s/
    secret_header_value: ${CRED}
    max_retries: 1`, dln.Addr()))
	}
	f, err := config.ParseEdge("edgeward.yaml", []byte(file), lookup)
	if err != nil {
		t.Fatalf("%s config: %v", mode, err)
	}
	e, err := app.NewEdge(ctx, "edgeward.yaml", f, app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	go func() { done <- e.Serve(ctx, edgeLn) }()
	t.Cleanup(func() {
		cancel()
		for range cap(done) {
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Error("server did not stop")
				return
			}
		}
	})
	if mode == "embedded" {
		done <- nil // only one server runs
	}
	return "http://" + edgeAddr
}

// TestServe_EmbeddedAndStandaloneDecideAlike sends one table of requests
// through the real edge with the decision service embedded and with it
// standalone over the sideband API: the answers and what reaches the
// origin must be the same.
func TestServe_EmbeddedAndStandaloneDecideAlike(t *testing.T) {
	iss := tokentest.NewIssuer(t)
	read := iss.Mint(map[string]any{"sub": "alice", "aud": "https://api.example.com", "scope": "orders:read"})
	write := iss.Mint(map[string]any{"sub": "bob", "aud": "https://api.example.com", "scope": "orders:read orders:write"})
	wrongAud := iss.Mint(map[string]any{"sub": "eve", "aud": "https://other.example.com", "scope": "orders:read"})
	expired := iss.Mint(map[string]any{"sub": "eve", "aud": "https://api.example.com", "scope": "orders:read", "exp": time.Now().Add(-time.Hour).Unix()})
	forged := iss.Mint(map[string]any{"sub": "eve", "aud": "https://api.example.com", "scope": "orders:read"}, tokentest.WithUnknownKey())

	tests := []struct {
		name       string
		method     string
		path       string
		token      string
		header     map[string]string
		wantStatus int
		wantCache  string // X-Cache prefix, "" = not checked
		wantOrigin bool   // the request reached the origin
		wantUser   string // X-User-Id at the origin
	}{
		{name: "no token is 401", method: "GET", path: "/orders/1", wantStatus: 401},
		{name: "read token misses then reaches the origin as alice", method: "GET", path: "/orders/1", token: read, wantStatus: 200, wantCache: "Miss", wantOrigin: true, wantUser: "alice"},
		{name: "read token hits the cache", method: "GET", path: "/orders/1", token: read, wantStatus: 200, wantCache: "Hit"},
		{name: "a cached object is not served without a token", method: "GET", path: "/orders/1", wantStatus: 401},
		{name: "a cached object is not served to a forged token", method: "GET", path: "/orders/1", token: forged, wantStatus: 401},
		{name: "read token on a write is 403", method: "POST", path: "/orders", token: read, wantStatus: 403},
		{name: "write token creates as bob; a spoofed x-user-id is stripped", method: "POST", path: "/orders", token: write, header: map[string]string{"X-User-Id": "mallory"}, wantStatus: 200, wantOrigin: true, wantUser: "bob"},
		{name: "wrong audience is 401", method: "GET", path: "/orders/2", token: wrongAud, wantStatus: 401},
		{name: "expired token is 401", method: "GET", path: "/orders/2", token: expired, wantStatus: 401},
		{name: "no operation is 403", method: "GET", path: "/admin", token: write, wantStatus: 403},
		{name: "encoded slash is refused before any decision", method: "GET", path: "/orders/1%2F..%2Fadmin", token: read, wantStatus: 400},
		{name: "client cannot send the gateway credential", method: "GET", path: "/orders/3", token: read, header: map[string]string{"CLIENT-TOKEN": "s3cret-gateway-credential"}, wantStatus: 200, wantOrigin: true, wantUser: "alice"},
	}

	for _, mode := range []string{"embedded", "standalone"} {
		t.Run(mode, func(t *testing.T) {
			org := origintest.New(t)
			org.HandleDefault(origintest.Reply{
				Header: http.Header{"Cache-Control": {"public, max-age=60"}, "Content-Type": {"application/json"}},
				Body:   []byte(`{"ok":true}`),
			})
			base := start(t, mode, iss, org)
			for _, tt := range tests {
				before := org.Count()
				req, _ := http.NewRequest(tt.method, base+tt.path, nil)
				if tt.token != "" {
					req.Header.Set("Authorization", "Bearer "+tt.token)
				}
				for k, v := range tt.header {
					req.Header.Set(k, v)
				}
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatalf("%s: %v", tt.name, err)
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != tt.wantStatus {
					t.Errorf("%s: %s %s = %d, want %d", tt.name, tt.method, tt.path, res.StatusCode, tt.wantStatus)
				}
				if res.Header.Get("X-Request-Id") == "" {
					t.Errorf("%s: no X-Request-Id on the response", tt.name)
				}
				if tt.wantCache != "" && !strings.HasPrefix(res.Header.Get("X-Cache"), tt.wantCache) {
					t.Errorf("%s: X-Cache = %q, want %s", tt.name, res.Header.Get("X-Cache"), tt.wantCache)
				}
				reached := org.Count() > before
				if reached != tt.wantOrigin {
					t.Errorf("%s: reached origin = %v, want %v", tt.name, reached, tt.wantOrigin)
				}
				if reached {
					got := org.Last()
					if u := got.Header.Get("X-User-Id"); u != tt.wantUser {
						t.Errorf("%s: origin X-User-Id = %q, want %q", tt.name, u, tt.wantUser)
					}
					if got.Header.Get("Authorization") != "" || got.Header.Get("Client-Token") != "" {
						t.Errorf("%s: credentials reached the origin: %v", tt.name, got.Header)
					}
					if !strings.HasPrefix(got.RequestURI, "/prod/") {
						t.Errorf("%s: origin got %q, want the stage path /prod prefixed", tt.name, got.RequestURI)
					}
				}
			}
		})
	}
}

// TestServe_DecisionServiceDownFailsClosed: with the standalone service
// unreachable, every request gets 502 and the origin sees nothing.
func TestServe_DecisionServiceDownFailsClosed(t *testing.T) {
	org := origintest.New(t)
	dead := listen(t)
	deadAddr := dead.Addr().String()
	dead.Close()
	f, err := config.ParseEdge("edgeward.yaml", []byte(edgeFile(org.Addr(), "", fmt.Sprintf(`functions:
  authorize:
    service_url: http://%s
    secret_header_value: ${CRED}
    timeout: 2s`, deadAddr))), lookup)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e, err := app.NewEdge(ctx, "edgeward.yaml", f, app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ln := listen(t)
	done := make(chan error, 1)
	go func() { done <- e.Serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-done })
	for _, p := range []string{"/orders/1", "/anything"} {
		res, err := http.Get("http://" + ln.Addr().String() + p)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusBadGateway {
			t.Errorf("GET %s with the decision service down = %d, want 502", p, res.StatusCode)
		}
	}
	if n := org.Count(); n != 0 {
		t.Errorf("origin saw %d requests, want 0", n)
	}
}

func sprintfModel(iss *tokentest.Issuer, edgeAddr string) string {
	return fmt.Sprintf(model, iss.URL(), iss.JWKSURL(), edgeAddr)
}
