package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// The claims every system under test checks: HAProxy's jwt_verify rules in
// bench/peers/haproxy.cfg and edgeward's decision configuration.
const (
	tokenIssuer   = "https://issuer.example"
	tokenAudience = "https://api.example.com"
	tokenScope    = "orders:read"
	keyID         = "bench-rs256"
)

// runSetup writes the benchmark's key material into a directory:
// pub.pem (SPKI, for HAProxy's jwt_verify), jwks.json (for edgeward's
// token issuer, served by the origin) and token (one RS256 access token
// that every system accepts).
func runSetup(args []string) error {
	fs := flag.NewFlagSet("setup", flag.ExitOnError)
	dir := fs.String("dir", "", "directory to write pub.pem, jwks.json and token into")
	ttl := fs.Duration("ttl", 24*time.Hour, "token lifetime")
	fs.Parse(args)
	if *dir == "" {
		return errors.New("-dir is required")
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	pub, err := publicPEM(&key.PublicKey)
	if err != nil {
		return err
	}
	jwks, err := json.Marshal(map[string]any{"keys": []map[string]string{jwk(&key.PublicKey)}})
	if err != nil {
		return err
	}
	tok, err := mint(key, time.Now(), *ttl)
	if err != nil {
		return err
	}
	for name, data := range map[string][]byte{"pub.pem": pub, "jwks.json": jwks, "token": []byte(tok)} {
		if err := os.WriteFile(filepath.Join(*dir, name), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// publicPEM is the key as a PEM "PUBLIC KEY" (SPKI) block, the form
// HAProxy's jwt_verify reads.
func publicPEM(k *rsa.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(k)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// jwk is the public key as a JWK (RFC 7517, RFC 7518 section 6.3).
func jwk(k *rsa.PublicKey) map[string]string {
	b64 := base64.RawURLEncoding.EncodeToString
	return map[string]string{
		"kty": "RSA", "kid": keyID, "alg": "RS256", "use": "sig",
		"n": b64(k.N.Bytes()), "e": b64(big.NewInt(int64(k.E)).Bytes()),
	}
}

// mint signs the benchmark's access token: the claims an API client's
// token from a real issuer carries.
func mint(key *rsa.PrivateKey, now time.Time, ttl time.Duration) (string, error) {
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
		"iss":       tokenIssuer,
		"aud":       tokenAudience,
		"scope":     tokenScope,
		"sub":       "bench-user",
		"client_id": "bench-client",
		"iat":       now.Unix(),
		"nbf":       now.Add(-time.Minute).Unix(),
		"exp":       now.Add(ttl).Unix(),
	})
	t.Header["kid"] = keyID
	return t.SignedString(key)
}
