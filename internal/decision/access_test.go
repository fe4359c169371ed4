package decision

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/edgeward/edgeward/internal/token"
	"github.com/edgeward/edgeward/internal/token/tokentest"
)

const aud = "https://api.example.com"

// ordersConfig is the documented model against a test issuer.
func ordersConfig(iss *tokentest.Issuer) string {
	return `
token_issuers:
  demo:
    issuer: ` + iss.URL() + `
    jwks_url: ` + iss.JWKSURL() + `
api_services:
  - name: Orders API
    base_urls: [https://api.example.com]
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
          scopes: {match: ALL, values: [orders:write, orders:audit]}
          groups: [order-managers]
          condition: 'claims.tenant == request.headers["x-tenant"]'
      - name: Health
        methods: [GET]
        paths: [{type: EXACT, pattern: /health}]
        access_control: {authentication: none}
      - name: Catalog
        methods: [GET]
        paths: [{type: PARAMETER, pattern: "/catalog/**"}]
        access_control: {authentication: optional}
    statements:
      set_headers: {x-user-id: "{{claims.sub}}", x-order: "order-{{params.id}}", x-tenant-name: "{{claims.org.name}}"}
      remove_headers: [authorization]
`
}

func TestDecide_AccessControl(t *testing.T) {
	t.Parallel()
	iss := tokentest.NewIssuer(t)
	e := newTestEngine(t, ordersConfig(iss))
	mint := func(claims map[string]any, opts ...tokentest.Option) string {
		base := map[string]any{"sub": "alice", "aud": aud}
		for k, v := range claims {
			base[k] = v
		}
		return "Bearer " + iss.Mint(base, opts...)
	}
	reader := mint(map[string]any{"scope": "orders:read"})
	writer := mint(map[string]any{"scope": []string{"orders:write", "orders:audit"}, "groups": []string{"staff", "order-managers"}, "tenant": "t1"})
	realm := `Bearer realm="Orders API"`
	tests := []struct {
		name       string
		in         *Input
		wantStatus int
		wantReason Reason
		wantAuth   string // WWW-Authenticate, "" for none
	}{
		{"read with scope", get(aud+"/orders/7", "authorization", reader), 200, ReasonAllowed, ""},
		{"scheme is case-insensitive", get(aud+"/orders", "Authorization", "bearer "+strings.TrimPrefix(reader, "Bearer ")), 200, ReasonAllowed, ""},
		{"missing token", get(aud + "/orders/7"), 401, ReasonTokenMissing, realm},
		{"basic is no bearer token", get(aud+"/orders/7", "authorization", "Basic YTpi"), 401, ReasonTokenMissing, realm},
		{"empty bearer", get(aud+"/orders/7", "authorization", "Bearer "), 401, ReasonTokenInvalid, realm + `, error="invalid_token", error_description="empty bearer token"`},
		{"several authorization headers", get(aud+"/orders/7", "authorization", reader, "Authorization", reader), 401, ReasonTokenInvalid, realm + `, error="invalid_token", error_description="several Authorization headers"`},
		{"garbage token", get(aud+"/orders/7", "authorization", "Bearer not.a.jwt"), 401, ReasonTokenInvalid, realm + `, error="invalid_token", error_description="malformed token"`},
		{"expired", get(aud+"/orders/7", "authorization", mint(map[string]any{"scope": "orders:read", "exp": time.Now().Add(-time.Hour).Unix()})), 401, ReasonTokenInvalid, realm + `, error="invalid_token", error_description="token expired"`},
		{"not yet valid", get(aud+"/orders/7", "authorization", mint(map[string]any{"scope": "orders:read", "nbf": time.Now().Add(time.Hour).Unix()})), 401, ReasonTokenInvalid, realm + `, error="invalid_token", error_description="token not yet valid"`},
		{"wrong audience", get(aud+"/orders/7", "authorization", mint(map[string]any{"scope": "orders:read", "aud": "https://other"})), 401, ReasonTokenInvalid, realm + `, error="invalid_token", error_description="the token is not for this audience"`},
		{"wrong issuer", get(aud+"/orders/7", "authorization", mint(map[string]any{"scope": "orders:read", "iss": "https://evil"})), 401, ReasonTokenInvalid, realm + `, error="invalid_token", error_description="wrong issuer"`},
		{"alg none", get(aud+"/orders/7", "authorization", mint(map[string]any{"scope": "orders:read"}, tokentest.WithAlgNone())), 401, ReasonTokenInvalid, realm + `, error="invalid_token", error_description="algorithm not allowed"`},
		{"HS256 with the public key", get(aud+"/orders/7", "authorization", mint(map[string]any{"scope": "orders:read"}, tokentest.WithHS256PublicKey())), 401, ReasonTokenInvalid, realm + `, error="invalid_token", error_description="algorithm not allowed"`},
		{"scope missing (ANY)", get(aud+"/orders/7", "authorization", mint(map[string]any{"scope": "profile"})), 403, ReasonScope, realm + `, error="insufficient_scope", scope="orders:read orders:admin"`},
		{"scope as array (ANY)", get(aud+"/orders/7", "authorization", mint(map[string]any{"scope": []string{"x", "orders:admin"}})), 200, ReasonAllowed, ""},
		{"scp accepted", get(aud+"/orders/7", "authorization", mint(map[string]any{"scp": []string{"orders:read"}})), 200, ReasonAllowed, ""},
		{"ALL with every scope", request("POST", aud+"/orders/7", "authorization", writer, "x-tenant", "t1"), 200, ReasonAllowed, ""},
		{"ALL missing one", request("POST", aud+"/orders/7", "authorization", mint(map[string]any{"scope": "orders:write", "groups": []string{"order-managers"}, "tenant": "t1"}), "x-tenant", "t1"), 403, ReasonScope, realm + `, error="insufficient_scope", scope="orders:write orders:audit"`},
		{"not in group", request("POST", aud+"/orders/7", "authorization", mint(map[string]any{"scope": "orders:write orders:audit", "groups": []string{"staff"}, "tenant": "t1"}), "x-tenant", "t1"), 403, ReasonGroups, ""},
		{"group as one string", request("POST", aud+"/orders/7", "authorization", mint(map[string]any{"scope": "orders:write orders:audit", "groups": "order-managers", "tenant": "t1"}), "x-tenant", "t1"), 200, ReasonAllowed, ""},
		{"condition false", request("POST", aud+"/orders/7", "authorization", writer, "x-tenant", "t2"), 403, ReasonCondition, ""},
		{"condition error (no header)", request("POST", aud+"/orders/7", "authorization", writer), 403, ReasonConditionError, ""},
		{"authentication none", get(aud + "/health"), 200, ReasonAllowed, ""},
		{"none ignores a bad token", get(aud+"/health", "authorization", "Bearer junk"), 200, ReasonAllowed, ""},
		{"optional without token", get(aud + "/catalog/x"), 200, ReasonAllowed, ""},
		{"optional with a bad token", get(aud+"/catalog/x", "authorization", "Bearer junk"), 401, ReasonTokenInvalid, realm + `, error="invalid_token", error_description="malformed token"`},
		{"method not allowed", request("PUT", aud+"/orders", "authorization", writer), 405, ReasonMethod, ""},
		{"no operation", get(aud+"/invoices", "authorization", reader), 403, ReasonNoOperation, ""},
		{"no service", get("https://elsewhere.example/orders", "authorization", reader), 404, ReasonNoService, ""},
		{"non-canonical path", get(aud+"/orders/%2e%2e/admin", "authorization", reader), 400, ReasonBadPath, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := e.Decide(t.Context(), tt.in)
			if d.Status != tt.wantStatus || d.Reason != tt.wantReason || d.WWWAuthenticate != tt.wantAuth {
				t.Errorf("Decide(%s %s) = %d %s %q (%s), want %d %s %q",
					tt.in.Method, tt.in.Path, d.Status, d.Reason, d.WWWAuthenticate, d.Description, tt.wantStatus, tt.wantReason, tt.wantAuth)
			}
			if d.Allowed != (tt.wantStatus == 200) {
				t.Errorf("Decide(%s %s).Allowed = %v, want %v", tt.in.Method, tt.in.Path, d.Allowed, tt.wantStatus == 200)
			}
			if !d.Allowed {
				body := string(d.DenyBody("req-1"))
				if !strings.Contains(body, `"request_id":"req-1"`) || !strings.Contains(body, `"error":"`+d.Error+`"`) {
					t.Errorf("Decide(%s %s).DenyBody = %s, want the error and the request id", tt.in.Method, tt.in.Path, body)
				}
				if strings.Contains(body, "eyJ") || strings.Contains(d.WWWAuthenticate, "eyJ") {
					t.Errorf("Decide(%s %s) deny carries a token: %s", tt.in.Method, tt.in.Path, body)
				}
			}
		})
	}
}

