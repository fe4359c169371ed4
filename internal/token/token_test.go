package token_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/edgeward/edgeward/internal/token"
	"github.com/edgeward/edgeward/internal/token/tokentest"
)

// newVerifier returns a Verifier of iss (keys from its JWKS URL) with a
// fresh cache, closed when the test ends.
func newVerifier(t testing.TB, iss *tokentest.Issuer, edit func(*token.IssuerConfig), opts ...token.Option) *token.Verifier {
	t.Helper()
	cfg := token.IssuerConfig{Issuer: iss.URL(), JWKSURL: iss.JWKSURL()}
	if edit != nil {
		edit(&cfg)
	}
	v, err := token.New(t.Context(), "demo", cfg, token.NewCache(token.CacheConfig{}, opts...), opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(v.Close)
	return v
}

// description is the *token.Error description of err, or "" when err is nil.
func description(t testing.TB, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	var e *token.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *token.Error", err, err)
	}
	return e.Description
}

func TestVerify_EachAlgorithm(t *testing.T) {
	t.Parallel()
	iss := tokentest.NewIssuer(t)
	v := newVerifier(t, iss, nil)
	for _, alg := range []string{tokentest.RS256, tokentest.ES256, tokentest.EdDSA} {
		t.Run(alg, func(t *testing.T) {
			raw := iss.Mint(map[string]any{"sub": "alice", "alg-case": alg}, tokentest.WithAlg(alg))
			c, err := v.Verify(t.Context(), raw)
			if err != nil {
				t.Fatalf("Verify(%s token) = %v, want claims", alg, err)
			}
			if c.Subject != "alice" || c.Issuer != iss.URL() {
				t.Errorf("Verify(%s token) = sub %q iss %q, want alice %q", alg, c.Subject, c.Issuer, iss.URL())
			}
		})
	}
}

func TestVerify_Claims(t *testing.T) {
	t.Parallel()
	iss := tokentest.NewIssuer(t)
	v := newVerifier(t, iss, nil)
	exp := time.Now().Add(time.Hour).Truncate(time.Second)
	tests := []struct {
		name   string
		claims map[string]any
		want   token.Claims
	}{
		{
			name:   "string aud and scope",
			claims: map[string]any{"sub": "alice", "aud": "https://api.example.com", "scope": "orders:read  orders:write", "client_id": "app1"},
			want:   token.Claims{Subject: "alice", Audience: []string{"https://api.example.com"}, Scopes: []string{"orders:read", "orders:write"}, ClientID: "app1"},
		},
		{
			name:   "array aud and scope",
			claims: map[string]any{"aud": []string{"a", "b"}, "scope": []string{"x", "y"}},
			want:   token.Claims{Audience: []string{"a", "b"}, Scopes: []string{"x", "y"}},
		},
		{
			name:   "scp array and azp",
			claims: map[string]any{"scp": []string{"orders:read"}, "azp": "app2"},
			want:   token.Claims{Scopes: []string{"orders:read"}, ClientID: "app2"},
		},
		{
			name:   "scope wins over scp, client_id over azp",
			claims: map[string]any{"scope": "a", "scp": []string{"b"}, "client_id": "c", "azp": "d"},
			want:   token.Claims{Scopes: []string{"a"}, ClientID: "c"},
		},
		{
			name:   "no aud, no scope",
			claims: map[string]any{},
			want:   token.Claims{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			claims := map[string]any{"exp": exp.Unix()}
			for k, val := range tt.claims {
				claims[k] = val
			}
			got, err := v.Verify(t.Context(), iss.Mint(claims))
			if err != nil {
				t.Fatalf("Verify = %v, want claims", err)
			}
			want := tt.want
			want.Issuer = iss.URL()
			want.ExpiresAt = exp
			if diff := cmp.Diff(want, *got, cmpopts.IgnoreFields(token.Claims{}, "Raw"), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Verify claims mismatch (-want +got):\n%s", diff)
			}
			if got.Raw["iss"] != iss.URL() {
				t.Errorf("Verify Raw[iss] = %v, want %q", got.Raw["iss"], iss.URL())
			}
		})
	}
}

