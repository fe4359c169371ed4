// Package tokentest is a JWT access-token issuer for tests: RSA, EC P-256 and
// Ed25519 signing keys, a JWKS and an OpenID configuration served by an
// httptest server on loopback, key rotation, and tokens with every claim
// and header variation the token verifier must refuse (alg none, HMAC
// signed with the public key, unknown keys, jku/jwk/x5u headers).
//
// It stands in for the identity provider in front of which edgeward's
// decision service validates access tokens, as httptest stands in for an
// HTTP server.
package tokentest

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Paths the issuer serves.
const (
	JWKSPath      = "/.well-known/jwks.json"
	DiscoveryPath = "/.well-known/openid-configuration"
)

// Algorithms the issuer signs with.
const (
	RS256 = "RS256"
	ES256 = "ES256"
	EdDSA = "EdDSA"
)

// Issuer is a token issuer with a JWKS endpoint. Its methods are safe for
// concurrent use.
type Issuer struct {
	srv *httptest.Server

	mu      sync.Mutex
	keys    []*key          // published in the JWKS, in order
	current map[string]*key // by alg
	all     map[string]*key // every key ever made, retired ones too, by kid
	seq     int
	unknown *key // signs tokens whose key is in no JWKS

	fetches   atomic.Int64
	fetched   chan struct{} // closed and replaced on each JWKS fetch; under mu
	discovery atomic.Int64
	down      atomic.Bool
	stall     atomic.Pointer[chan struct{}]
}

type key struct {
	kid    string
	alg    string
	signer crypto.Signer
}

// NewIssuer starts an issuer on a loopback httptest server with one RSA
// 2048, one EC P-256 and one Ed25519 key, and stops it when the test ends.
func NewIssuer(t testing.TB) *Issuer {
	t.Helper()
	iss, err := start(httptest.NewUnstartedServer(nil), false)
	if err != nil {
		t.Fatalf("tokentest.NewIssuer: %v", err)
	}
	t.Cleanup(iss.Close)
	return iss
}

// NewTLSIssuer is NewIssuer over HTTPS; CertPEM is the certificate to
// trust (an issuer's ca_file).
func NewTLSIssuer(t testing.TB) *Issuer {
	t.Helper()
	iss, err := start(httptest.NewUnstartedServer(nil), true)
	if err != nil {
		t.Fatalf("tokentest.NewTLSIssuer: %v", err)
	}
	t.Cleanup(iss.Close)
	return iss
}

// Start starts an issuer outside a test (a benchmark driver, a demo);
// Close stops it.
func Start() (*Issuer, error) {
	return start(httptest.NewUnstartedServer(nil), false)
}

func start(srv *httptest.Server, tls bool) (*Issuer, error) {
	iss := &Issuer{srv: srv, current: map[string]*key{}, all: map[string]*key{}, fetched: make(chan struct{})}
	for _, alg := range []string{RS256, ES256, EdDSA} {
		if _, err := iss.add(alg); err != nil {
			return nil, err
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+JWKSPath, iss.serveJWKS)
	mux.HandleFunc("GET "+DiscoveryPath, iss.serveDiscovery)
	srv.Config.Handler = mux
	// Clients that refuse the test certificate are expected, not news.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	if tls {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	return iss, nil
}

// Close stops the server.
func (i *Issuer) Close() { i.srv.Close() }

// URL is the issuer's base URL: the iss of its tokens and the base of its
// OpenID discovery.
func (i *Issuer) URL() string { return i.srv.URL }

// JWKSURL is the URL of the issuer's JWKS.
func (i *Issuer) JWKSURL() string { return i.srv.URL + JWKSPath }

// CertPEM is the PEM of the server's certificate (for NewTLSIssuer), to be
// written to a verifier's ca_file.
func (i *Issuer) CertPEM() []byte {
	if i.srv.Certificate() == nil {
		return nil
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: i.srv.Certificate().Raw})
}

// Fetches is how many times the JWKS was requested (failed requests while
// the issuer is down included).
func (i *Issuer) Fetches() int { return int(i.fetches.Load()) }

// WaitFetches waits until the JWKS has been requested at least n times in
// all, or ctx ends.
func (i *Issuer) WaitFetches(ctx context.Context, n int) error {
	for {
		i.mu.Lock()
		ch := i.fetched
		i.mu.Unlock()
		if i.Fetches() >= n {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("tokentest: %d JWKS fetches, want %d: %w", i.Fetches(), n, ctx.Err())
		}
	}
}

