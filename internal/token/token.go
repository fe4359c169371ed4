package token

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgeward/edgeward/internal/size"
)

// MaxTokenBytes is the largest token a Verifier parses; longer ones are
// refused before any decoding.
const MaxTokenBytes = 8 << 10

// IssuerConfig is one trusted access-token issuer (decision.token_issuers.NAME).
type IssuerConfig struct {
	// Issuer is the exact iss value; an absolute URL.
	Issuer string `yaml:"issuer"`
	// JWKSURL is where the signing keys are; empty means OpenID discovery
	// from Issuer + "/.well-known/openid-configuration".
	JWKSURL string `yaml:"jwks_url"`
	// Algorithms is the explicit allow-list (default [RS256, ES256, EdDSA]).
	// "none" and HS* are never accepted.
	Algorithms []string `yaml:"algorithms"`
	// ClockSkew is the leeway for exp, nbf and iat (default 30s, at most 5m).
	ClockSkew time.Duration `yaml:"clock_skew"`
	// CACertFile is a PEM CA bundle for an HTTPS JWKS URL (and discovery).
	// When set, it replaces the system roots for this issuer.
	CACertFile string `yaml:"ca_file"`
	// RefreshInterval is how often the JWKS is refreshed in the background
	// (default 1h).
	RefreshInterval time.Duration `yaml:"refresh_interval"`
	// RefreshRateLimit is the least time between two refreshes caused by
	// tokens with an unknown kid (default 1m).
	RefreshRateLimit time.Duration `yaml:"refresh_rate_limit"`
}

// CacheConfig bounds the verified-token cache.
type CacheConfig struct {
	// MaxSize bounds the cache's bytes, as estimated from the tokens'
	// sizes (default 32MiB).
	MaxSize size.Bytes `yaml:"max_size"`
	// TTL caps how long a verified token is trusted without re-verifying
	// (default 5m; never past exp).
	TTL time.Duration `yaml:"ttl"`
	// NegativeTTL is how long an invalid token is remembered (default 10s;
	// negative turns negative caching off). Errors that may go away without
	// the token changing (unknown kid, keys unavailable, not yet valid) are
	// never remembered.
	NegativeTTL time.Duration `yaml:"negative_ttl"`
}

// Claims are the verified claims of an access token. Claims returned by
// Verify are shared with the cache and other requests: treat them as
// read-only.
type Claims struct {
	Issuer string
	// Subject is sub.
	Subject string
	// Audience is aud, a string or an array in the token.
	Audience []string
	// ClientID is client_id, or azp when the token has no client_id.
	ClientID string
	// Scopes is scope (a space-separated string or an array), or scp when
	// the token has no scope.
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

// ErrNotImplemented was returned by the package's placeholder bodies.
//
// Deprecated: nothing returns it any more.
var ErrNotImplemented = errors.New("token: not implemented")

// Option changes how a Verifier or a Cache is built.
type Option func(*options)

type options struct {
	reg   prometheus.Registerer
	log   *slog.Logger
	now   func() time.Time
	clock bool
}

func newOptions(opts []Option) options {
	o := options{now: time.Now}
	for _, f := range opts {
		f(&o)
	}
	if o.log == nil {
		o.log = slog.New(slog.DiscardHandler)
	}
	return o
}

// WithRegisterer registers the package's metrics on reg (nil: no metrics).
// Verifiers of several issuers may share one Registerer.
func WithRegisterer(reg prometheus.Registerer) Option {
	return func(o *options) { o.reg = reg }
}

// WithLogger sets the logger for JWKS fetch failures (nil: discard).
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.log = l }
}

// WithClock replaces time.Now for token times and cache expiry, for tests.
// A Verifier and its Cache should be given the same clock.
func WithClock(now func() time.Time) Option {
	return func(o *options) {
		if now != nil {
			o.now, o.clock = now, true
		}
	}
}

// Verifier verifies tokens of one trusted issuer. It is safe for concurrent
// use.
type Verifier struct {
	name   string
	prefix string // the cache key prefix, see keyPrefix
	issuer string
	algs   []string
	parser *jwt.Parser
	cache  *Cache
	keys   *keys
	m      *issuerMetrics
	cancel context.CancelFunc
}

// New returns a Verifier for the issuer named name. It applies cfg's
// Defaults and refuses a cfg that fails Validate. It starts fetching the
// JWKS in the background (ctx bounds its lifetime, as does Close); it does
// not fail when the JWKS is unreachable at start (requests then fail with
// an *Error until keys arrive). cache may be nil (no caching) and may be
// shared by the Verifiers of several issuers.
func New(ctx context.Context, name string, cfg IssuerConfig, cache *Cache, opts ...Option) (*Verifier, error) {
	o := newOptions(opts)
	cfg.Algorithms = slices.Clone(cfg.Algorithms)
	cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m := newMetrics(o.reg).issuer(name)
	client, err := newHTTPClient(&cfg, m)
	if err != nil {
		return nil, err
	}
	base, cancel := context.WithCancel(ctx)
	v := &Verifier{
		name:   name,
		prefix: keyPrefix(name, &cfg),
		issuer: cfg.Issuer,
		algs:   cfg.Algorithms,
		parser: jwt.NewParser(
			jwt.WithValidMethods(cfg.Algorithms),
			jwt.WithLeeway(cfg.ClockSkew),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithIssuer(cfg.Issuer),
			jwt.WithStrictDecoding(),
			jwt.WithTimeFunc(o.now),
		),
		cache:  cache,
		keys:   newKeys(base, &cfg, client, o.log, m),
		m:      m,
		cancel: cancel,
	}
	v.keys.start()
	go v.keys.run()
	return v, nil
}

