package demo

import (
	"bytes"
	"net"
	"text/template"
)

// Stage is the demo origin's stage path: the origin URL is
// http://127.0.0.1:PORT/prod, as an API Gateway REST API's invoke URL ends
// in its stage.
const Stage = "/prod"

// Layout is what the generated configuration needs to know: where each
// part of the demo listens.
type Layout struct {
	// Listen is the edge's viewer listener, host:port.
	Listen string
	// Admin is the admin listener, host:port or "off".
	Admin string
	// OriginURL is the Orders API's URL, stage path included.
	OriginURL string
	// IssuerURL is the token issuer's identifier.
	IssuerURL string
	// AccessLog writes the CloudFront-format access log to stdout.
	AccessLog bool
	// TraceEndpoint is an OTLP/HTTP collector's URL; empty: tracing off.
	TraceEndpoint string
}

// baseURLs are the URLs a client of the edge may address it by: the
// decision service's Orders API service matches requests by them.
func (l Layout) baseURLs() []string {
	host, port, err := net.SplitHostPort(l.Listen)
	if err != nil {
		return []string{"http://" + l.Listen}
	}
	urls := []string{"http://" + net.JoinHostPort("127.0.0.1", port), "http://" + net.JoinHostPort("localhost", port)}
	if ip := net.ParseIP(host); host != "" && host != "localhost" && (ip == nil || !ip.IsUnspecified()) && host != "127.0.0.1" {
		urls = append(urls, "http://"+net.JoinHostPort(host, port))
	}
	return urls
}

// configTemplate is the demo's configuration: the same file an operator
// would write for `edgeward serve` (examples/edgeward.yaml is it with fixed
// ports), so that the demo goes through the real loader and builder.
var configTemplate = template.Must(template.New("edgeward.yaml").Parse(`# edgeward demo: generated at start for the ports in use.
listen: {{.Listen}}
admin: "{{.Admin}}"
shutdown_grace: 5s

origins:
  orders-api:
    url: {{.OriginURL}}            # the demo Orders API; the path is the stage

behaviors:
  # Single orders are cached as the origin says (Cache-Control: public,
  # max-age=30), after authorization: every request is authorized, hit or miss.
  - path_pattern: "/orders/*"
    origin: orders-api
    allowed_methods: [GET, HEAD, OPTIONS, PUT, POST, PATCH, DELETE]
    viewer_request: authorize
    cache: {min_ttl: 0s, default_ttl: 60s, max_ttl: 1h}
  - path_pattern: "*"
    origin: orders-api
    allowed_methods: [GET, HEAD, OPTIONS, PUT, POST, PATCH, DELETE]
    viewer_request: authorize

# No functions section: "authorize" calls the embedded decision service.
decision:
  token_issuers:
    demo:
      issuer: {{.IssuerURL}}
      jwks_url: {{.IssuerURL}}/.well-known/jwks.json
      algorithms: [RS256, ES256]
  api_services:
    - name: Orders API
      base_urls:{{range .BaseURLs}}
        - {{.}}{{end}}
      token_issuer: demo
      audience: {{.Audience}}
      operations:
        - name: Read orders
          methods: [GET, HEAD]
          paths:
            - {type: EXACT, pattern: /orders}
            - {type: PARAMETER, pattern: "/orders/{id}"}
          access_control:
            scopes: {match: ANY, values: [orders:read]}
        - name: Change orders
          methods: [POST, PUT, PATCH, DELETE]
          paths:
            - {type: EXACT, pattern: /orders}
            - {type: PARAMETER, pattern: "/orders/{id}"}
          access_control:
            scopes: {match: ALL, values: [orders:write]}
      statements:
        # The origin learns who called, and never sees the token.
        set_headers: {x-user-id: "{{"{{"}}claims.sub{{"}}"}}"}
        remove_headers: [authorization]

logging:
  level: warn
  access_log: {path: {{if .AccessLog}}stdout{{else}}"off"{{end}}}
{{- if .TraceEndpoint}}

tracing:
  endpoint: {{printf "%q" .TraceEndpoint}}
  service_name: edgeward-demo
{{- end}}
`))

// Config returns the demo's configuration for l, as YAML for
// config.ParseEdge.
func Config(l Layout) []byte {
	var b bytes.Buffer
	err := configTemplate.Execute(&b, struct {
		Layout
		BaseURLs []string
		Audience string
	}{l, l.baseURLs(), Audience})
	if err != nil {
		panic("demo: config template: " + err.Error()) // the template is fixed; tested
	}
	return b.Bytes()
}

// noEnv resolves no ${ENV} reference: the demo's configuration has none
// and must not depend on the caller's environment.
func noEnv(string) (string, bool) { return "", false }
