package decisionapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp/cmpopts"
	"go.yaml.in/yaml/v3"

	"github.com/edgeward/edgeward/internal/decision"
	"github.com/edgeward/edgeward/internal/token/tokentest"
)

var cmpEmptyHeaders = cmpopts.EquateEmpty()

const (
	cred1 = "gw-credential-one"
	cred2 = "gw-credential-two"
	aud   = "https://api.example.com"
)

// ordersYAML is the documented model against a test issuer, with response
// statements and a small body limit.
func ordersYAML(iss *tokentest.Issuer) string {
	return `
gateway_credentials: [` + cred1 + `, ` + cred2 + `]
max_body_bytes: 4KB
token_issuers:
  demo: {issuer: "` + iss.URL() + `", jwks_url: "` + iss.JWKSURL() + `"}
api_services:
  - name: Orders API
    base_urls: [https://api.example.com, http://127.0.0.1:8080]
    token_issuer: demo
    audience: ` + aud + `
    operations:
      - name: Read orders
        methods: [GET, HEAD]
        paths:
          - {type: EXACT, pattern: /orders}
          - {type: PARAMETER, pattern: "/orders/{id}"}
        access_control:
          scopes: {match: ANY, values: [orders:read, orders:admin]}
      - name: Change orders
        methods: [POST, PUT, PATCH, DELETE]
        paths: [{type: PARAMETER, pattern: "/orders/**"}]
        access_control:
          scopes: {match: ALL, values: [orders:write]}
          groups: [order-managers]
          condition: 'claims.tenant == request.headers["x-tenant"]'
    statements:
      set_headers: {x-user-id: "{{claims.sub}}"}
      remove_headers: [authorization]
    response_statements:
      remove_headers: [server, x-powered-by]
      set_headers: {x-content-type-options: nosniff}
`
}

func parseConfig(t testing.TB, src string) decision.Config {
	t.Helper()
	var c decision.Config
	dec := yaml.NewDecoder(strings.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("decode config: %v", err)
	}
	c.Defaults()
	return c
}

func newEngine(t testing.TB, src string) *decision.Engine {
	t.Helper()
	e, err := decision.New(context.Background(), parseConfig(t, src), decision.Options{})
	if err != nil {
		t.Fatalf("decision.New: %v", err)
	}
	t.Cleanup(e.Close)
	return e
}

// fixture is a Service over the orders model and its issuer.
type fixture struct {
	iss *tokentest.Issuer
	svc *Service
}

func newFixture(t testing.TB, opts Options) *fixture {
	t.Helper()
	iss := tokentest.NewIssuer(t)
	return &fixture{iss: iss, svc: NewService(newEngine(t, ordersYAML(iss)), opts)}
}

// token mints a token for the orders API with claims added.
func (f *fixture) token(claims map[string]any) string {
	c := map[string]any{"sub": "alice", "aud": aud, "scope": "orders:read"}
	for k, v := range claims {
		c[k] = v
	}
	return f.iss.Mint(c)
}

// post sends body to h; headers are name, value pairs.
func post(h http.Handler, path, body string, headers ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Add(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}
