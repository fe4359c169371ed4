package config

import (
	"strings"
	"testing"
	"time"
)

func TestResolvePolicies(t *testing.T) {
	t.Parallel()
	const head = "origins:\n  api: {url: \"http://127.0.0.1:9\"}\nbehaviors:\n"
	f, err := ParseEdge("p.yaml", []byte(head+`  - path_pattern: "/static/*"
    origin: api
    cache_policy: Managed-CachingOptimized
    origin_request_policy: CORS-CustomOrigin
    response_headers_policy: SecurityHeadersPolicy
  - path_pattern: "*"
    origin: api
    allowed_methods: [GET, HEAD, OPTIONS]
    cache_policy: CachingDisabled
    response_headers:
      cors: {allow_origins: ["https://app.example"], allow_methods: [GET]}
      remove: [Server]
`), nil)
	if err != nil {
		t.Fatalf("ParseEdge = %v", err)
	}
	b := f.Behaviors[0]
	if b.Cache == nil || b.Cache.MinTTL != time.Second || *b.Cache.MaxTTL != 31536000*time.Second || !b.Cache.Compress {
		t.Errorf("CachingOptimized resolved to %+v", b.Cache)
	}
	if b.Cache.Forward.Headers.Include[0] != "Origin" {
		t.Errorf("CORS-CustomOrigin forward = %+v, want Origin", b.Cache.Forward.Headers)
	}
	if b.ResponseHeaders == nil || b.ResponseHeaders.Security.ContentTypeOptions == nil {
		t.Errorf("SecurityHeadersPolicy resolved to %+v", b.ResponseHeaders)
	}
	d := f.Behaviors[1]
	if *d.Cache.MaxTTL != 0 || d.ResponseHeaders.CORS.AllowOrigins[0] != "https://app.example" {
		t.Errorf("CachingDisabled + custom headers resolved to %+v %+v", d.Cache, d.ResponseHeaders)
	}
}

func TestResolvePolicies_Errors(t *testing.T) {
	t.Parallel()
	const head = "origins:\n  api: {url: \"http://127.0.0.1:9\"}\nbehaviors:\n"
	tests := []struct {
		name, behavior, want string
	}{
		{"unknown cache policy", `cache_policy: CachingMaybe`, "p.yaml:6: behaviors[0].cache_policy: unknown managed cache policy \"CachingMaybe\""},
		{"cache policy and cache", "cache_policy: CachingOptimized\n    cache: {min_ttl: 0s}", "behaviors[0].cache_policy: cache_policy and cache cannot both be set"},
		{"origin request policy without a cache", `origin_request_policy: AllViewer`, "behaviors[0].origin_request_policy: needs cache_policy or cache:"},
		{"origin request policy and forward", "origin_request_policy: AllViewer\n    cache: {forward: {headers: all}}", "origin_request_policy and cache.forward cannot both be set"},
		{"unknown response headers policy", `response_headers_policy: CORS-Allow-All-Origins`, "unknown managed response headers policy \"CORS-Allow-All-Origins\""},
		{"both response headers forms", "response_headers_policy: SimpleCORS\n    response_headers: {remove: [Server]}", "response_headers_policy and response_headers cannot both be set"},
		{"bad custom policy", "response_headers: {remove: [Content-Length]}", "behaviors[0].response_headers.remove[0]: Content-Length cannot be removed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			doc := head + "  - path_pattern: \"*\"\n    origin: api\n    " + tt.behavior + "\n"
			_, err := ParseEdge("p.yaml", []byte(doc), nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseEdge = %v, want %q", err, tt.want)
			}
		})
	}
}
