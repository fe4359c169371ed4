package token_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgeward/edgeward/internal/token"
	"github.com/edgeward/edgeward/internal/token/tokentest"
)

// counter is the value of the counter name{labels...} in reg (0 when it
// has not been counted yet).
func counter(t testing.TB, reg *prometheus.Registry, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metric:
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, l := range m.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for i := 0; i+1 < len(labels); i += 2 {
				if have[labels[i]] != labels[i+1] {
					continue metric
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

func TestVerify_UnknownKIDRefreshesOnceThenFails(t *testing.T) {
	t.Parallel()
	iss := tokentest.NewIssuer(t)
	v := newVerifier(t, iss, nil)
	if _, err := v.Verify(t.Context(), iss.Mint(nil)); err != nil {
		t.Fatalf("Verify(valid) = %v, want claims", err)
	}
	if got := iss.Fetches(); got != 1 {
		t.Fatalf("JWKS fetches after start = %d, want 1", got)
	}

	_, err := v.Verify(t.Context(), iss.Mint(nil, tokentest.WithUnknownKey()))
	if got := description(t, err); got != "unknown signing key" {
		t.Errorf("Verify(unknown kid) = %q, want unknown signing key", got)
	}
	if got := iss.Fetches(); got != 2 {
		t.Errorf("JWKS fetches after an unknown kid = %d, want 2 (one refresh)", got)
	}

	_, err = v.Verify(t.Context(), iss.Mint(map[string]any{"sub": "other"}, tokentest.WithUnknownKey(), tokentest.WithKID("another")))
	if got := description(t, err); got != "unknown signing key" {
		t.Errorf("Verify(second unknown kid) = %q, want unknown signing key", got)
	}
	if got := iss.Fetches(); got != 2 {
		t.Errorf("JWKS fetches after a second unknown kid in the rate window = %d, want 2", got)
	}
}

func TestVerify_WrongIssuerNeverFetches(t *testing.T) {
	t.Parallel()
	iss := tokentest.NewIssuer(t)
	v := newVerifier(t, iss, nil)
	if _, err := v.Verify(t.Context(), iss.Mint(nil)); err != nil {
		t.Fatalf("Verify(valid) = %v, want claims", err)
	}
	raw := iss.Mint(map[string]any{"iss": "https://evil.example"}, tokentest.WithUnknownKey())
	if _, err := v.Verify(t.Context(), raw); description(t, err) != "wrong issuer" {
		t.Errorf("Verify(wrong iss, unknown kid) = %v, want wrong issuer", err)
	}
	if got := iss.Fetches(); got != 1 {
		t.Errorf("JWKS fetches = %d, want 1 (a wrong iss must not cause a refresh)", got)
	}
}

func TestVerify_KeyRotation(t *testing.T) {
	t.Parallel()
	iss := tokentest.NewIssuer(t)
	v := newVerifier(t, iss, nil)
	old := iss.Mint(map[string]any{"sub": "old"})
	if _, err := v.Verify(t.Context(), old); err != nil {
		t.Fatalf("Verify(old key) = %v, want claims", err)
	}
	oldKID := iss.KID(tokentest.RS256)
	newKID := iss.Rotate()
	if newKID == oldKID {
		t.Fatalf("Rotate() = %q, the old kid", newKID)
	}
	c, err := v.Verify(t.Context(), iss.Mint(map[string]any{"sub": "new"}))
	if err != nil {
		t.Fatalf("Verify(new key after rotation) = %v, want claims", err)
	}
	if c.Subject != "new" {
		t.Errorf("Verify(new key).Subject = %q, want new", c.Subject)
	}
	if got := iss.Fetches(); got != 2 {
		t.Errorf("JWKS fetches = %d, want 2 (start + one refresh)", got)
	}
	// The old key is still published: a token signed with it, never seen
	// before, still verifies without another fetch.
	if _, err := v.Verify(t.Context(), iss.Mint(map[string]any{"sub": "old2"}, tokentest.WithSigningKey(oldKID))); err != nil {
		t.Errorf("Verify(token signed with the old key) = %v, want claims", err)
	}
	if got := iss.Fetches(); got != 2 {
		t.Errorf("JWKS fetches = %d, want still 2", got)
	}
}

func TestVerify_RetiredKeyFailsAfterRefresh(t *testing.T) {
	t.Parallel()
	iss := tokentest.NewIssuer(t)
	oldKID := iss.KID(tokentest.RS256)
	iss.Rotate()
	iss.Retire(oldKID)
	v := newVerifier(t, iss, nil)
	if _, err := v.Verify(t.Context(), iss.Mint(nil)); err != nil {
		t.Fatalf("Verify(current key) = %v, want claims", err)
	}
	_, err := v.Verify(t.Context(), iss.Mint(nil, tokentest.WithSigningKey(oldKID)))
	if got := description(t, err); got != "unknown signing key" {
		t.Errorf("Verify(token signed with a retired key) = %q, want unknown signing key", got)
	}
}

func TestVerify_JWKSDownAtStartThenUp(t *testing.T) {
	t.Parallel()
	for _, discovery := range []bool{false, true} {
		name := "jwks_url"
		if discovery {
			name = "discovery"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			iss := tokentest.NewIssuer(t)
			iss.SetDown(true)
			v := newVerifier(t, iss, func(c *token.IssuerConfig) {
				// The failed refresh of the first request uses the
				// limiter's token; the second request waits this
				// long for the next one.
				c.RefreshRateLimit = 10 * time.Millisecond
				if discovery {
					c.JWKSURL = ""
				}
			})
			raw := iss.Mint(nil)
			_, err := v.Verify(t.Context(), raw)
			if got := description(t, err); got != "unknown signing key" {
				t.Fatalf("Verify while the JWKS is down = %q, want unknown signing key", got)
			}
			iss.SetDown(false)
			if _, err := v.Verify(t.Context(), raw); err != nil {
				t.Errorf("Verify once the JWKS is up = %v, want claims", err)
			}
		})
	}
}

func TestVerify_JWKSUpAfterStartWithoutTraffic(t *testing.T) {
	t.Parallel()
	iss := tokentest.NewIssuer(t)
	iss.SetDown(true)
	v := newVerifier(t, iss, nil)
	iss.SetDown(false)
	if _, err := v.Verify(t.Context(), iss.Mint(nil)); err != nil {
		t.Errorf("Verify = %v, want claims (the first unknown kid refreshes)", err)
	}
}

func TestVerify_Discovery(t *testing.T) {
	t.Parallel()
	iss := tokentest.NewIssuer(t)
	v := newVerifier(t, iss, func(c *token.IssuerConfig) { c.JWKSURL = "" })
	if _, err := v.Verify(t.Context(), iss.Mint(nil, tokentest.WithAlg(tokentest.EdDSA))); err != nil {
		t.Fatalf("Verify = %v, want claims", err)
	}
	if got := iss.DiscoveryFetches(); got != 1 {
		t.Errorf("discovery fetches = %d, want 1", got)
	}
}

func TestVerify_DiscoveryMustNameTheIssuer(t *testing.T) {
	t.Parallel()
	iss := tokentest.NewIssuer(t)
	// The configured issuer differs from the one the document names (a
	// trailing slash): the keys must not be trusted.
	v := newVerifier(t, iss, func(c *token.IssuerConfig) { c.Issuer = iss.URL() + "/"; c.JWKSURL = "" })
	_, err := v.Verify(t.Context(), iss.Mint(map[string]any{"iss": iss.URL() + "/"}))
	if got := description(t, err); got != "unknown signing key" {
		t.Errorf("Verify with a mismatched discovery document = %q, want unknown signing key", got)
	}
	if got := iss.Fetches(); got != 0 {
		t.Errorf("JWKS fetches = %d, want 0", got)
	}
}

func TestVerify_NeverBlocksPastTheDeadline(t *testing.T) {
	t.Parallel()
	iss := tokentest.NewIssuer(t)
	v := newVerifier(t, iss, nil)
	if _, err := v.Verify(t.Context(), iss.Mint(nil)); err != nil {
		t.Fatalf("Verify(valid) = %v, want claims", err)
	}
	release := iss.Stall()
	t.Cleanup(release)
	iss.Rotate()
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := v.Verify(ctx, iss.Mint(nil))
	elapsed := time.Since(start)
	if got := description(t, err); got != "unknown signing key" {
		t.Errorf("Verify with a hung JWKS = %q, want unknown signing key", got)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Verify with a hung JWKS = %v, want it to wrap context.DeadlineExceeded", err)
	}
	if elapsed > time.Second {
		t.Errorf("Verify with a hung JWKS took %v, want about the 100ms deadline", elapsed)
	}
}

func TestVerify_TLSWithCAFile(t *testing.T) {
	t.Parallel()
	iss := tokentest.NewTLSIssuer(t)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, iss.CertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Run("trusted", func(t *testing.T) {
		t.Parallel()
		v := newVerifier(t, iss, func(c *token.IssuerConfig) { c.CACertFile = ca })
		if _, err := v.Verify(t.Context(), iss.Mint(nil)); err != nil {
			t.Errorf("Verify over https with ca_file = %v, want claims", err)
		}
	})
	t.Run("untrusted", func(t *testing.T) {
		t.Parallel()
		v := newVerifier(t, iss, nil)
		if _, err := v.Verify(t.Context(), iss.Mint(nil)); description(t, err) != "unknown signing key" {
			t.Errorf("Verify over https without ca_file = %v, want unknown signing key", err)
		}
	})
}

func TestVerify_CountsMetrics(t *testing.T) {
	t.Parallel()
	iss := tokentest.NewIssuer(t)
	reg := prometheus.NewRegistry()
	v := newVerifier(t, iss, nil, token.WithRegisterer(reg))
	// A second verifier on the same registry shares the collectors.
	newVerifier(t, iss, nil, token.WithRegisterer(reg))
	raw := iss.Mint(nil)
	for range 3 {
		if _, err := v.Verify(t.Context(), raw); err != nil {
			t.Fatalf("Verify = %v", err)
		}
	}
	v.Verify(t.Context(), iss.Mint(map[string]any{"exp": time.Now().Add(-time.Hour).Unix()}))
	v.Verify(t.Context(), iss.Mint(nil, tokentest.WithUnknownKey()))
	v.Verify(t.Context(), iss.Mint(nil, tokentest.WithUnknownKey(), tokentest.WithKID("x")))
	v.Verify(t.Context(), strings.Repeat("x", token.MaxTokenBytes+1))
	tests := []struct {
		name   string
		labels []string
		want   float64
	}{
		{"edgeward_token_verifications_total", []string{"issuer", "demo", "result", "valid"}, 1},
		{"edgeward_token_verifications_total", []string{"issuer", "demo", "result", "expired"}, 1},
		{"edgeward_token_verifications_total", []string{"issuer", "demo", "result", "unknown_key"}, 2},
		{"edgeward_token_verifications_total", []string{"issuer", "demo", "result", "oversized"}, 1},
		{"edgeward_token_cache_requests_total", []string{"issuer", "demo", "result", "hit"}, 2},
		{"edgeward_token_cache_requests_total", []string{"issuer", "demo", "result", "miss"}, 4},
		// Two starts and one unknown-kid refresh.
		{"edgeward_token_jwks_fetches_total", []string{"issuer", "demo"}, 3},
		{"edgeward_token_jwks_fetch_failures_total", []string{"issuer", "demo"}, 0},
	}
	for _, tt := range tests {
		if got := counter(t, reg, tt.name, tt.labels...); got != tt.want {
			t.Errorf("%s%v = %v, want %v", tt.name, tt.labels, got, tt.want)
		}
	}
}

func TestVerify_TokenWithoutKID(t *testing.T) {
	t.Parallel()
	iss := tokentest.NewIssuer(t)
	v := newVerifier(t, iss, nil)
	for _, alg := range []string{tokentest.RS256, tokentest.ES256, tokentest.EdDSA} {
		if _, err := v.Verify(t.Context(), iss.Mint(nil, tokentest.WithAlg(alg), tokentest.WithKID(""))); err != nil {
			t.Errorf("Verify(%s token without kid) = %v, want claims", alg, err)
		}
	}
	_, err := v.Verify(t.Context(), iss.Mint(nil, tokentest.WithUnknownKey(), tokentest.WithKID("")))
	if got := description(t, err); got != "signature invalid" {
		t.Errorf("Verify(token without kid by an unknown key) = %q, want signature invalid", got)
	}
	if got := iss.Fetches(); got != 1 {
		t.Errorf("JWKS fetches = %d, want 1 (no refresh without a kid)", got)
	}
}

func TestVerify_TokenWithoutKIDAndNoKeys(t *testing.T) {
	t.Parallel()
	iss := tokentest.NewIssuer(t)
	iss.SetDown(true)
	v := newVerifier(t, iss, nil)
	_, err := v.Verify(t.Context(), iss.Mint(nil, tokentest.WithKID("")))
	if got := description(t, err); got != "unknown signing key" {
		t.Errorf("Verify(token without kid, no keys) = %q, want unknown signing key", got)
	}
}

func TestVerify_BackgroundRefreshFindsNewKeys(t *testing.T) {
	t.Parallel()
	iss := tokentest.NewIssuer(t)
	v := newVerifier(t, iss, func(c *token.IssuerConfig) {
		c.RefreshInterval = 20 * time.Millisecond
		c.RefreshRateLimit = time.Hour
	})
	// Use up the unknown-kid refresh, so that only the background refresh
	// can find the rotated key.
	if _, err := v.Verify(t.Context(), iss.Mint(nil, tokentest.WithUnknownKey())); description(t, err) != "unknown signing key" {
		t.Fatalf("Verify(unknown kid) = %v, want unknown signing key", err)
	}
	iss.Rotate()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	// The fetch after the rotation, then one more, so that the first has
	// been stored.
	if err := iss.WaitFetches(ctx, iss.Fetches()+2); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(t.Context(), iss.Mint(nil)); err != nil {
		t.Errorf("Verify(rotated key) after background refreshes = %v, want claims", err)
	}
}

func TestVerify_OversizedJWKSIsRefused(t *testing.T) {
	t.Parallel()
	iss := tokentest.NewIssuer(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A valid JWKS after 2MiB of whitespace.
		w.Write([]byte(strings.Repeat(" ", 2<<20)))
		resp, err := http.Get(iss.JWKSURL())
		if err != nil {
			return
		}
		defer resp.Body.Close()
		io.Copy(w, resp.Body)
	}))
	t.Cleanup(srv.Close)
	reg := prometheus.NewRegistry()
	v := newVerifier(t, iss, func(c *token.IssuerConfig) { c.JWKSURL = srv.URL }, token.WithRegisterer(reg))
	if _, err := v.Verify(t.Context(), iss.Mint(nil)); description(t, err) != "unknown signing key" {
		t.Errorf("Verify with a 2MiB JWKS = %v, want unknown signing key", err)
	}
	if got := counter(t, reg, "edgeward_token_jwks_fetch_failures_total", "issuer", "demo"); got != 2 {
		t.Errorf("JWKS fetch failures = %v, want 2 (start and the unknown-kid refresh)", got)
	}
}
