package token

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/edgeward/edgeward/internal/size"
)

// Defaults and bounds of the configuration.
const (
	// DefaultClockSkew is the leeway for exp, nbf and iat.
	DefaultClockSkew = 30 * time.Second
	// DefaultRefreshInterval is how often a JWKS is fetched in the background.
	DefaultRefreshInterval = time.Hour
	// DefaultRefreshRateLimit is the least time between two refreshes caused
	// by tokens whose kid is not in the JWKS.
	DefaultRefreshRateLimit = time.Minute
	// DefaultCacheSize bounds the verified-token cache.
	DefaultCacheSize = 32 * size.MiB
	// DefaultCacheTTL is how long a verified token is trusted without
	// re-verifying it (never past its exp).
	DefaultCacheTTL = 5 * time.Minute
	// DefaultNegativeTTL is how long an invalid token is remembered.
	DefaultNegativeTTL = 10 * time.Second

	maxClockSkew = 5 * time.Minute
)

// DefaultAlgorithms is the allow-list used when an issuer names none.
func DefaultAlgorithms() []string { return []string{"RS256", "ES256", "EdDSA"} }

// supportedAlgorithms are the asymmetric algorithms a JWKS key can verify.
var supportedAlgorithms = []string{
	"RS256", "RS384", "RS512",
	"PS256", "PS384", "PS512",
	"ES256", "ES384", "ES512",
	"EdDSA",
}

// Defaults fills the zero fields with the documented defaults.
func (c *IssuerConfig) Defaults() {
	if len(c.Algorithms) == 0 {
		c.Algorithms = DefaultAlgorithms()
	}
	if c.ClockSkew == 0 {
		c.ClockSkew = DefaultClockSkew
	}
	if c.RefreshInterval == 0 {
		c.RefreshInterval = DefaultRefreshInterval
	}
	if c.RefreshRateLimit == 0 {
		c.RefreshRateLimit = DefaultRefreshRateLimit
	}
}

// Validate reports every problem of c, each as "key: message" with the key
// relative to the issuer's own section (decision.token_issuers.NAME).
func (c *IssuerConfig) Validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }

	iss, err := httpURL(c.Issuer)
	switch {
	case c.Issuer == "":
		add("issuer: required (the exact iss value of the issuer's tokens)")
	case err != nil && c.JWKSURL == "":
		add("issuer: %v (with no jwks_url the keys are found by OpenID discovery from the issuer URL)", err)
	case err != nil && !isAbsoluteURL(c.Issuer):
		add("issuer: %q is not a URL (want e.g. https://login.example.com)", c.Issuer)
	}
	jwks := iss
	if c.JWKSURL != "" {
		if jwks, err = httpURL(c.JWKSURL); err != nil {
			add("jwks_url: %v", err)
		}
	}
	for i, a := range c.Algorithms {
		switch {
		case strings.EqualFold(a, "none"):
			add("algorithms[%d]: %q is not allowed (unsigned tokens are never accepted)", i, a)
		case strings.HasPrefix(strings.ToUpper(a), "HS"):
			add("algorithms[%d]: %q is not allowed (HMAC cannot be used with a JWKS)", i, a)
		case !slices.Contains(supportedAlgorithms, a):
			add("algorithms[%d]: unknown algorithm %q (want one of %s)", i, a, strings.Join(supportedAlgorithms, ", "))
		case slices.Index(c.Algorithms, a) < i:
			add("algorithms[%d]: %q is listed twice", i, a)
		}
	}
	if len(c.Algorithms) == 0 {
		add("algorithms: must name at least one algorithm (e.g. [RS256, ES256, EdDSA])")
	}
	if c.ClockSkew < 0 || c.ClockSkew > maxClockSkew {
		add("clock_skew: must be between 0s and %v, got %v", maxClockSkew, c.ClockSkew)
	}
	if c.RefreshInterval <= 0 {
		add("refresh_interval: must be > 0, got %v", c.RefreshInterval)
	}
	if c.RefreshRateLimit <= 0 {
		add("refresh_rate_limit: must be > 0, got %v", c.RefreshRateLimit)
	}
	if c.CACertFile != "" {
		if _, err := loadCAs(c.CACertFile); err != nil {
			add("ca_file: %v", err)
		} else if jwks != nil && jwks.Scheme != "https" {
			add("ca_file: only used for an https JWKS, but the keys are fetched from %s", jwks.Redacted())
		}
	}
	return errors.Join(errs...)
}

// Defaults fills the zero fields with the documented defaults. A negative
// NegativeTTL stays: it turns negative caching off.
func (c *CacheConfig) Defaults() {
	if c.MaxSize == 0 {
		c.MaxSize = DefaultCacheSize
	}
	if c.TTL == 0 {
		c.TTL = DefaultCacheTTL
	}
	if c.NegativeTTL == 0 {
		c.NegativeTTL = DefaultNegativeTTL
	}
}

// Validate reports every problem of c, each as "key: message" with the key
// relative to the cache's own section.
func (c *CacheConfig) Validate() error {
	var errs []error
	if c.MaxSize < 4*size.KiB {
		errs = append(errs, fmt.Errorf("max_size: must be at least 4KiB, got %d bytes", c.MaxSize))
	}
	if c.TTL <= 0 {
		errs = append(errs, fmt.Errorf("ttl: must be > 0, got %v", c.TTL))
	}
	return errors.Join(errs...)
}

func isAbsoluteURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Scheme != "" && (u.Host != "" || u.Opaque != "")
}

// httpURL parses s as an absolute http or https URL with a host.
func httpURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("%q is not a URL", s)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("%q must be an http or https URL", s)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("%q has no host", s)
	}
	if u.User != nil {
		return nil, fmt.Errorf("%q must not carry credentials", u.Redacted())
	}
	return u, nil
}

// loadCAs reads a PEM bundle of CA certificates.
func loadCAs(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no PEM certificate", file)
	}
	return pool, nil
}