// DiscoveryFetches is how many times the OpenID configuration was requested.
func (i *Issuer) DiscoveryFetches() int { return int(i.discovery.Load()) }

// SetDown makes the JWKS and discovery endpoints answer 503 (down) or
// serve again.
func (i *Issuer) SetDown(down bool) { i.down.Store(down) }

// Stall makes the JWKS endpoint hold every request until release is
// called or the client gives up, as a hung identity provider does.
func (i *Issuer) Stall() (release func()) {
	ch := make(chan struct{})
	i.stall.Store(&ch)
	var once sync.Once
	return func() {
		once.Do(func() {
			i.stall.CompareAndSwap(&ch, nil)
			close(ch)
		})
	}
}

// KID is the kid of the current key for alg (RS256, ES256 or EdDSA).
func (i *Issuer) KID(alg string) string {
	i.mu.Lock()
	defer i.mu.Unlock()
	if k := i.current[alg]; k != nil {
		return k.kid
	}
	return ""
}

// Rotate adds a new RSA key to the JWKS and makes it current (the key
// RS256 tokens are signed with). The old key stays in the JWKS until
// Retire. It returns the new kid.
func (i *Issuer) Rotate() string { return i.RotateAlg(RS256) }

// RotateAlg is Rotate for the key of alg (RS256, ES256 or EdDSA).
func (i *Issuer) RotateAlg(alg string) string {
	k, err := i.add(alg)
	if err != nil {
		panic(fmt.Sprintf("tokentest: %v", err))
	}
	return k.kid
}

// Retire removes the key kid from the JWKS. Tokens signed with it can
// still be minted (WithKID), and no longer verify once verifiers refresh.
func (i *Issuer) Retire(kid string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.keys = slices.DeleteFunc(i.keys, func(k *key) bool { return k.kid == kid })
}

