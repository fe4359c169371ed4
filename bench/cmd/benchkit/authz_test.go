package main

import (
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

// reply is the part of a sideband answer the tests read.
type reply struct {
	Method   string              `json:"method"`
	URL      string              `json:"url"`
	Headers  []map[string]string `json:"headers"`
	Response *struct {
		ResponseCode string `json:"response_code"`
	} `json:"response"`
}

// sidebandCall posts a request-phase body as edgeward's authorize function
// does and decodes the answer.
func sidebandCall(t *testing.T, h http.Handler, cred, body string) (int, *reply) {
	t.Helper()
	r := httptest.NewRequest("POST", requestPath, strings.NewReader(body))
	r.Header.Set(credentialHeader, cred)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		return w.Code, nil
	}
	var rep reply
	if err := json.Unmarshal(w.Body.Bytes(), &rep); err != nil {
		t.Fatalf("answer %s: %v", w.Body, err)
	}
	return w.Code, &rep
}

func TestSidebandAuthz(t *testing.T) {
	h := sidebandAuthz("s3cret")
	const url = "http://127.0.0.1:9244/orders/1"
	request := func(headers string) string {
		return `{"source_ip":"127.0.0.1","source_port":"40000","method":"GET","url":"` + url +
			`","http_version":"1.1","headers":[{"host":"127.0.0.1:9244"},{"accept":"*/*"}` + headers + `]}`
	}
	t.Run("allow echoes the request without its token", func(t *testing.T) {
		code, rep := sidebandCall(t, h, "s3cret", request(`,{"Authorization":"Bearer t"}`))
		if code != http.StatusOK || rep.Response != nil {
			t.Fatalf("allow: status %d, deny %v; want 200 and no response key", code, rep.Response)
		}
		if rep.Method != "GET" || rep.URL != url {
			t.Errorf("allow echoes %s %s, want GET %s", rep.Method, rep.URL, url)
		}
		if len(rep.Headers) != 2 || rep.Headers[0]["host"] == "" || rep.Headers[1]["accept"] == "" {
			t.Errorf("allow headers = %v, want host and accept only", rep.Headers)
		}
	})
	t.Run("no token is a 403 decision", func(t *testing.T) {
		code, rep := sidebandCall(t, h, "s3cret", request(""))
		if code != http.StatusOK || rep.Response == nil || rep.Response.ResponseCode != "403" {
			t.Fatalf("deny: status %d, reply %+v; want 200 with a 403 response", code, rep)
		}
	})
	t.Run("wrong gateway credential", func(t *testing.T) {
		if code, _ := sidebandCall(t, h, "wrong", request("")); code != http.StatusUnauthorized {
			t.Errorf("status = %d, want 401", code)
		}
	})
	t.Run("not a request", func(t *testing.T) {
		if code, _ := sidebandCall(t, h, "s3cret", `{"headers":[]}`); code != http.StatusBadRequest {
			t.Errorf("status = %d, want 400", code)
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
