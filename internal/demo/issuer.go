package demo

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Paths the issuer serves, as an OpenID provider does.
const (
	JWKSPath      = "/.well-known/jwks.json"
	DiscoveryPath = "/.well-known/openid-configuration"
	TokenPath     = "/token"
)

// Issuer defaults.
const (
	// Audience is the aud of every demo token and the audience the demo's
	// Orders API service requires.
	Audience = "https://api.example.com"
	// DefaultTokenTTL is how long a demo token is valid.
	DefaultTokenTTL = time.Hour
	// DefaultSubject is the sub of a token requested without client_id.
	DefaultSubject = "demo-client"
	// maxTokenForm bounds a POST /token body.
	maxTokenForm = 8 << 10
	maxScopeLen  = 1024
	maxClientID  = 64
)

// Algorithms the issuer signs with.
const (
	RS256 = "RS256"
	ES256 = "ES256"
)

// Issuer is the demo token issuer: an RSA 2048 and an EC P-256 key made at
// start, their public halves in a JWKS, an OpenID discovery document and a
// client-credentials token endpoint that mints access tokens for the
// scopes asked (there is no client authentication: it is a demo). It is
// safe for concurrent use.
type Issuer struct {
	url       string
	audience  string
	ttl       time.Duration
	now       func() time.Time
	keys      map[string]issuerKey // by alg
	jwks      []byte
	discovery []byte
}

type issuerKey struct {
	kid    string
	method jwt.SigningMethod
	signer crypto.Signer
}

// NewIssuer makes the issuer's keys. url is the issuer identifier (the iss
// of its tokens and the base of its endpoints, e.g. http://127.0.0.1:8082).
func NewIssuer(url string) (*Issuer, error) {
	i := &Issuer{url: strings.TrimSuffix(url, "/"), audience: Audience, ttl: DefaultTokenTTL, now: time.Now, keys: map[string]issuerKey{}}
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("issuer: RSA key: %w", err)
	}
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("issuer: EC key: %w", err)
	}
	jwks := struct {
		Keys []map[string]string `json:"keys"`
	}{}
	for _, k := range []struct {
		alg    string
		method jwt.SigningMethod
		signer crypto.Signer
	}{{RS256, jwt.SigningMethodRS256, rk}, {ES256, jwt.SigningMethodES256, ek}} {
		kid, err := keyID(k.signer.Public())
		if err != nil {
			return nil, fmt.Errorf("issuer: %w", err)
		}
		i.keys[k.alg] = issuerKey{kid: kid, method: k.method, signer: k.signer}
		jwk := publicJWK(k.signer.Public())
		jwk["kid"], jwk["alg"], jwk["use"] = kid, k.alg, "sig"
		jwks.Keys = append(jwks.Keys, jwk)
	}
	if i.jwks, err = json.Marshal(jwks); err != nil {
		return nil, err
	}
	i.discovery, err = json.Marshal(map[string]any{
		"issuer":                                i.url,
		"jwks_uri":                              i.url + JWKSPath,
		"token_endpoint":                        i.url + TokenPath,
		"grant_types_supported":                 []string{"client_credentials"},
		"token_endpoint_auth_methods_supported": []string{"none"},
		"response_types_supported":              []string{"token"},
		"scopes_supported":                      []string{"orders:read", "orders:write"},
		"id_token_signing_alg_values_supported": []string{RS256, ES256},
	})
	return i, err
}

// URL is the issuer identifier.
func (i *Issuer) URL() string { return i.url }

// Mint returns an access token for subject with the space-separated scope,
// signed with alg (RS256 when empty), valid for the issuer's token TTL.
func (i *Issuer) Mint(subject, scope, alg string) (string, error) {
	if alg == "" {
		alg = RS256
	}
	k, ok := i.keys[alg]
	if !ok {
		return "", fmt.Errorf("alg: want %s or %s, got %q", RS256, ES256, alg)
	}
	now := i.now().Truncate(time.Second)
	claims := jwt.MapClaims{
		"iss":       i.url,
		"sub":       subject,
		"aud":       i.audience,
		"iat":       now.Unix(),
		"nbf":       now.Unix(),
		"exp":       now.Add(i.ttl).Unix(),
		"jti":       randomID(),
		"client_id": subject,
		"scope":     scope,
	}
	t := jwt.NewWithClaims(k.method, claims)
	t.Header["kid"] = k.kid
	t.Header["typ"] = "at+jwt" // RFC 9068: a JWT access token
	return t.SignedString(k.signer)
}

