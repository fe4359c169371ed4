package token_test

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgeward/edgeward/internal/testkit"
	"github.com/edgeward/edgeward/internal/token"
	"github.com/edgeward/edgeward/internal/token/tokentest"
)

func verifications(t testing.TB, reg *prometheus.Registry) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var n float64
	for _, mf := range mfs {
		if mf.GetName() == "edgeward_token_verifications_total" {
			for _, m := range mf.GetMetric() {
				n += m.GetCounter().GetValue()
			}
		}
	}
	return n
}

// badSignature returns raw with its signature's first bytes changed.
func badSignature(raw string) string {
	i := strings.LastIndexByte(raw, '.')
	return raw[:i+1] + "AAAAAAAA" + raw[i+9:]
}

func TestVerify_CacheHitDoesNotReverify(t *testing.T) {
	t.Parallel()
	iss := tokentest.NewIssuer(t)
	reg := prometheus.NewRegistry()
	v := newVerifier(t, iss, nil, token.WithRegisterer(reg))
	raw := iss.Mint(map[string]any{"sub": "alice"})
	first, err := v.Verify(t.Context(), raw)
	if err != nil {
		t.Fatalf("Verify = %v", err)
	}
	for range 5 {
		got, err := v.Verify(t.Context(), raw)
		if err != nil {
			t.Fatalf("Verify(cached) = %v", err)
		}
		if got != first {
			t.Errorf("Verify(cached) = %p, want the cached claims %p", got, first)
		}
	}
	if n := verifications(t, reg); n != 1 {
		t.Errorf("verifications = %v, want 1 (later calls are cache hits)", n)
	}
}

func TestVerify_CacheIsPerIssuer(t *testing.T) {
	t.Parallel()
	iss := tokentest.NewIssuer(t)
	cache := token.NewCache(token.CacheConfig{})
	a, err := token.New(t.Context(), "a", token.IssuerConfig{Issuer: iss.URL(), JWKSURL: iss.JWKSURL()}, cache)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := token.New(t.Context(), "b", token.IssuerConfig{Issuer: "https://other.example", JWKSURL: iss.JWKSURL()}, cache)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	raw := iss.Mint(nil)
	if _, err := a.Verify(t.Context(), raw); err != nil {
		t.Fatalf("a.Verify = %v, want claims", err)
	}
	if _, err := b.Verify(t.Context(), raw); description(t, err) != "wrong issuer" {
		t.Errorf("b.Verify(token cached for a) = %v, want wrong issuer", err)
	}
}

func TestVerify_CachedTokenNotServedAfterExp(t *testing.T) {
	t.Parallel()
	iss := tokentest.NewIssuer(t)
	clk := testkit.NewClock(time.Now())
	reg := prometheus.NewRegistry()
	v := newVerifier(t, iss, func(c *token.IssuerConfig) { c.ClockSkew = 10 * time.Second },
		token.WithClock(clk.Now), token.WithRegisterer(reg))
	start := clk.Now()
	raw := iss.Mint(map[string]any{"exp": start.Add(time.Minute).Unix(), "iat": start.Add(-time.Second).Unix()})
	steps := []struct {
		at            time.Duration
		want          string
		verifications float64
	}{
		{0, "", 1},
		{59 * time.Second, "", 1}, // from the cache
		// Past exp (inside the skew): not from the cache, verified again.
		{61 * time.Second, "", 2},
		{62 * time.Second, "", 3},
		{75 * time.Second, "token expired", 4},
		{76 * time.Second, "token expired", 4}, // negatively cached
	}
	for _, s := range steps {
		clk.Set(start.Add(s.at))
		_, err := v.Verify(t.Context(), raw)
		if got := description(t, err); got != s.want {
			t.Errorf("at +%v: Verify = %q, want %q", s.at, got, s.want)
		}
		if n := verifications(t, reg); n != s.verifications {
			t.Errorf("at +%v: verifications = %v, want %v", s.at, n, s.verifications)
		}
	}
}

