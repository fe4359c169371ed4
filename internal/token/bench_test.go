package token_test

import (
	"testing"

	"github.com/edgeward/edgeward/internal/token"
	"github.com/edgeward/edgeward/internal/token/tokentest"
)

// benchToken is a token shaped like the peers' benchmark token (iss, aud,
// scope, sub; about 600 bytes with RS256).
func benchToken(iss *tokentest.Issuer, alg string) string {
	return iss.Mint(map[string]any{
		"sub":       "bench-user",
		"aud":       "https://api.example.com",
		"scope":     "orders:read",
		"client_id": "bench-client",
	}, tokentest.WithAlg(alg))
}

func benchVerify(b *testing.B, alg string, cache *token.Cache) {
	iss := tokentest.NewIssuer(b)
	v, err := token.New(b.Context(), "bench", token.IssuerConfig{Issuer: iss.URL(), JWKSURL: iss.JWKSURL()}, cache)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(v.Close)
	raw := benchToken(iss, alg)
	ctx := b.Context()
	if _, err := v.Verify(ctx, raw); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if _, err := v.Verify(ctx, raw); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify_RS256_Uncached(b *testing.B) { benchVerify(b, tokentest.RS256, nil) }

func BenchmarkVerify_ES256_Uncached(b *testing.B) { benchVerify(b, tokentest.ES256, nil) }

func BenchmarkVerify_EdDSA_Uncached(b *testing.B) { benchVerify(b, tokentest.EdDSA, nil) }

func BenchmarkVerify_Cached(b *testing.B) {
	benchVerify(b, tokentest.RS256, token.NewCache(token.CacheConfig{}))
}

func BenchmarkVerify_CachedParallel(b *testing.B) {
	iss := tokentest.NewIssuer(b)
	v, err := token.New(b.Context(), "bench", token.IssuerConfig{Issuer: iss.URL(), JWKSURL: iss.JWKSURL()}, token.NewCache(token.CacheConfig{}))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(v.Close)
	raw := benchToken(iss, tokentest.RS256)
	if _, err := v.Verify(b.Context(), raw); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := v.Verify(b.Context(), raw); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