// ServeHTTP serves the JWKS, the discovery document and the token
// endpoint.
func (i *Issuer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case JWKSPath:
		i.serveDocument(w, r, i.jwks)
	case DiscoveryPath:
		i.serveDocument(w, r, i.discovery)
	case TokenPath:
		if r.Method != http.MethodPost {
			methodNotAllowed(w, r.Method, "POST")
			return
		}
		i.token(w, r)
	default:
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("the issuer serves %s, %s and POST %s", JWKSPath, DiscoveryPath, TokenPath))
	}
}

func (i *Issuer) serveDocument(w http.ResponseWriter, r *http.Request, doc []byte) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w, r.Method, "GET, HEAD")
		return
	}
	w.Header().Set("Cache-Control", "max-age=300")
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		w.Write(doc)
	}
}

// TokenResponse is the token endpoint's answer (RFC 6749 section 5.1).
type TokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
	Scope       string `json:"scope,omitempty"`
}

// token is the client-credentials grant: form grant_type=client_credentials,
// scope (space-separated), and optionally client_id (the token's subject)
// and alg (RS256 or ES256).
func (i *Issuer) token(w http.ResponseWriter, r *http.Request) {
	// RFC 6749 section 5.1: token answers are never cached.
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	r.Body = http.MaxBytesReader(w, r.Body, maxTokenForm)
	if err := r.ParseForm(); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request", "want an application/x-www-form-urlencoded body of at most 8KiB")
		return
	}
	form := r.PostForm
	if gt := form.Get("grant_type"); gt != "client_credentials" {
		writeError(w, http.StatusBadRequest, "unsupported_grant_type", fmt.Sprintf("grant_type: want client_credentials, got %q", gt))
		return
	}
	scope := strings.Join(strings.Fields(form.Get("scope")), " ")
	if problem := validScope(scope); problem != "" {
		writeError(w, http.StatusBadRequest, "invalid_scope", problem)
		return
	}
	subject := form.Get("client_id")
	if subject == "" {
		subject = DefaultSubject
	}
	if !validClientID(subject) {
		writeError(w, http.StatusBadRequest, "invalid_client", fmt.Sprintf("client_id: at most %d letters, digits and -._:@", maxClientID))
		return
	}
	tok, err := i.Mint(subject, scope, form.Get("alg"))
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, TokenResponse{AccessToken: tok, TokenType: "Bearer", ExpiresIn: int(i.ttl / time.Second), Scope: scope})
}

// validScope checks scope-token characters (RFC 6749 section 3.3).
func validScope(scope string) string {
	if len(scope) > maxScopeLen {
		return fmt.Sprintf("scope: at most %d bytes", maxScopeLen)
	}
	for _, c := range []byte(scope) {
		if c < 0x20 || c == '"' || c == '\\' || c >= 0x7f {
			return `scope: space-separated words of printable ASCII without " or \`
		}
	}
	return ""
}

func validClientID(s string) bool {
	if len(s) > maxClientID {
		return false
	}
	for _, c := range []byte(s) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("-._:@", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// keyID is the first 8 bytes, in hex, of the SHA-256 of the public key's
// DER encoding: stable for a key, different across keys.
func keyID(pub crypto.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:8]), nil
}

// publicJWK encodes an RSA or EC P-256 public key as a JWK (RFC 7517/7518).
func publicJWK(pub crypto.PublicKey) map[string]string {
	b64 := base64.RawURLEncoding.EncodeToString
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return map[string]string{"kty": "RSA", "n": b64(k.N.Bytes()), "e": b64(big.NewInt(int64(k.E)).Bytes())}
	case *ecdsa.PublicKey:
		// Coordinates are fixed-size, left-padded (RFC 7518 section
		// 6.2.1.2), as in the uncompressed point 0x04 || X || Y.
		b, err := k.Bytes()
		if err != nil || len(b) != 65 {
			panic(fmt.Sprintf("demo: not a P-256 key: %v", err))
		}
		return map[string]string{"kty": "EC", "crv": "P-256", "x": b64(b[1:33]), "y": b64(b[33:])}
	}
	panic(fmt.Sprintf("demo: unsupported key type %T", pub))
}

func randomID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Forge returns tok with its payload changed to carry scope, the signature
// kept: the token an attacker would send to widen a real token's rights,
// which the decision service must refuse (401 invalid_token).
func Forge(tok, scope string) (string, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return "", errors.New("forge: not a JWS compact token")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", fmt.Errorf("forge: payload: %w", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		return "", fmt.Errorf("forge: payload: %w", err)
	}
	claims["scope"] = scope
	if payload, err = json.Marshal(claims); err != nil {
		return "", err
	}
	parts[1] = base64.RawURLEncoding.EncodeToString(payload)
	return strings.Join(parts, "."), nil
}