func TestVerify_CacheTTLCapsTrust(t *testing.T) {
	t.Parallel()
	iss := tokentest.NewIssuer(t)
	clk := testkit.NewClock(time.Now())
	reg := prometheus.NewRegistry()
	cache := token.NewCache(token.CacheConfig{TTL: time.Minute}, token.WithClock(clk.Now))
	v, err := token.New(t.Context(), "demo", token.IssuerConfig{Issuer: iss.URL(), JWKSURL: iss.JWKSURL()}, cache,
		token.WithClock(clk.Now), token.WithRegisterer(reg))
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	raw := iss.Mint(nil) // exp in an hour
	start := clk.Now()
	for _, s := range []struct {
		at   time.Duration
		want float64
	}{{0, 1}, {59 * time.Second, 1}, {61 * time.Second, 2}} {
		clk.Set(start.Add(s.at))
		if _, err := v.Verify(t.Context(), raw); err != nil {
			t.Fatalf("at +%v: Verify = %v", s.at, err)
		}
		if n := verifications(t, reg); n != s.want {
			t.Errorf("at +%v: verifications = %v, want %v", s.at, n, s.want)
		}
	}
}

func TestVerify_NegativeCache(t *testing.T) {
	t.Parallel()
	iss := tokentest.NewIssuer(t)
	clk := testkit.NewClock(time.Now())
	reg := prometheus.NewRegistry()
	cache := token.NewCache(token.CacheConfig{NegativeTTL: 10 * time.Second}, token.WithClock(clk.Now))
	v, err := token.New(t.Context(), "demo", token.IssuerConfig{Issuer: iss.URL(), JWKSURL: iss.JWKSURL()}, cache,
		token.WithClock(clk.Now), token.WithRegisterer(reg))
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	start := clk.Now()
	tests := []struct {
		name          string
		raw           string
		verifications float64 // after three calls, the third past the negative TTL
	}{
		{"alg none is remembered", iss.Mint(nil, tokentest.WithAlgNone()), 2},
		{"bad signature is remembered", badSignature(iss.Mint(nil)), 2},
		{"unknown kid is not remembered", iss.Mint(nil, tokentest.WithUnknownKey()), 3},
		{"nbf in the future is not remembered", iss.Mint(map[string]any{"nbf": start.Add(time.Hour).Unix()}), 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk.Set(start)
			before := verifications(t, reg)
			for _, at := range []time.Duration{0, 5 * time.Second, 11 * time.Second} {
				clk.Set(start.Add(at))
				if _, err := v.Verify(t.Context(), tt.raw); err == nil {
					t.Fatalf("at +%v: Verify = nil error, want an invalid token", at)
				}
			}
			if n := verifications(t, reg) - before; n != tt.verifications {
				t.Errorf("verifications over three calls = %v, want %v", n, tt.verifications)
			}
		})
	}
}

func TestVerify_ReloadedIssuerDoesNotTrustOldEntries(t *testing.T) {
	t.Parallel()
	iss := tokentest.NewIssuer(t)
	cache := token.NewCache(token.CacheConfig{})
	cfg := token.IssuerConfig{Issuer: iss.URL(), JWKSURL: iss.JWKSURL(), Algorithms: []string{"RS256", "ES256"}}
	old, err := token.New(t.Context(), "demo", cfg, cache)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	raw := iss.Mint(nil, tokentest.WithAlg(tokentest.ES256))
	if _, err := old.Verify(t.Context(), raw); err != nil {
		t.Fatalf("old.Verify(ES256) = %v, want claims", err)
	}
	cfg.Algorithms = []string{"RS256"}
	reloaded, err := token.New(t.Context(), "demo", cfg, cache)
	if err != nil {
		t.Fatal(err)
	}
	defer reloaded.Close()
	if _, err := reloaded.Verify(t.Context(), raw); description(t, err) != "algorithm not allowed" {
		t.Errorf("reloaded.Verify(ES256 token cached before the reload) = %v, want algorithm not allowed", err)
	}
}
