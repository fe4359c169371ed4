package decision

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// exampleConfig is DECISION.md's model (with a reachable issuer URL).
const exampleConfig = `
credential_header: CLIENT-TOKEN
gateway_credentials: [s3cret-one, s3cret-two]
token_issuers:
  demo:
    issuer: http://127.0.0.1:1
    jwks_url: http://127.0.0.1:1/.well-known/jwks.json
    algorithms: [RS256, ES256, EdDSA]
    clock_skew: 30s
api_services:
  - name: Orders API
    base_urls: [https://api.example.com, http://127.0.0.1:8080]
    token_issuer: demo
    audience: https://api.example.com
    access_control:
      authentication: required
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
`

func TestValidate_AcceptsTheDocumentedExample(t *testing.T) {
	t.Parallel()
	c := parseConfig(t, exampleConfig)
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate() = %v, want nil", err)
	}
	if err := c.RequireCredentials(); err != nil {
		t.Errorf("RequireCredentials() = %v, want nil", err)
	}
}

func TestDefaults_FillDocumentedValues(t *testing.T) {
	t.Parallel()
	c := parseConfig(t, `
api_services:
  - name: S
    base_urls: [https://a.example]
    audience: x
    operations:
      - name: op
        paths: [{type: EXACT, pattern: /}]
        access_control: {scopes: {values: [a]}}
`)
	got := []any{c.CredentialHeader, c.DecisionLog.Buffer, int64(c.MaxBodyBytes),
		c.APIServices[0].AccessControl.Authentication, c.APIServices[0].Operations[0].AccessControl.Scopes.Match,
		c.APIServices[0].AccessControl.GroupsClaim}
	want := []any{"CLIENT-TOKEN", 4096, int64(1 << 20), "required", "ANY", "groups"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Defaults() (-want +got):\n%s", diff)
	}
}

func TestValidate_ReportsEveryProblemWithItsPath(t *testing.T) {
	t.Parallel()
	c := parseConfig(t, `
credential_header: "bad header"
gateway_credentials: [""]
token_issuers:
  demo: {issuer: http://127.0.0.1:1, algorithms: [HS256]}
api_services:
  - name: A
    base_urls: ["ftp://x", "https://a.example/v1/../x", "https://a.example:443/"]
    token_issuer: nope
    access_control: {authentication: sometimes, condition: "request.method ==", scopes: {match: SOME, values: []}}
    operations:
      - name: op
        methods: [GET, get]
        paths:
          - {type: PARAMETER, pattern: "/a/**/b"}
          - {type: EXACT, pattern: "a"}
          - {pattern: /x}
          - {type: REGEX, pattern: /y}
          - {type: PARAMETER, pattern: /z}
      - name: cond
        paths: [{type: EXACT, pattern: /c}]
        access_control: {condition: "'text'"}
    statements:
      set_headers: {x-user: "{{claims.sub", x-other: "{{request.ip}}", x-p: "{{params.nope}}", host: "h"}
      remove_headers: ["bad name"]
    response_statements:
      set_headers: {x-r: "{{claims.sub}}"}
  - name: B
    base_urls: ["https://A.example"]
    operations: []
`)
	err := c.Validate()
	if err == nil {
		t.Fatal("Validate() = nil, want errors")
	}
	msg := err.Error()
	for _, want := range []string{
		`credential_header: "bad header" is not a valid header name`,
		`gateway_credentials[0]: empty`,
		`token_issuers.demo.algorithms[0]: "HS256" is not allowed`,
		`api_services[0].base_urls[0]: "ftp://x": scheme must be http or https`,
		`api_services[0].base_urls[1]: "https://a.example/v1/../x": path: dot segments`,
		`api_services[1].base_urls[0]: "https://A.example" is also api_services[0].base_urls[2]`,
		`api_services[0].token_issuer: unknown token issuer "nope" (known: demo)`,
		`api_services[0].access_control.authentication: "sometimes" is not required, optional or none`,
		`api_services[0].access_control.scopes.match: "SOME" is not ANY or ALL`,
		`api_services[0].access_control.scopes.values: at least one scope is required`,
		`api_services[0].access_control.condition: does not compile`,
		`api_services[0].operations[0].methods[1]: GET is listed twice`,
		`api_services[0].operations[0].paths[0].pattern: "**" must be last`,
		`api_services[0].operations[0].paths[1].pattern: must start with "/"`,
		`api_services[0].operations[0].paths[2].type: required (EXACT or PARAMETER)`,
		`api_services[0].operations[0].paths[3].type: "REGEX" is not EXACT or PARAMETER`,
		`api_services[0].operations[0].paths[4].pattern: a PARAMETER pattern must contain a wildcard`,
		`api_services[0].operations[1].access_control.condition: must be a boolean expression, not string`,
		`api_services[1].audience: required when authentication is required`,
		`api_services[0].statements.set_headers.x-user: unclosed "{{"`,
		`api_services[0].statements.set_headers.x-other: unknown template variable "request.ip"`,
		`api_services[0].statements.set_headers.x-p: template variable "params.nope": no pattern of this service binds {nope}`,
		`api_services[0].statements.set_headers.host: "host" frames or routes the request`,
		`api_services[0].statements.remove_headers[0]: "bad name" is not a header name`,
		`api_services[0].response_statements.set_headers.x-r: templates are not available in response_statements`,
		`api_services[1].operations: at least one operation is required`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("Validate() lacks %q; got:\n%s", want, msg)
		}
	}
	// Every problem is its own "path: message" error.
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		if i := strings.Index(e.Error(), ": "); i <= 0 || strings.ContainsAny(e.Error()[:i], " \"") {
			t.Errorf("error %q does not start with a key path", e)
		}
	}
}