// PublicKeyPEM is the current RSA key's public key as a PEM "PUBLIC KEY"
// (SPKI) block, as HAProxy's jwt_verify and nginx read it.
func (i *Issuer) PublicKeyPEM() []byte {
	i.mu.Lock()
	k := i.current[RS256]
	i.mu.Unlock()
	der, err := x509.MarshalPKIXPublicKey(k.signer.Public())
	if err != nil {
		panic(fmt.Sprintf("tokentest: %v", err))
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

func (i *Issuer) add(alg string) (*key, error) {
	signer, err := generate(alg)
	if err != nil {
		return nil, err
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	i.seq++
	k := &key{kid: fmt.Sprintf("%s-%d", alg, i.seq), alg: alg, signer: signer}
	i.keys = append(i.keys, k)
	i.current[alg] = k
	i.all[k.kid] = k
	return k, nil
}

func generate(alg string) (crypto.Signer, error) {
	switch alg {
	case RS256:
		return rsa.GenerateKey(rand.Reader, 2048)
	case ES256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case EdDSA:
		_, k, err := ed25519.GenerateKey(rand.Reader)
		return k, err
	}
	return nil, fmt.Errorf("unknown algorithm %q (want RS256, ES256 or EdDSA)", alg)
}

func (i *Issuer) serveJWKS(w http.ResponseWriter, r *http.Request) {
	i.mu.Lock()
	i.fetches.Add(1)
	close(i.fetched)
	i.fetched = make(chan struct{})
	i.mu.Unlock()
	if ch := i.stall.Load(); ch != nil {
		select {
		case <-*ch:
		case <-r.Context().Done():
			return
		}
	}
	if i.down.Load() {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	i.mu.Lock()
	set := make([]map[string]string, 0, len(i.keys))
	for _, k := range i.keys {
		set = append(set, jwk(k))
	}
	i.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"keys": set})
}

func (i *Issuer) serveDiscovery(w http.ResponseWriter, _ *http.Request) {
	i.discovery.Add(1)
	if i.down.Load() {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"issuer":                                i.URL(),
		"jwks_uri":                              i.JWKSURL(),
		"id_token_signing_alg_values_supported": []string{RS256, ES256, EdDSA},
	})
}

// jwk is the public JWK of k (RFC 7517, 7518 section 6, RFC 8037).
func jwk(k *key) map[string]string {
	b64 := base64.RawURLEncoding.EncodeToString
	m := map[string]string{"kid": k.kid, "alg": k.alg, "use": "sig"}
	switch pub := k.signer.Public().(type) {
	case *rsa.PublicKey:
		m["kty"] = "RSA"
		m["n"] = b64(pub.N.Bytes())
		m["e"] = b64(big.NewInt(int64(pub.E)).Bytes())
	case *ecdsa.PublicKey:
		b, _ := pub.Bytes() // 0x04 || X || Y
		size := (len(b) - 1) / 2
		m["kty"] = "EC"
		m["crv"] = "P-256"
		m["x"] = b64(b[1 : 1+size])
		m["y"] = b64(b[1+size:])
	case ed25519.PublicKey:
		m["kty"] = "OKP"
		m["crv"] = "Ed25519"
		m["x"] = b64(pub)
	}
	return m
}

// Option changes a token Mint makes.
type Option func(*mint)

type mint struct {
	alg     string
	key     string
	kid     *string
	headers map[string]any
	unknown bool
	none    bool
	hmacPub bool
}

// WithAlg signs with the current key of alg: RS256 (the default), ES256 or
// EdDSA.
func WithAlg(alg string) Option { return func(m *mint) { m.alg = alg } }

// WithKID sets the kid header (an empty kid removes it). The token is still
// signed with the current key of its alg.
func WithKID(kid string) Option { return func(m *mint) { m.kid = &kid } }

// WithSigningKey signs with the issuer's key kid (a rotated or retired one
// included), under its own kid and alg.
func WithSigningKey(kid string) Option { return func(m *mint) { m.key = kid } }

// WithHeader sets a header field (e.g. jku, jwk, x5u, crit), or removes it
// when value is nil.
func WithHeader(name string, value any) Option {
	return func(m *mint) {
		if m.headers == nil {
			m.headers = map[string]any{}
		}
		m.headers[name] = value
	}
}

// WithUnknownKey signs with an RSA key that is in no JWKS, under a kid the
// JWKS does not have ("unknown", unless WithKID).
func WithUnknownKey() Option { return func(m *mint) { m.unknown = true } }

// WithAlgNone makes an unsigned token: alg "none" and an empty signature.
func WithAlgNone() Option { return func(m *mint) { m.none = true } }

// WithHS256PublicKey makes the algorithm-confusion token: alg HS256, the
// kid of the current RSA key, and an HMAC keyed with that key's public PEM.
func WithHS256PublicKey() Option { return func(m *mint) { m.hmacPub = true } }

// Mint returns a compact JWT. The claims default to iss = URL(), iat = now
// and exp = now + 1h; claims overrides them, and a claim whose value is nil
// is left out (e.g. "exp": nil for a token without exp).
func (i *Issuer) Mint(claims map[string]any, opts ...Option) string {
	m := mint{alg: RS256}
	for _, o := range opts {
		o(&m)
	}
	now := time.Now()
	mc := jwt.MapClaims{"iss": i.URL(), "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	for name, v := range claims {
		if v == nil {
			delete(mc, name)
		} else {
			mc[name] = v
		}
	}

	i.mu.Lock()
	k := i.current[m.alg]
	if m.key != "" {
		k = i.all[m.key]
	}
	i.mu.Unlock()
	if k == nil {
		panic(fmt.Sprintf("tokentest: Mint: no key for alg %q or kid %q", m.alg, m.key))
	}
	var (
		method jwt.SigningMethod = jwt.GetSigningMethod(k.alg)
		signer any               = k.signer
		kid                      = k.kid
	)
	switch {
	case m.none:
		method, signer = jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType
	case m.hmacPub:
		method, signer = jwt.SigningMethodHS256, i.PublicKeyPEM()
	case m.unknown:
		u := i.unknownKey()
		method, signer, kid = jwt.SigningMethodRS256, u.signer, u.kid
	}
	tok := jwt.NewWithClaims(method, mc)
	tok.Header["kid"] = kid
	if m.kid != nil {
		tok.Header["kid"] = *m.kid
		if *m.kid == "" {
			delete(tok.Header, "kid")
		}
	}
	for name, v := range m.headers {
		if v == nil {
			delete(tok.Header, name)
		} else {
			tok.Header[name] = v
		}
	}
	s, err := tok.SignedString(signer)
	if err != nil {
		panic(fmt.Sprintf("tokentest: Mint: %v", err))
	}
	return s
}

func (i *Issuer) unknownKey() *key {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.unknown == nil {
		s, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(fmt.Sprintf("tokentest: %v", err))
		}
		i.unknown = &key{kid: "unknown", alg: RS256, signer: s}
	}
	return i.unknown
}