// Name is the issuer's name in the configuration.
func (v *Verifier) Name() string { return v.name }

// Issuer is the iss value the Verifier accepts.
func (v *Verifier) Issuer() string { return v.issuer }

// Verify checks raw (the compact JWT, without "Bearer ") and returns its
// claims, from the cache when it was verified before. The audience is not
// checked here (each API service checks its own). Errors are *Error. Verify
// never waits past ctx: a kid missing from the JWKS or keys not yet fetched
// cost at most one rate-limited fetch bounded by ctx.
func (v *Verifier) Verify(ctx context.Context, raw string) (*Claims, error) {
	if len(raw) > MaxTokenBytes {
		e := invalid(descMalformed, errTooLarge)
		v.m.verified(e)
		return nil, e
	}
	k := key(v.prefix, raw)
	if e, ok := v.cache.get(k); ok {
		v.m.cacheHit()
		if e.err != nil {
			return nil, e.err
		}
		return e.claims, nil
	}
	if v.cache != nil {
		v.m.cacheMiss()
	}
	c, e := v.verify(ctx, raw)
	v.m.verified(e)
	if e != nil {
		v.cache.putError(k, e)
		return nil, e
	}
	v.cache.putClaims(k, c, len(raw))
	return c, nil
}

// verify checks raw without the cache.
func (v *Verifier) verify(ctx context.Context, raw string) (*Claims, *Error) {
	if strings.Count(raw, ".") != 2 {
		return nil, invalid(descMalformed, jwt.ErrTokenMalformed)
	}
	mc := jwt.MapClaims{}
	tok, err := v.parser.ParseWithClaims(raw, mc, func(t *jwt.Token) (any, error) {
		return v.key(ctx, t)
	})
	if err != nil {
		alg := ""
		if tok != nil {
			alg, _ = tok.Header["alg"].(string)
		}
		_, hasExp := mc["exp"]
		return nil, classify(err, slices.Contains(v.algs, alg), hasExp)
	}
	c, err := newClaims(mc)
	if err != nil {
		return nil, invalid(descMalformed, err)
	}
	return c, nil
}

// key is the jwt.Keyfunc: the checks that must pass before any key is
// looked up, then the JWKS lookup.
func (v *Verifier) key(ctx context.Context, t *jwt.Token) (any, error) {
	for _, h := range [...]string{"jku", "jwk", "x5u", "x5c"} {
		if _, ok := t.Header[h]; ok {
			return nil, invalid(descKeyHeader, errHeader)
		}
	}
	if _, ok := t.Header["crit"]; ok {
		return nil, invalid(descCritical, errCrit)
	}
	if alg, _ := t.Header["alg"].(string); !slices.Contains(v.algs, alg) {
		return nil, invalid(descAlgorithm, errAlg)
	}
	if iss, _ := t.Claims.(jwt.MapClaims)["iss"].(string); iss != v.issuer {
		return nil, invalid(descIssuer, errWrongIssuer)
	}
	kid, hasKID := t.Header["kid"]
	if _, ok := kid.(string); hasKID && !ok {
		return nil, invalid(descMalformed, errors.New("kid is not a string"))
	}
	kf, err := v.keys.keyfunc(ctx)
	if err != nil {
		return nil, invalid(descUnknownKey, err)
	}
	if !hasKID {
		return candidates(ctx, kf, t.Method.Alg())
	}
	// An error here is a kid not found after the rate-limited refresh, or a
	// key whose own alg or use does not fit the token.
	key, err := kf.KeyfuncCtx(ctx)(t)
	if err != nil {
		if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
			// Let callers tell "no time to refresh" from "no such key".
			err = fmt.Errorf("%w (%w)", err, cerr)
		}
		return nil, invalid(descUnknownKey, err)
	}
	return key, nil
}

// Close stops background refreshes.
func (v *Verifier) Close() {
	v.cancel()
	v.keys.client.CloseIdleConnections()
}

// keyPrefix is what the cache key hashes before the token: the issuer's
// name and NUL, then a fingerprint of the settings that decide validity
// and NUL. With the fingerprint, a Verifier rebuilt by a configuration
// reload (say, with an algorithm removed) never trusts what the old one
// cached in a shared Cache.
func keyPrefix(name string, cfg *IssuerConfig) string {
	fp := sha256.Sum256(fmt.Appendf(nil, "%q %q %q %q %d", cfg.Issuer, cfg.JWKSURL, cfg.CACertFile, cfg.Algorithms, cfg.ClockSkew))
	return name + "\x00" + hex.EncodeToString(fp[:8]) + "\x00"
}