func TestDecide_MethodNotAllowedListsAllow(t *testing.T) {
	t.Parallel()
	e := newTestEngine(t, `
api_services:
  - name: S
    base_urls: [https://a.example]
    access_control: {authentication: none}
    operations:
      - {name: read, methods: [GET, HEAD], paths: [{type: EXACT, pattern: /orders}]}
      - {name: create, methods: [POST], paths: [{type: PARAMETER, pattern: "/orders**"}]}
      - {name: other, methods: [DELETE], paths: [{type: PARAMETER, pattern: "/other/*"}]}
`)
	d := e.Decide(t.Context(), request("PUT", "https://a.example/orders"))
	if d.Status != 405 || d.Allow != "GET, HEAD, POST" {
		t.Errorf("Decide(PUT /orders) = %d Allow %q, want 405 %q", d.Status, d.Allow, "GET, HEAD, POST")
	}
	if diff := cmp.Diff([]Header{{"content-type", "application/json"}, {"allow", "GET, HEAD, POST"}}, d.DenyHeaders(nil)); diff != "" {
		t.Errorf("DenyHeaders (-want +got):\n%s", diff)
	}
}

func TestDecide_StatementsResolveTemplates(t *testing.T) {
	t.Parallel()
	iss := tokentest.NewIssuer(t)
	e := newTestEngine(t, ordersConfig(iss))
	tok := iss.Mint(map[string]any{"sub": "alice", "aud": aud, "scope": "orders:read", "org": map[string]any{"name": "Acme"}})
	d := e.Decide(t.Context(), get(aud+"/orders/42", "authorization", "Bearer "+tok, "x-user-id", "mallory"))
	if !d.Allowed {
		t.Fatalf("Decide = %d %s, want allow", d.Status, d.Reason)
	}
	wantSet := []Header{{"x-order", "order-42"}, {"x-tenant-name", "Acme"}, {"x-user-id", "alice"}}
	if diff := cmp.Diff(wantSet, d.SetHeaders); diff != "" {
		t.Errorf("SetHeaders (-want +got):\n%s", diff)
	}
	wantRemove := []string{"x-order", "x-tenant-name", "x-user-id", "authorization"}
	if diff := cmp.Diff(wantRemove, d.RemoveHeaders); diff != "" {
		t.Errorf("RemoveHeaders (-want +got):\n%s", diff)
	}
	if d.Subject != "alice" || d.Service != "Orders API" || d.Operation != "Read orders" {
		t.Errorf("Decide = subject %q service %q operation %q, want alice, Orders API, Read orders", d.Subject, d.Service, d.Operation)
	}

	// Missing variables render empty: the header is removed, never set
	// empty, and never left as the client sent it.
	d = e.Decide(t.Context(), get(aud+"/orders", "authorization", "Bearer "+iss.Mint(map[string]any{"sub": "bob", "aud": aud, "scope": "orders:read"})))
	wantSet = []Header{{"x-order", "order-"}, {"x-user-id", "bob"}}
	if diff := cmp.Diff(wantSet, d.SetHeaders); diff != "" {
		t.Errorf("SetHeaders without org and id (-want +got):\n%s", diff)
	}
}

