package main

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/edgeward/edgeward/internal/sideband"
)

func TestPlainAuthz_AllowsOnlyWithAuthorization(t *testing.T) {
	for _, tc := range []struct {
		auth string
		want int
	}{
		{"", http.StatusForbidden},
		{"Bearer x", http.StatusNoContent},
	} {
		r := httptest.NewRequest("GET", "/authz", nil)
		if tc.auth != "" {
			r.Header.Set("Authorization", tc.auth)
		}
		w := httptest.NewRecorder()
		plainAuthz(w, r)
		if w.Code != tc.want {
			t.Errorf("plainAuthz(Authorization %q) = %d, want %d", tc.auth, w.Code, tc.want)
		}
	}
}

// sidebandCall posts a request-phase body as edgeward's authorize function
// does and decodes the answer as it does.
func sidebandCall(t *testing.T, h http.Handler, cred string, req sideband.Request) (int, *sideband.Reply) {
	t.Helper()
	body, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("POST", sideband.RequestPath, bytes.NewReader(body))
	r.Header.Set(sideband.DefaultCredentialHeader, cred)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		return w.Code, nil
	}
	reply, err := sideband.DecodeReply(w.Body.Bytes())
	if err != nil {
		t.Fatalf("DecodeReply(%s): %v", w.Body, err)
	}
	return w.Code, reply
}

func TestSidebandAuthz(t *testing.T) {
	h := sidebandAuthz("s3cret")
	base := sideband.Request{
		SourceIP: "127.0.0.1", SourcePort: 40000, Method: "GET", URL: "http://127.0.0.1:9244/orders/1", HTTPVersion: "1.1",
		Headers: sideband.Headers{{Name: "host", Value: "127.0.0.1:9244"}, {Name: "accept", Value: "*/*"}},
	}
	t.Run("allow echoes the request without its token", func(t *testing.T) {
		req := base
		req.Headers = append(append(sideband.Headers{}, base.Headers...), sideband.Header{Name: "authorization", Value: "Bearer t"})
		code, reply := sidebandCall(t, h, "s3cret", req)
		if code != http.StatusOK || reply.Response != nil {
			t.Fatalf("allow: status %d, deny %v; want 200 and no response key", code, reply.Response)
		}
		if reply.Method != "GET" || reply.URL != base.URL {
			t.Errorf("allow echoes %s %s, want GET %s", reply.Method, reply.URL, base.URL)
		}
		if _, ok := reply.Headers.Get("authorization"); ok || len(reply.Headers) != 2 {
			t.Errorf("allow headers = %v, want host and accept only", reply.Headers)
		}
	})
	t.Run("no token is a 403 decision", func(t *testing.T) {
		code, reply := sidebandCall(t, h, "s3cret", base)
		if code != http.StatusOK || reply.Response == nil || reply.Response.ResponseCode != http.StatusForbidden {
			t.Fatalf("deny: status %d, reply %+v; want 200 with a 403 response", code, reply)
		}
	})
	t.Run("wrong gateway credential", func(t *testing.T) {
		if code, _ := sidebandCall(t, h, "wrong", base); code != http.StatusUnauthorized {
			t.Errorf("status = %d, want 401", code)
		}
	})
}

func TestSetup_TokenVerifiesWithTheJWKSAndPEM(t *testing.T) {
	dir := t.TempDir()
	if err := runSetup([]string{"-dir", dir}); err != nil {
		t.Fatal(err)
	}
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	pub, err := jwt.ParseRSAPublicKeyFromPEM(read("pub.pem"))
	if err != nil {
		t.Fatal(err)
	}
	var set struct{ Keys []map[string]string }
	if err := json.Unmarshal(read("jwks.json"), &set); err != nil || len(set.Keys) != 1 || set.Keys[0]["kid"] != keyID {
		t.Fatalf("jwks.json = %s (%v), want one key with kid %s", read("jwks.json"), err, keyID)
	}
	if got, want := jwk(pub), set.Keys[0]; got["n"] != want["n"] || got["e"] != want["e"] {
		t.Errorf("the JWKS key is not the PEM key")
	}
	claims := jwt.MapClaims{}
	_, err = jwt.ParseWithClaims(string(read("token")), claims, func(*jwt.Token) (any, error) { return pub, nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuer(tokenIssuer), jwt.WithAudience(tokenAudience), jwt.WithExpirationRequired())
	if err != nil {
		t.Fatalf("token does not verify: %v", err)
	}
	if claims["scope"] != tokenScope {
		t.Errorf("scope = %v, want %s", claims["scope"], tokenScope)
	}
}

func TestMint_Expiry(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_700_000_000, 0)
	tok, err := mint(key, now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(tok, claims); err != nil {
		t.Fatal(err)
	}
	if exp, _ := claims.GetExpirationTime(); !exp.Equal(now.Add(time.Hour)) {
		t.Errorf("exp = %v, want %v", exp, now.Add(time.Hour))
	}
}

func TestOpenIdle(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/close" {
			w.Header().Set("Connection", "close")
		}
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	c, _, err := openIdle(t.Context(), host, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if err != nil {
		t.Fatalf("openIdle on a keep-alive server: %v", err)
	}
	c.Close()
	if _, _, err := openIdle(t.Context(), host, "GET /close HTTP/1.1\r\nHost: x\r\n\r\n"); err == nil {
		t.Errorf("openIdle on a server that closes after the answer: nil error, want one")
	}
}
