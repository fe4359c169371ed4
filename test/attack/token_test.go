package attack

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/edgeward/edgeward/internal/token/tokentest"
)

// Group 4 of docs/security.md: tokens. Only the issuer's configured
// algorithms and keys, only valid claims, one Authorization header: every
// other token is a 401 and the origin sees nothing.

// TestTokens sends each forged, broken or misplaced token to an authorized
// uncached behavior and to an authorized cached one.
func TestTokens(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	iss := e.issuer
	other := tokentest.NewIssuer(t) // a second identity provider
	now := time.Now()
	claims := func(kv ...any) map[string]any {
		c := map[string]any{"sub": "mallory", "aud": audience, "scope": "orders:read admin"}
		for i := 0; i+1 < len(kv); i += 2 {
			c[kv[i].(string)] = kv[i+1]
		}
		return c
	}
	valid := iss.Mint(claims())
	rsaKID := iss.KID(tokentest.RS256)

	cases := []struct {
		name   string
		header http.Header // the request's headers
		query  string      // added to the target
	}{
		// alg none, in every spelling, with and without a signature.
		{"alg none", bearer(iss.Mint(claims(), tokentest.WithAlgNone())), ""},
		{"alg None", bearer(iss.Mint(claims(), tokentest.WithAlgNone(), tokentest.WithHeader("alg", "None"))), ""},
		{"alg NONE", bearer(iss.Mint(claims(), tokentest.WithAlgNone(), tokentest.WithHeader("alg", "NONE"))), ""},
		{"alg nOnE", bearer(iss.Mint(claims(), tokentest.WithAlgNone(), tokentest.WithHeader("alg", "nOnE"))), ""},
		{"alg none keeping a valid signature", bearer(tokReheader(t, valid, map[string]any{"alg": "none", "kid": rsaKID})), ""},
		{"alg missing", bearer(tokReheader(t, valid, map[string]any{"kid": rsaKID, "typ": "JWT"})), ""},
		{"alg empty", bearer(tokReheader(t, valid, map[string]any{"alg": "", "kid": rsaKID})), ""},
		// Algorithm confusion.
		{"HS256 signed with the RSA public key", bearer(iss.Mint(claims(), tokentest.WithHS256PublicKey())), ""},
		{"HS256 with the public key and no kid", bearer(iss.Mint(claims(), tokentest.WithHS256PublicKey(), tokentest.WithKID(""))), ""},
		{"ES256 signature under the RSA key's kid", bearer(iss.Mint(claims(), tokentest.WithAlg(tokentest.ES256), tokentest.WithKID(rsaKID))), ""},
		{"RS256 header over an ES256 signature", bearer(iss.Mint(claims(), tokentest.WithAlg(tokentest.ES256), tokentest.WithHeader("alg", "RS256"))), ""},
		{"ES256 header over an RS256 signature", bearer(iss.Mint(claims(), tokentest.WithHeader("alg", "ES256"))), ""},
		{"EdDSA: a published key, not a configured algorithm", bearer(iss.Mint(claims(), tokentest.WithAlg(tokentest.EdDSA))), ""},
		{"PS256 header over an RS256 signature", bearer(iss.Mint(claims(), tokentest.WithHeader("alg", "PS256"))), ""},
		// The token choosing its own key: refused even when the key it
		// names is the issuer's own and the signature is valid.
		{"jku naming the issuer's own JWKS", bearer(iss.Mint(claims(), tokentest.WithHeader("jku", iss.JWKSURL()))), ""},
		{"jku naming an attacker's JWKS", bearer(iss.Mint(claims(), tokentest.WithUnknownKey(), tokentest.WithHeader("jku", other.JWKSURL()))), ""},
		{"jwk embedded key", bearer(iss.Mint(claims(), tokentest.WithHeader("jwk", map[string]any{"kty": "RSA", "n": "AQAB", "e": "AQAB"}))), ""},
		{"x5u", bearer(iss.Mint(claims(), tokentest.WithHeader("x5u", "https://evil.example/cert.pem"))), ""},
		{"x5c", bearer(iss.Mint(claims(), tokentest.WithHeader("x5c", []string{"MIIBevil"}))), ""},
		{"crit header", bearer(iss.Mint(claims(), tokentest.WithHeader("crit", []string{"exp"}))), ""},
		// Keys the issuer does not publish.
		{"unknown kid, unknown key", bearer(iss.Mint(claims(), tokentest.WithUnknownKey())), ""},
		{"unknown key under a published kid", bearer(iss.Mint(claims(), tokentest.WithUnknownKey(), tokentest.WithKID(rsaKID))), ""},
		{"another issuer's key under the same kid", bearer(other.Mint(claims("iss", iss.URL()), tokentest.WithKID(rsaKID))), ""},
		{"kid path traversal", bearer(iss.Mint(claims(), tokentest.WithKID("../../../../../dev/null"))), ""},
		{"kid SQL injection", bearer(iss.Mint(claims(), tokentest.WithKID("x' UNION SELECT 'secret' -- "))), ""},
		{"kid command injection", bearer(iss.Mint(claims(), tokentest.WithKID("| curl evil.example"))), ""},
		{"kid not a string", bearer(iss.Mint(claims(), tokentest.WithHeader("kid", 1))), ""},
		{"kid with NUL", bearer(iss.Mint(claims(), tokentest.WithKID(rsaKID+"\x00x"))), ""},
		// Claims.
		{"another issuer's token", bearer(other.Mint(claims())), ""},
		{"wrong iss under a valid signature", bearer(iss.Mint(claims("iss", "https://evil.example"))), ""},
		{"iss missing", bearer(iss.Mint(claims("iss", nil))), ""},
		{"wrong aud", bearer(iss.Mint(claims("aud", "https://other.example.com"))), ""},
		{"aud missing", bearer(iss.Mint(claims("aud", nil))), ""},
		{"expired an hour ago", bearer(iss.Mint(claims("exp", now.Add(-time.Hour).Unix()))), ""},
		{"expired beyond the clock skew", bearer(iss.Mint(claims("exp", now.Add(-2*time.Minute).Unix()))), ""},
		{"exp missing", bearer(iss.Mint(claims("exp", nil))), ""},
		{"exp not a number", bearer(iss.Mint(claims("exp", "tomorrow"))), ""},
		{"nbf in the future", bearer(iss.Mint(claims("nbf", now.Add(time.Hour).Unix()))), ""},
		{"iat in the future", bearer(iss.Mint(claims("iat", now.Add(time.Hour).Unix()))), ""},
		// Tampering and garbage.
		{"payload changed after signing", bearer(tokRepayload(t, valid, claims("sub", "admin", "iss", iss.URL(), "exp", now.Add(time.Hour).Unix()))), ""},
		{"signature truncated", bearer(valid[:len(valid)-10]), ""},
		{"signature removed", bearer(valid[:strings.LastIndexByte(valid, '.')+1]), ""},
		{"two segments", bearer(valid[:strings.LastIndexByte(valid, '.')]), ""},
		{"four segments", bearer(valid + ".x"), ""},
		{"not base64", bearer("!!!.@@@.###"), ""},
		{"header not JSON", bearer(b64("not json") + "." + b64(`{"sub":"x"}`) + ".c2ln"), ""},
		{"empty segments", bearer(".."), ""},
		{"huge validly signed token over 8KiB", bearer(iss.Mint(claims("pad", strings.Repeat("A", 9<<10)))), ""},
		// How the token is presented.
		{"two Authorization headers, both valid", http.Header{"Authorization": {"Bearer " + valid, "Bearer " + valid}}, ""},
		{"two Authorization headers, forged first", http.Header{"Authorization": {"Bearer " + iss.Mint(claims(), tokentest.WithAlgNone()), "Bearer " + valid}}, ""},
		{"two Authorization headers, valid and Basic", http.Header{"Authorization": {"Bearer " + valid, "Basic YTpi"}}, ""},
		{"Basic scheme carrying the token", http.Header{"Authorization": {"Basic " + valid}}, ""},
		{"no scheme", http.Header{"Authorization": {valid}}, ""},
		{"scheme glued to the token", http.Header{"Authorization": {"Bearer" + valid}}, ""},
		{"tab after the scheme", http.Header{"Authorization": {"Bearer\t" + valid}}, ""},
		{"Bearer and nothing", http.Header{"Authorization": {"Bearer"}}, ""},
		{"Bearer and blanks", http.Header{"Authorization": {"Bearer    "}}, ""},
		{"token followed by junk", http.Header{"Authorization": {"Bearer " + valid + " junk"}}, ""},
		{"two tokens comma-separated", http.Header{"Authorization": {"Bearer " + valid + ", Bearer " + valid}}, ""},
		{"token in the query string", nil, "access_token=" + valid},
		{"token in a cookie", http.Header{"Cookie": {"access_token=" + valid}}, ""},
		{"token in X-Access-Token", http.Header{"X-Access-Token": {valid}}, ""},
		{"token in Proxy-Authorization", http.Header{"Proxy-Authorization": {"Bearer " + valid}}, ""},
	}
	n := 0
	for _, path := range []string{"/echo/tok-", "/orders/tok-"} {
		for _, c := range cases {
			n++
			target := fmt.Sprintf("%s%d", path, n)
			if c.query != "" {
				target += "?" + c.query
			}
			t.Run(strings.Trim(path, "/-")+"/"+c.name, func(t *testing.T) {
				before := e.origin.count()
				res := e.do("GET", target, c.header, "")
				if res.status != http.StatusUnauthorized {
					t.Fatalf("GET %s = %d %q, want 401", target, res.status, res.body)
				}
				if !strings.HasPrefix(res.header.Get("Www-Authenticate"), "Bearer ") {
					t.Fatalf("WWW-Authenticate = %q, want a Bearer challenge", res.header.Get("Www-Authenticate"))
				}
				secNothing(t, e.origin, before)
			})
		}
	}
	// The controls: the same edge lets well-formed tokens through, so
	// each 401 above is the token's doing.
	for _, c := range []struct {
		name   string
		header http.Header
	}{
		{"control: valid RS256", bearer(valid)},
		{"control: valid ES256", bearer(iss.Mint(claims(), tokentest.WithAlg(tokentest.ES256)))},
		{"control: no kid, key found among the issuer's", bearer(iss.Mint(claims(), tokentest.WithKID("")))},
		{"control: scheme is case-insensitive", http.Header{"Authorization": {"bEARER " + valid}}},
		{"control: blanks around the token", http.Header{"Authorization": {"Bearer   " + valid + "  "}}},
		{"control: expired within the clock skew", bearer(iss.Mint(claims("exp", now.Add(-5*time.Second).Unix())))},
	} {
		n++
		target := fmt.Sprintf("/echo/tok-%d", n)
		t.Run(c.name, func(t *testing.T) {
			before := e.origin.count()
			res := e.do("GET", target, c.header, "")
			if res.status != http.StatusOK {
				t.Fatalf("GET %s = %d %q, want 200", target, res.status, res.body)
			}
			got := secReached(t, e.origin, before, target)
			secHeaderIs(t, got, "X-User-Id", "mallory")
			secHeaderIs(t, got, "Authorization")
		})
	}
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// tokReheader replaces tok's header with header, keeping its payload and
// signature.
func tokReheader(t *testing.T, tok string, header map[string]any) string {
	t.Helper()
	h, err := json.Marshal(header)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.SplitN(tok, ".", 3)
	return b64(string(h)) + "." + parts[1] + "." + parts[2]
}

// tokRepayload replaces tok's payload with claims, keeping its header and
// signature.
func tokRepayload(t *testing.T, tok string, claims map[string]any) string {
	t.Helper()
	p, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.SplitN(tok, ".", 3)
	return parts[0] + "." + b64(string(p)) + "." + parts[2]
}