func TestValidate_RefusesScopesWithoutAuthentication(t *testing.T) {
	t.Parallel()
	c := parseConfig(t, `
api_services:
  - name: S
    base_urls: [https://a.example]
    access_control: {authentication: none}
    operations:
      - name: op
        paths: [{type: EXACT, pattern: /}]
        access_control: {scopes: {values: [a]}}
`)
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), "api_services[0].operations[0].access_control: scopes and groups need a token") {
		t.Errorf("Validate() = %v, want the scopes-without-token error", err)
	}
}

func TestRequireCredentials_NeedsOne(t *testing.T) {
	t.Parallel()
	var c Config
	if err := c.RequireCredentials(); err == nil || !strings.HasPrefix(err.Error(), "gateway_credentials: ") {
		t.Errorf("RequireCredentials() = %v, want a gateway_credentials error", err)
	}
}

func TestHeaderNames_ListsEverySettableHeader(t *testing.T) {
	t.Parallel()
	c := parseConfig(t, `
api_services:
  - name: A
    base_urls: [https://a.example]
    access_control: {authentication: none}
    operations: [{name: op, paths: [{type: EXACT, pattern: /}]}]
    statements: {set_headers: {X-User-ID: "{{claims.sub}}", x-tenant: t}, remove_headers: [authorization]}
    response_statements: {set_headers: {x-served-by: edgeward}}
  - name: B
    base_urls: [https://b.example]
    access_control: {authentication: none}
    operations: [{name: op, paths: [{type: EXACT, pattern: /}]}]
    statements: {set_headers: {x-user-id: "{{claims.sub}}", x-b: b}}
`)
	want := []string{"x-b", "x-tenant", "x-user-id"}
	if diff := cmp.Diff(want, c.HeaderNames()); diff != "" {
		t.Errorf("HeaderNames() (-want +got):\n%s", diff)
	}
}

