package tokentest_test

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"

	"github.com/edgeward/edgeward/internal/token/tokentest"
)

func getJSON(t *testing.T, url string, v any) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
	}
	return resp.StatusCode
}

func kids(t *testing.T, iss *tokentest.Issuer) []string {
	t.Helper()
	var set struct {
		Keys []map[string]string `json:"keys"`
	}
	if code := getJSON(t, iss.JWKSURL(), &set); code != http.StatusOK {
		t.Fatalf("GET JWKS = %d, want 200", code)
	}
	var out []string
	for _, k := range set.Keys {
		if k["use"] != "sig" || k["alg"] == "" {
			t.Errorf("JWK %v lacks use sig or alg", k)
		}
		out = append(out, k["kid"])
	}
	return out
}

func TestIssuer_JWKSRotationAndFetches(t *testing.T) {
	t.Parallel()
	iss := tokentest.NewIssuer(t)
	if diff := cmp.Diff([]string{"RS256-1", "ES256-2", "EdDSA-3"}, kids(t, iss)); diff != "" {
		t.Errorf("JWKS kids mismatch (-want +got):\n%s", diff)
	}
	kid := iss.Rotate()
	if got := iss.KID(tokentest.RS256); got != kid {
		t.Errorf("KID(RS256) after Rotate = %q, want %q", got, kid)
	}
	iss.Retire("RS256-1")
	if diff := cmp.Diff([]string{"ES256-2", "EdDSA-3", kid}, kids(t, iss)); diff != "" {
		t.Errorf("JWKS kids after Rotate and Retire mismatch (-want +got):\n%s", diff)
	}
	if got := iss.Fetches(); got != 2 {
		t.Errorf("Fetches() = %d, want 2", got)
	}
	iss.SetDown(true)
	if code := getJSON(t, iss.JWKSURL(), new(any)); code != http.StatusServiceUnavailable {
		t.Errorf("GET JWKS while down = %d, want 503", code)
	}
}

func TestIssuer_Discovery(t *testing.T) {
	t.Parallel()
	iss := tokentest.NewIssuer(t)
	var doc map[string]any
	if code := getJSON(t, iss.URL()+tokentest.DiscoveryPath, &doc); code != http.StatusOK {
		t.Fatalf("GET discovery = %d, want 200", code)
	}
	if doc["issuer"] != iss.URL() || doc["jwks_uri"] != iss.JWKSURL() {
		t.Errorf("discovery = %v, want issuer %q and jwks_uri %q", doc, iss.URL(), iss.JWKSURL())
	}
	if got := iss.DiscoveryFetches(); got != 1 {
		t.Errorf("DiscoveryFetches() = %d, want 1", got)
	}
}

func TestIssuer_MintDefaultsAndOverrides(t *testing.T) {
	t.Parallel()
	iss := tokentest.NewIssuer(t)
	raw := iss.Mint(map[string]any{"sub": "alice", "iat": nil}, tokentest.WithHeader("typ", "at+jwt"))
	tok, _, err := jwt.NewParser().ParseUnverified(raw, jwt.MapClaims{})
	if err != nil {
		t.Fatal(err)
	}
	mc := tok.Claims.(jwt.MapClaims)
	if mc["iss"] != iss.URL() || mc["sub"] != "alice" {
		t.Errorf("Mint claims = %v, want iss %q and sub alice", mc, iss.URL())
	}
	if _, ok := mc["iat"]; ok {
		t.Errorf("Mint claims = %v, want no iat", mc)
	}
	exp, _ := mc.GetExpirationTime()
	if d := time.Until(exp.Time); d < 59*time.Minute || d > time.Hour {
		t.Errorf("Mint exp in %v, want about 1h", d)
	}
	if tok.Header["alg"] != "RS256" || tok.Header["kid"] != iss.KID(tokentest.RS256) || tok.Header["typ"] != "at+jwt" {
		t.Errorf("Mint header = %v, want RS256, the current RSA kid and typ at+jwt", tok.Header)
	}
}

func TestIssuer_PublicKeyPEMVerifiesRS256(t *testing.T) {
	t.Parallel()
	iss := tokentest.NewIssuer(t)
	block, _ := pem.Decode(iss.PublicKeyPEM())
	if block == nil || block.Type != "PUBLIC KEY" {
		t.Fatalf("PublicKeyPEM() = %q, want a PUBLIC KEY block", iss.PublicKeyPEM())
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := jwt.Parse(iss.Mint(nil), func(*jwt.Token) (any, error) { return pub, nil }, jwt.WithValidMethods([]string{"RS256"})); err != nil {
		t.Errorf("RS256 token does not verify with PublicKeyPEM: %v", err)
	}
}

func TestIssuer_AttackTokens(t *testing.T) {
	t.Parallel()
	iss := tokentest.NewIssuer(t)
	none := iss.Mint(nil, tokentest.WithAlgNone())
	if !strings.HasSuffix(none, ".") || !strings.Contains(jwtHeader(t, none), `"alg":"none"`) {
		t.Errorf("WithAlgNone token = %q, want alg none and an empty signature", none)
	}
	hs := iss.Mint(nil, tokentest.WithHS256PublicKey())
	_, err := jwt.Parse(hs, func(*jwt.Token) (any, error) { return iss.PublicKeyPEM(), nil }, jwt.WithValidMethods([]string{"HS256"}))
	if err != nil {
		t.Errorf("WithHS256PublicKey token does not verify as HMAC keyed by the public PEM: %v", err)
	}
	unknown := iss.Mint(nil, tokentest.WithUnknownKey())
	if h := jwtHeader(t, unknown); !strings.Contains(h, `"kid":"unknown"`) {
		t.Errorf("WithUnknownKey header = %s, want kid unknown", h)
	}
}

func jwtHeader(t *testing.T, raw string) string {
	t.Helper()
	tok, _, err := jwt.NewParser().ParseUnverified(raw, jwt.MapClaims{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(tok.Header)
	return string(b)
}