func TestVerify_RefusesInvalidTokens(t *testing.T) {
	t.Parallel()
	iss := tokentest.NewIssuer(t)
	v := newVerifier(t, iss, func(c *token.IssuerConfig) { c.ClockSkew = time.Second })
	now := time.Now()
	valid := iss.Mint(nil)
	parts := strings.Split(valid, ".")
	other := strings.Split(iss.Mint(map[string]any{"sub": "mallory"}), ".")
	tests := []struct {
		name string
		raw  string
		want string
	}{
		{"alg none", iss.Mint(nil, tokentest.WithAlgNone()), "algorithm not allowed"},
		{"HS256 signed with the public key", iss.Mint(nil, tokentest.WithHS256PublicKey()), "algorithm not allowed"},
		{"wrong iss", iss.Mint(map[string]any{"iss": "https://evil.example"}), "wrong issuer"},
		{"no iss", iss.Mint(map[string]any{"iss": nil}), "wrong issuer"},
		{"expired", iss.Mint(map[string]any{"exp": now.Add(-time.Minute).Unix()}), "token expired"},
		{"no exp", iss.Mint(map[string]any{"exp": nil}), "token has no exp claim"},
		{"nbf in the future", iss.Mint(map[string]any{"nbf": now.Add(time.Minute).Unix()}), "token not yet valid"},
		{"iat in the future", iss.Mint(map[string]any{"iat": now.Add(time.Minute).Unix()}), "token not yet valid"},
		{"exp is a string", iss.Mint(map[string]any{"exp": "tomorrow"}), "malformed token"},
		{"aud is a number", iss.Mint(map[string]any{"aud": 7}), "malformed token"},
		{"jku header", iss.Mint(nil, tokentest.WithHeader("jku", "https://evil.example/jwks")), "key header not allowed"},
		{"jwk header", iss.Mint(nil, tokentest.WithHeader("jwk", map[string]any{"kty": "RSA"})), "key header not allowed"},
		{"x5u header", iss.Mint(nil, tokentest.WithHeader("x5u", "https://evil.example/cert")), "key header not allowed"},
		{"x5c header", iss.Mint(nil, tokentest.WithHeader("x5c", []string{"MIIB"})), "key header not allowed"},
		{"crit header", iss.Mint(nil, tokentest.WithHeader("crit", []string{"exp"})), "critical header not supported"},
		{"kid is a number", iss.Mint(nil, tokentest.WithHeader("kid", 7)), "malformed token"},
		{"ES256 token under the RSA kid", iss.Mint(nil, tokentest.WithAlg(tokentest.ES256), tokentest.WithKID(iss.KID(tokentest.RS256))), "unknown signing key"},
		{"tampered payload", parts[0] + "." + other[1] + "." + parts[2], "signature invalid"},
		{"tampered signature", parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2])), "signature invalid"},
		{"two segments", parts[0] + "." + parts[1], "malformed token"},
		{"four segments", valid + ".x", "malformed token"},
		{"empty", "", "malformed token"},
		{"bad base64 header", "!!!." + parts[1] + "." + parts[2], "malformed token"},
		{"bad base64 payload", parts[0] + ".$$$." + parts[2], "malformed token"},
		{"bad base64 signature", parts[0] + "." + parts[1] + ".***", "malformed token"},
		{"header not JSON", "bm90IGpzb24." + parts[1] + "." + parts[2], "malformed token"},
		{"oversized", iss.Mint(map[string]any{"pad": strings.Repeat("x", token.MaxTokenBytes)}), "malformed token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := v.Verify(t.Context(), tt.raw)
			if got := description(t, err); got != tt.want {
				t.Errorf("Verify(%s) = %+v, %q, want error %q", tt.name, c, got, tt.want)
			}
			if c != nil {
				t.Errorf("Verify(%s) returned claims with an error", tt.name)
			}
		})
	}
}