func TestValidate_PrecedenceTies(t *testing.T) {
	t.Parallel()
	type op struct {
		methods string // YAML list
		typ     string
		pattern string
	}
	tests := []struct {
		name    string
		a, b    op
		wantTie bool
	}{
		{"same shape, same methods", op{"[GET]", "PARAMETER", "/orders/{id}"}, op{"[GET]", "PARAMETER", "/orders/*"}, true},
		{"same shape, disjoint methods", op{"[GET]", "PARAMETER", "/orders/{id}"}, op{"[POST]", "PARAMETER", "/orders/*"}, false},
		{"documented example: {id} and ** by method", op{"[GET, HEAD]", "PARAMETER", "/orders/{id}"}, op{"[POST, PUT]", "PARAMETER", "/orders/**"}, false},
		{"{id} and ** with a common method", op{"[GET]", "PARAMETER", "/orders/{id}"}, op{"[GET]", "PARAMETER", "/orders/**"}, true},
		{"all methods overlap", op{"[]", "PARAMETER", "/a/*"}, op{"[DELETE]", "PARAMETER", "/a/{x}"}, true},
		{"more literal segments wins", op{"[GET]", "PARAMETER", "/a/b/*"}, op{"[GET]", "PARAMETER", "/a/*/*"}, false},
		{"fewer wildcards wins", op{"[GET]", "PARAMETER", "/a/x*"}, op{"[GET]", "PARAMETER", "/a/*x*"}, false},
		{"crossing literals tie", op{"[GET]", "PARAMETER", "/a/*/c"}, op{"[GET]", "PARAMETER", "/a/b/*"}, true},
		{"disjoint globs", op{"[GET]", "PARAMETER", "/f/*.json"}, op{"[GET]", "PARAMETER", "/f/*.xml"}, false},
		{"overlapping globs", op{"[GET]", "PARAMETER", "/f/*.json"}, op{"[GET]", "PARAMETER", "/f/a*"}, true},
		{"disjoint literal prefixes", op{"[GET]", "PARAMETER", "/a/*"}, op{"[GET]", "PARAMETER", "/b/*"}, false},
		{"different depth", op{"[GET]", "PARAMETER", "/a/*"}, op{"[GET]", "PARAMETER", "/*/b/c"}, false},
		{"rest prefixes disjoint", op{"[GET]", "PARAMETER", "/a/x**"}, op{"[GET]", "PARAMETER", "/a/y**"}, false},
		{"rest prefixes overlap", op{"[GET]", "PARAMETER", "/a/x**"}, op{"[GET]", "PARAMETER", "/a/*y**"}, false}, // 1 vs 2 wildcards
		{"rest vs deeper glob", op{"[GET]", "PARAMETER", "/a/**"}, op{"[GET]", "PARAMETER", "/a/*/c/*"}, false},   // 2 vs 1 literals
		{"rest vs deeper param", op{"[GET]", "PARAMETER", "/**"}, op{"[GET]", "PARAMETER", "/{x}"}, true},
		{"EXACT duplicate", op{"[GET]", "EXACT", "/a"}, op{"[GET]", "EXACT", "/a"}, true},
		{"EXACT duplicate by method", op{"[GET]", "EXACT", "/a"}, op{"[POST]", "EXACT", "/a"}, false},
		{"EXACT over PARAMETER", op{"[GET]", "EXACT", "/a/b"}, op{"[GET]", "PARAMETER", "/a/*"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src := `
api_services:
  - name: S
    base_urls: [https://a.example]
    access_control: {authentication: none}
    operations:
      - {name: first, methods: ` + tt.a.methods + `, paths: [{type: ` + tt.a.typ + `, pattern: "` + tt.a.pattern + `"}]}
      - {name: second, methods: ` + tt.b.methods + `, paths: [{type: ` + tt.b.typ + `, pattern: "` + tt.b.pattern + `"}]}
`
			c := parseConfig(t, src)
			err := c.Validate()
			want := `api_services[0].operations[1].paths[0].pattern: "` + tt.b.pattern + `" ties with operations[0].paths[0]`
			gotTie := err != nil && strings.Contains(err.Error(), want)
			if gotTie != tt.wantTie {
				t.Errorf("Validate() = %v, want tie %v", err, tt.wantTie)
			}
			if err != nil && !gotTie {
				t.Errorf("Validate() = %v, want no other error", err)
			}
		})
	}
}

func TestDecide_Precedence(t *testing.T) {
	t.Parallel()
	e := newTestEngine(t, `
api_services:
  - name: S
    base_urls: [https://a.example]
    access_control: {authentication: none}
    operations:
      - {name: exact, methods: [GET], paths: [{type: EXACT, pattern: /orders/new}]}
      - {name: param, methods: [GET], paths: [{type: PARAMETER, pattern: "/orders/{id}"}]}
      - {name: items, methods: [GET], paths: [{type: PARAMETER, pattern: "/orders/{id}/items"}]}
      - {name: rest, methods: [GET], paths: [{type: PARAMETER, pattern: "/orders/{id}/**"}]}
      - {name: writes, methods: [POST], paths: [{type: PARAMETER, pattern: "/orders/**"}]}
      - {name: fallback, methods: [GET], paths: [{type: PARAMETER, pattern: "/**"}]}
`)
	tests := []struct {
		method, path string
		want         string
	}{
		{"GET", "/orders/new", "exact"},
		{"GET", "/orders/7", "param"},
		{"GET", "/orders/7/items", "items"},
		{"GET", "/orders/7/items/3", "rest"},
		{"GET", "/orders/7/other", "rest"},
		{"POST", "/orders/new", "writes"}, // EXACT matches the path, not the method
		{"POST", "/orders/7", "writes"},
		{"GET", "/elsewhere", "fallback"},
		{"GET", "/", "fallback"},
	}
	for _, tt := range tests {
		d := e.Decide(t.Context(), request(tt.method, "https://a.example"+tt.path))
		if d.Operation != tt.want {
			t.Errorf("Decide(%s %s).Operation = %q (%s), want %q", tt.method, tt.path, d.Operation, d.Reason, tt.want)
		}
	}
}
