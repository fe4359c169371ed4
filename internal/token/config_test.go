package token_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/edgeward/edgeward/internal/size"
	"github.com/edgeward/edgeward/internal/token"
)

// lines splits a joined error into its messages ("" → none).
func lines(err error) []string {
	if err == nil {
		return nil
	}
	return strings.Split(err.Error(), "\n")
}

func TestIssuerConfig_Defaults(t *testing.T) {
	t.Parallel()
	var c token.IssuerConfig
	c.Defaults()
	want := token.IssuerConfig{
		Algorithms:       []string{"RS256", "ES256", "EdDSA"},
		ClockSkew:        30 * time.Second,
		RefreshInterval:  time.Hour,
		RefreshRateLimit: time.Minute,
	}
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("Defaults() mismatch (-want +got):\n%s", diff)
	}
}

func TestIssuerConfig_Validate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.pem")
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, selfSigned(t), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		edit func(*token.IssuerConfig)
		want []string
	}{
		{"valid with jwks_url", func(c *token.IssuerConfig) {}, nil},
		{"valid by discovery", func(c *token.IssuerConfig) { c.JWKSURL = "" }, nil},
		{"issuer missing", func(c *token.IssuerConfig) { c.Issuer = "" },
			[]string{"issuer: required (the exact iss value of the issuer's tokens)"}},
		{"issuer not a URL", func(c *token.IssuerConfig) { c.Issuer = "demo" },
			[]string{`issuer: "demo" is not a URL (want e.g. https://login.example.com)`}},
		{"non-http issuer needs a jwks_url", func(c *token.IssuerConfig) { c.Issuer = "urn:example:idp"; c.JWKSURL = "" },
			[]string{`issuer: "urn:example:idp" must be an http or https URL (with no jwks_url the keys are found by OpenID discovery from the issuer URL)`}},
		{"non-http issuer with a jwks_url", func(c *token.IssuerConfig) { c.Issuer = "urn:example:idp" }, nil},
		{"jwks_url not http", func(c *token.IssuerConfig) { c.JWKSURL = "file:///etc/jwks.json" },
			[]string{`jwks_url: "file:///etc/jwks.json" must be an http or https URL`}},
		{"jwks_url without host", func(c *token.IssuerConfig) { c.JWKSURL = "https:///jwks" },
			[]string{`jwks_url: "https:///jwks" has no host`}},
		{"algorithms refused", func(c *token.IssuerConfig) { c.Algorithms = []string{"RS256", "HS256", "none", "RS1", "RS256"} },
			[]string{
				`algorithms[1]: "HS256" is not allowed (HMAC cannot be used with a JWKS)`,
				`algorithms[2]: "none" is not allowed (unsigned tokens are never accepted)`,
				`algorithms[3]: unknown algorithm "RS1" (want one of RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA)`,
				`algorithms[4]: "RS256" is listed twice`,
			}},
		{"alg None in any case", func(c *token.IssuerConfig) { c.Algorithms = []string{"None"} },
			[]string{`algorithms[0]: "None" is not allowed (unsigned tokens are never accepted)`}},
		{"bounds", func(c *token.IssuerConfig) {
			c.ClockSkew = time.Hour
			c.RefreshInterval = -time.Second
			c.RefreshRateLimit = -time.Second
		}, []string{
			"clock_skew: must be between 0s and 5m0s, got 1h0m0s",
			"refresh_interval: must be > 0, got -1s",
			"refresh_rate_limit: must be > 0, got -1s",
		}},
		{"ca_file with https", func(c *token.IssuerConfig) { c.CACertFile = ca }, nil},
		{"ca_file with an http JWKS", func(c *token.IssuerConfig) { c.JWKSURL = "http://idp.example/jwks"; c.CACertFile = ca },
			[]string{"ca_file: only used for an https JWKS, but the keys are fetched from http://idp.example/jwks"}},
		{"ca_file missing", func(c *token.IssuerConfig) { c.JWKSURL = "https://idp.example/jwks"; c.CACertFile = missing },
			[]string{"ca_file: open " + missing + ": no such file or directory"}},
		{"ca_file not PEM", func(c *token.IssuerConfig) { c.JWKSURL = "https://idp.example/jwks"; c.CACertFile = notPEM },
			[]string{"ca_file: " + notPEM + " holds no PEM certificate"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := token.IssuerConfig{Issuer: "https://idp.example", JWKSURL: "https://idp.example/jwks"}
			tt.edit(&c)
			c.Defaults()
			if diff := cmp.Diff(tt.want, lines(c.Validate())); diff != "" {
				t.Errorf("Validate() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// selfSigned is the PEM of a self-signed certificate.
func selfSigned(t testing.TB) []byte {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, priv)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func TestNew_RefusesInvalidConfig(t *testing.T) {
	t.Parallel()
	_, err := token.New(context.Background(), "demo", token.IssuerConfig{Issuer: "https://idp.example", Algorithms: []string{"HS256"}}, nil)
	if err == nil || !strings.Contains(err.Error(), `algorithms[0]: "HS256" is not allowed`) {
		t.Errorf("New(HS256) = %v, want the algorithms error", err)
	}
}

func TestCacheConfig_DefaultsAndValidate(t *testing.T) {
	t.Parallel()
	var c token.CacheConfig
	c.Defaults()
	want := token.CacheConfig{MaxSize: 32 * size.MiB, TTL: 5 * time.Minute, NegativeTTL: 10 * time.Second}
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("Defaults() mismatch (-want +got):\n%s", diff)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate(defaults) = %v, want nil", err)
	}
	bad := token.CacheConfig{MaxSize: 100, TTL: -time.Second, NegativeTTL: -1}
	wantErr := []string{"max_size: must be at least 4KiB, got 100 bytes", "ttl: must be > 0, got -1s"}
	if diff := cmp.Diff(wantErr, lines(bad.Validate())); diff != "" {
		t.Errorf("Validate() mismatch (-want +got):\n%s", diff)
	}
}
