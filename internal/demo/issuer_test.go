package demo

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/edgeward/edgeward/internal/token"
)

// startIssuer serves a new Issuer on loopback for the test.
func startIssuer(t *testing.T) (*Issuer, *httptest.Server) {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	iss, err := NewIssuer("http://" + srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = iss
	srv.Start()
	t.Cleanup(srv.Close)
	return iss, srv
}

// TestIssuer_TokensVerifyWithTheTokenPackage proves the issuer's JWKS,
// discovery and tokens are what the decision service's verifier accepts,
// for both algorithms, and that a forged token is refused.
func TestIssuer_TokensVerifyWithTheTokenPackage(t *testing.T) {
	t.Parallel()
	iss, _ := startIssuer(t)
	ctx := t.Context()
	// No jwks_url: the keys are found through the discovery document.
	v, err := token.New(ctx, "demo", token.IssuerConfig{Issuer: iss.URL(), Algorithms: []string{RS256, ES256}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()

	for _, alg := range []string{RS256, ES256} {
		t.Run(alg, func(t *testing.T) {
			tr, err := RequestToken(ctx, nil, iss.URL(), "orders:read  orders:write", alg)
			if err != nil {
				t.Fatal(err)
			}
			if tr.TokenType != "Bearer" || tr.ExpiresIn != int(DefaultTokenTTL.Seconds()) || tr.Scope != "orders:read orders:write" {
				t.Errorf("RequestToken = %+v, want a Bearer token for 3600s with scope %q", tr, "orders:read orders:write")
			}
			c, err := v.Verify(ctx, tr.AccessToken)
			if err != nil {
				t.Fatalf("Verify(%s token) = %v, want valid", alg, err)
			}
			got := struct {
				Subject  string
				Audience []string
				Scopes   []string
			}{c.Subject, c.Audience, c.Scopes}
			want := struct {
				Subject  string
				Audience []string
				Scopes   []string
			}{DefaultSubject, []string{Audience}, []string{"orders:read", "orders:write"}}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Verify(%s token) claims (-want +got):\n%s", alg, diff)
			}

			forged, err := Forge(tr.AccessToken, "orders:admin")
			if err != nil {
				t.Fatal(err)
			}
			var te *token.Error
			if _, err := v.Verify(ctx, forged); !errors.As(err, &te) {
				t.Errorf("Verify(forged %s token) = %v, want a *token.Error", alg, err)
			}
		})
	}
}

func TestIssuer_TokenEndpointRefusesBadRequests(t *testing.T) {
	t.Parallel()
	iss, err := NewIssuer("http://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		method     string
		form       url.Values
		wantStatus int
		wantError  string
	}{
		{"GET", "GET", nil, 405, "method_not_allowed"},
		{"no grant_type", "POST", url.Values{"scope": {"orders:read"}}, 400, "unsupported_grant_type"},
		{"password grant", "POST", url.Values{"grant_type": {"password"}}, 400, "unsupported_grant_type"},
		{"quote in scope", "POST", url.Values{"grant_type": {"client_credentials"}, "scope": {`a"b`}}, 400, "invalid_scope"},
		{"huge scope", "POST", url.Values{"grant_type": {"client_credentials"}, "scope": {strings.Repeat("s ", 600)}}, 400, "invalid_scope"},
		{"client_id with a space", "POST", url.Values{"grant_type": {"client_credentials"}, "client_id": {"a b"}}, 400, "invalid_client"},
		{"HS256", "POST", url.Values{"grant_type": {"client_credentials"}, "alg": {"HS256"}}, 400, "invalid_request"},
		{"alg none", "POST", url.Values{"grant_type": {"client_credentials"}, "alg": {"none"}}, 400, "invalid_request"},
		{"no scope is fine", "POST", url.Values{"grant_type": {"client_credentials"}}, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(tt.method, TokenPath, strings.NewReader(tt.form.Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			w := httptest.NewRecorder()
			iss.ServeHTTP(w, r)
			var body struct{ Error string }
			json.Unmarshal(w.Body.Bytes(), &body)
			if w.Code != tt.wantStatus || body.Error != tt.wantError {
				t.Errorf("%s /token %v = %d %q, want %d %q", tt.method, tt.form, w.Code, body.Error, tt.wantStatus, tt.wantError)
			}
			if tt.method == "POST" && w.Header().Get("Cache-Control") != "no-store" {
				t.Errorf("POST /token Cache-Control = %q, want no-store", w.Header().Get("Cache-Control"))
			}
		})
	}
}

func TestIssuer_DiscoveryNamesItsEndpoints(t *testing.T) {
	t.Parallel()
	iss, srv := startIssuer(t)
	resp, err := srv.Client().Get(iss.URL() + DiscoveryPath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct {
		Issuer        string `json:"issuer"`
		JWKSURI       string `json:"jwks_uri"`
		TokenEndpoint string `json:"token_endpoint"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	want := struct {
		Issuer        string `json:"issuer"`
		JWKSURI       string `json:"jwks_uri"`
		TokenEndpoint string `json:"token_endpoint"`
	}{iss.URL(), iss.URL() + JWKSPath, iss.URL() + TokenPath}
	if diff := cmp.Diff(want, doc); diff != "" {
		t.Errorf("discovery document (-want +got):\n%s", diff)
	}
}

func TestRequestToken_SaysWhenNoIssuerRuns(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.URL
	srv.Close() // nothing listens there any more
	_, err := RequestToken(context.Background(), nil, addr, "orders:read", "")
	if err == nil || !strings.Contains(err.Error(), "is `edgeward demo` running?") {
		t.Errorf("RequestToken(no issuer) = %v, want an error asking whether the demo runs", err)
	}
}

func FuzzIssuerToken(f *testing.F) {
	f.Add("grant_type=client_credentials&scope=orders:read")
	f.Add("grant_type=client_credentials&scope=orders:read+orders:write&alg=ES256&client_id=me")
	f.Add("grant_type=password&username=a")
	iss, err := NewIssuer("http://127.0.0.1:1")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, form string) {
		r := httptest.NewRequest("POST", TokenPath, strings.NewReader(form))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		iss.ServeHTTP(w, r)
		if w.Code != http.StatusOK && w.Code != http.StatusBadRequest {
			t.Fatalf("POST /token %q = %d %s, want 200 or 400", form, w.Code, w.Body)
		}
		if !json.Valid(w.Body.Bytes()) {
			t.Fatalf("POST /token %q body is not JSON: %q", form, w.Body)
		}
	})
}