func TestDecide_StatementRefusesInjectedHeaderValue(t *testing.T) {
	t.Parallel()
	iss := tokentest.NewIssuer(t)
	e := newTestEngine(t, ordersConfig(iss))
	tok := iss.Mint(map[string]any{"sub": "alice\r\nx-admin: true", "aud": aud, "scope": "orders:read"})
	d := e.Decide(t.Context(), get(aud+"/orders/1", "authorization", "Bearer "+tok))
	if d.Allowed || d.Reason != ReasonStatement {
		t.Errorf("Decide with a CRLF sub = %v %s, want a statement_error deny", d.Allowed, d.Reason)
	}
}

func TestDecide_AccessTokenObject(t *testing.T) {
	t.Parallel()
	iss := tokentest.NewIssuer(t)
	now := time.Now()
	c := parseConfig(t, ordersConfig(iss))
	e, err := New(t.Context(), c, Options{Clock: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	claims := func(mod func(*token.Claims)) *token.Claims {
		c := &token.Claims{Issuer: iss.URL(), Subject: "kong-user", Audience: []string{aud}, Scopes: []string{"orders:read"}, ExpiresAt: now.Add(time.Minute)}
		if mod != nil {
			mod(c)
		}
		return c
	}
	tests := []struct {
		name       string
		claims     *token.Claims
		inactive   bool
		wantStatus int
		wantDesc   string
	}{
		{"valid", claims(nil), false, 200, ""},
		{"inactive", claims(nil), true, 401, "the token is not active"},
		{"wrong audience", claims(func(c *token.Claims) { c.Audience = []string{"other"} }), false, 401, "the token is not for this audience"},
		{"expired past skew", claims(func(c *token.Claims) { c.ExpiresAt = now.Add(-time.Hour) }), false, 401, "the token has expired"},
		{"expired within skew", claims(func(c *token.Claims) { c.ExpiresAt = now.Add(-10 * time.Second) }), false, 200, ""},
		{"other issuer", claims(func(c *token.Claims) { c.Issuer = "https://evil" }), false, 401, "the token's issuer is not trusted here"},
		{"scope missing", claims(func(c *token.Claims) { c.Scopes = nil }), false, 403, "the token lacks a required scope"},
	}
	for _, tt := range tests {
		in := get(aud+"/orders/1", "authorization", "Bearer ignored-when-the-object-is-present")
		in.Claims, in.ClaimsInactive = tt.claims, tt.inactive
		d := e.Decide(t.Context(), in)
		if d.Status != tt.wantStatus || d.Description != tt.wantDesc {
			t.Errorf("%s: Decide = %d %q, want %d %q", tt.name, d.Status, d.Description, tt.wantStatus, tt.wantDesc)
		}
		if tt.wantStatus == 200 && d.Subject != "kong-user" {
			t.Errorf("%s: Subject = %q, want kong-user", tt.name, d.Subject)
		}
	}
}

func TestDecide_ConditionSeesRequest(t *testing.T) {
	t.Parallel()
	e := newTestEngine(t, `
api_services:
  - name: S
    base_urls: [https://a.example]
    access_control: {authentication: none}
    operations:
      - name: op
        paths: [{type: PARAMETER, pattern: "/t/{tenant}/**"}]
        access_control:
          condition: >-
            request.method == "GET" && request.path.startsWith("/t/") &&
            request.params.tenant == "acme" && request.query["v"] == "2" &&
            request.headers["x-env"] == "prod" && request.source_ip == "10.0.0.1" &&
            claims.size() == 0
`)
	ok := get("https://a.example/t/acme/x?v=2&v=3", "X-Env", "prod")
	ok.SourceIP = "10.0.0.1"
	if d := e.Decide(t.Context(), ok); !d.Allowed {
		t.Errorf("Decide(matching request) = %d %s %v, want allow", d.Status, d.Reason, d.Trace)
	}
	bad := get("https://a.example/t/other/x?v=2", "X-Env", "prod")
	bad.SourceIP = "10.0.0.1"
	if d := e.Decide(t.Context(), bad); d.Allowed || d.Reason != ReasonCondition {
		t.Errorf("Decide(other tenant) = %v %s, want condition_false", d.Allowed, d.Reason)
	}
}

func TestDecide_ConditionCostLimitDenies(t *testing.T) {
	t.Parallel()
	e := newTestEngine(t, `
api_services:
  - name: S
    base_urls: [https://a.example]
    access_control: {authentication: none}
    operations:
      - name: op
        paths: [{type: PARAMETER, pattern: "/**"}]
        access_control:
          condition: 'request.headers["x"].split(",").all(a, request.headers["x"].split(",").all(b, a != b || a == b))'
`)
	in := get("https://a.example/", "x", strings.Repeat("a,", 2000))
	d := e.Decide(t.Context(), in)
	if d.Allowed || d.Reason != ReasonConditionError {
		t.Errorf("Decide(expensive condition) = %v %s, want condition_error", d.Allowed, d.Reason)
	}
}

func TestDecide_TraceOnlyWhenAsked(t *testing.T) {
	t.Parallel()
	iss := tokentest.NewIssuer(t)
	e := newTestEngine(t, ordersConfig(iss))
	in := get(aud+"/orders/7", "authorization", "Bearer "+iss.Mint(map[string]any{"sub": "alice", "aud": aud, "scope": "profile"}))
	if d := e.Decide(t.Context(), in); d.Trace != nil {
		t.Errorf("Decide without Trace built a trace: %v", d.Trace)
	}
	in.Trace = true
	d := e.Decide(t.Context(), in)
	var steps []string
	for _, s := range d.Trace.Steps {
		steps = append(steps, s.Step+":"+s.Outcome)
	}
	want := []string{"path:canonical", "service:matched", "operation:matched", "token:valid", "scopes:failed", "decision:deny"}
	if diff := cmp.Diff(want, steps); diff != "" {
		t.Errorf("Trace steps (-want +got):\n%s", diff)
	}
	for _, s := range d.Trace.Steps {
		if strings.Contains(s.Detail, "eyJ") {
			t.Errorf("trace step %v carries the token", s)
		}
	}
}
