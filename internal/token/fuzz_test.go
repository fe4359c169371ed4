package token_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/edgeward/edgeward/internal/token"
	"github.com/edgeward/edgeward/internal/token/tokentest"
)

// FuzzVerify feeds random strings and JWT-shaped inputs to a Verifier: it
// must never panic, never accept one (nothing here is signed by the
// issuer's keys), and always answer with a short *token.Error that does
// not echo the input.
func FuzzVerify(f *testing.F) {
	iss := tokentest.NewIssuer(f)
	v, err := token.New(f.Context(), "fuzz", token.IssuerConfig{Issuer: iss.URL(), JWKSURL: iss.JWKSURL()}, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(v.Close)
	valid := iss.Mint(map[string]any{"sub": "alice", "scope": "a b", "aud": []string{"x"}})
	for _, s := range []string{
		"", ".", "..", "...", "a.b.c", "e30.e30.", "e30.e30.e30",
		iss.Mint(nil, tokentest.WithAlgNone()),
		iss.Mint(nil, tokentest.WithHS256PublicKey()),
		iss.Mint(nil, tokentest.WithUnknownKey()),
		iss.Mint(nil, tokentest.WithAlg(tokentest.ES256), tokentest.WithUnknownKey(), tokentest.WithKID("")),
		iss.Mint(nil, tokentest.WithHeader("jku", "http://127.0.0.1/")),
		valid[:strings.LastIndexByte(valid, '.')+1],
		valid[:strings.LastIndexByte(valid, '.')+1] + "AAAA",
		strings.Repeat("A", token.MaxTokenBytes+1),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		c, err := v.Verify(t.Context(), raw)
		if err == nil {
			t.Fatalf("Verify(%q) = %+v, nil; want an invalid token", raw, c)
		}
		var e *token.Error
		if !errors.As(err, &e) {
			t.Fatalf("Verify(%q) error %v is a %T, want *token.Error", raw, err, err)
		}
		if e.Description == "" || len(e.Description) > 40 {
			t.Errorf("Verify(%q) description %q, want a short one", raw, e.Description)
		}
		if len(raw) >= 8 && strings.Contains(e.Description, raw) {
			t.Errorf("Verify(%q) description %q echoes the token", raw, e.Description)
		}
	})
}
