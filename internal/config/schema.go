package config

import (
	"github.com/edgeward/edgeward/internal/accesslog"
	"github.com/edgeward/edgeward/internal/authorizer"
	"github.com/edgeward/edgeward/internal/decision"
	"github.com/edgeward/edgeward/internal/edge"
	"github.com/edgeward/edgeward/internal/fleet"
	"github.com/edgeward/edgeward/internal/httpcache"
	"github.com/edgeward/edgeward/internal/origin"
	"github.com/edgeward/edgeward/internal/protect"
	"github.com/edgeward/edgeward/internal/tracing"
)

// Edge is the file of `edgeward serve`: the edge, its origins, behaviors and
// functions, and optionally the embedded decision service.
type Edge struct {
	edge.Config `yaml:",inline"`
	// Admin is the admin listener: /healthz, /readyz, /metrics,
	// /invalidations and /v1/decisions/explain. Default 127.0.0.1:9901;
	// "off" disables it.
	Admin     string                       `yaml:"admin"`
	Origins   map[string]origin.Config     `yaml:"origins"`
	Behaviors []Behavior                   `yaml:"behaviors"`
	Functions map[string]authorizer.Config `yaml:"functions"`
	Decision  *decision.Config             `yaml:"decision"`
	Cache     httpcache.StoreConfig        `yaml:"cache"`
	Logging   Logging                      `yaml:"logging"`
	// Fleet joins this edge to a fleet sharing a Redis (fleet.go); absent
	// for a single node.
	Fleet *fleet.Config `yaml:"fleet"`
	// Protections are the security protections behaviors reference.
	Protections protect.Config `yaml:"protections"`
	// Tracing exports OpenTelemetry spans (off unless tracing.endpoint is
	// set); it changes only on restart.
	Tracing tracing.Config `yaml:"tracing"`
}

// Behavior is one entry of behaviors: CloudFront's cache behavior.
type Behavior struct {
	PathPattern    string   `yaml:"path_pattern"`
	Origin         string   `yaml:"origin"`
	AllowedMethods []string `yaml:"allowed_methods"`
	// ViewerRequest names a function of functions (or "authorize", which
	// exists implicitly, calling the embedded decision service, when the
	// file has a decision section).
	ViewerRequest string `yaml:"viewer_request"`
	// Cache is the behavior's cache policy; absent means no caching.
	Cache *httpcache.PolicyConfig `yaml:"cache"`
	// CachePolicy, OriginRequestPolicy, ResponseHeadersPolicy and
	// ResponseHeaders name CloudFront's managed policies or hold a custom
	// response headers policy (see policies.go).
	CachePolicy           string                      `yaml:"cache_policy"`
	OriginRequestPolicy   string                      `yaml:"origin_request_policy"`
	ResponseHeadersPolicy string                      `yaml:"response_headers_policy"`
	ResponseHeaders       *edge.ResponseHeadersConfig `yaml:"response_headers"`
	// Protection names a set of protections.sets (empty: none).
	Protection string `yaml:"protection"`
}

// Logging configures the process log and the access log.
type Logging struct {
	// Level is debug, info, warn or error (default info).
	Level string `yaml:"level"`
	// Format is json (default) or text, for the process log on stderr.
	Format    string              `yaml:"format"`
	AccessLog accesslog.LogConfig `yaml:"access_log"`
}

// Decision is the file of `edgeward decision serve`: the decision service
// alone.
type Decision struct {
	// Listen is the sideband listener (default 127.0.0.1:8081).
	Listen string `yaml:"listen"`
	// TLS serves the sideband API over HTTPS.
	TLS *edge.TLSConfig `yaml:"tls"`
	// Admin is the admin listener (default off): /healthz, /readyz,
	// /metrics, /v1/decisions/explain.
	Admin    string          `yaml:"admin"`
	Decision decision.Config `yaml:"decision"`
	Logging  Logging         `yaml:"logging"`
}
