// Package token verifies OAuth 2.0 JWT access tokens against trusted
// issuers' JWKS, and caches what it verified. It is the decision service's
// hot path: a verified token is remembered by its SHA-256 until it expires.
package token

import (
	"context"
	"errors"
	"time"

	"github.com/edgeward/edgeward/internal/size"
)

// IssuerConfig is one trusted access-token issuer (decision.token_issuers.NAME).
type IssuerConfig struct {
	// Issuer is the exact iss value.
	Issuer string `yaml:"issuer"`
	// JWKSURL is where the signing keys are; empty means OpenID discovery
	// from Issuer + "/.well-known/openid-configuration".
	JWKSURL string `yaml:"jwks_url"`
	// Algorithms is the explicit allow-list (default [RS256, ES256, EdDSA]).
	// "none" and HS* are never accepted.
	Algorithms []string `yaml:"algorithms"`
	// ClockSkew is the leeway for exp, nbf and iat (default 30s).
	ClockSkew time.Duration `yaml:"clock_skew"`
	// CACertFile is a PEM CA bundle for an HTTPS JWKS URL.
	CACertFile string `yaml:"ca_file"`
	// RefreshInterval is how often the JWKS is refreshed in the background
	// (default 1h); RefreshRateLimit bounds refreshes on an unknown kid
	// (default one per 5m... see Validate).
	RefreshInterval  time.Duration `yaml:"refresh_interval"`
	RefreshRateLimit time.Duration `yaml:"refresh_rate_limit"`
}

// CacheConfig bounds the verified-token cache.
type CacheConfig struct {
	// MaxSize bounds the cache's bytes (default 32MiB).
	MaxSize size.Bytes `yaml:"max_size"`
	// TTL caps how long a verified token is trusted without re-verifying
	// (default 5m; never past exp).
	TTL time.Duration `yaml:"ttl"`
	// NegativeTTL is how long an invalid token is remembered (default 10s).
	NegativeTTL time.Duration `yaml:"negative_ttl"`
}

// Claims are the verified claims of an access token.
type Claims struct {
	Issuer    string
	Subject   string
	Audience  []string
	ClientID  string
	Scopes    []string
	ExpiresAt time.Time
	// Raw holds every claim as decoded JSON (map[string]any values), for
	// groups, templates and CEL conditions.
	Raw map[string]any
}

// Error is an invalid token. Description is short and safe to show in an
// RFC 6750 error_description (it never contains the token).
type Error struct {
	Description string
	Err         error
}

// Error implements error.
func (e *Error) Error() string { return "invalid token: " + e.Description }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// ErrNotImplemented is returned by the placeholder bodies below.
var ErrNotImplemented = errors.New("token: not implemented")

// Cache is the verified-token cache shared by every Verifier of a decision
// service. It is keyed by SHA-256 of the token and the issuer name, and
// bounded in bytes.
type Cache struct{}

// NewCache returns a cache bounded by cfg.
func NewCache(cfg CacheConfig) *Cache { return &Cache{} }

// Verifier verifies tokens of one trusted issuer.
type Verifier struct{}

// New returns a Verifier for the issuer named name. It starts fetching the
// JWKS in the background (ctx bounds its lifetime); it does not fail when
// the JWKS is unreachable at start (requests then fail with an *Error until
// keys arrive).
func New(ctx context.Context, name string, cfg IssuerConfig, cache *Cache) (*Verifier, error) {
	return nil, ErrNotImplemented
}

// Verify checks raw (the compact JWT, without "Bearer ") and returns its
// claims, from the cache when it was verified before. The audience is not
// checked here (each API service checks its own). Errors are *Error.
func (v *Verifier) Verify(ctx context.Context, raw string) (*Claims, error) {
	return nil, ErrNotImplemented
}

// Close stops background refreshes.
func (v *Verifier) Close() {}
