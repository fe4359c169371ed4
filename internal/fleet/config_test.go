package fleet

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/edgeward/edgeward/internal/testkit"
)

func TestConfig_Validate(t *testing.T) {
	cases := []struct {
		name string
		edit func(*Config)
		want string // substring of the error; "" for none
	}{
		{"address", func(c *Config) {}, ""},
		{"url", func(c *Config) { c.Redis = RedisConfig{URL: "rediss://u:p@redis:6380/2"} }, ""},
		{"neither", func(c *Config) { c.Redis.Address = "" }, "redis: url or address is required"},
		{"both", func(c *Config) { c.Redis.URL = "redis://x:1" }, "redis.address: set url or address, not both"},
		{"bad scheme", func(c *Config) { c.Redis = RedisConfig{URL: "http://x:1"} }, "redis.url"},
		{"password not echoed", func(c *Config) { c.Redis = RedisConfig{URL: "ftp://u:s3cret@x"} }, "redis.url"},
		{"bad address", func(c *Config) { c.Redis.Address = "redis" }, "redis.address: want host:port"},
		{"bad node", func(c *Config) { c.Node = "a b" }, "node: want letters"},
		{"half a client cert", func(c *Config) { c.Redis.TLS = &TLSConfig{CertFile: "c.pem"} }, "cert_file and key_file go together"},
		{"heartbeat past bound", func(c *Config) { c.Heartbeat = time.Minute; c.DisconnectBound = time.Second }, "heartbeat: 1m0s is longer"},
		{"negative", func(c *Config) { c.StreamMaxLen = -1; c.QueueSize = -1 }, "stream_max_len: must be >= 1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := Config{Node: "a", Redis: RedisConfig{Address: "127.0.0.1:6379"}}
			tc.edit(&c)
			c.Defaults()
			err := c.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("Validate() = %v, want an error containing %q", err, tc.want)
			case err != nil && strings.Contains(err.Error(), "s3cret"):
				t.Errorf("Validate() = %v: the password is in the message", err)
			}
		})
	}
}

func TestConfig_DefaultsNodeToHostname(t *testing.T) {
	c := Config{Redis: RedisConfig{Address: "127.0.0.1:6379"}}
	c.Defaults()
	if h, _ := os.Hostname(); c.Node != h || c.Stream != "edgeward:invalidations" {
		t.Errorf("defaults: node %q stream %q, want %q and edgeward:invalidations", c.Node, c.Stream, h)
	}
}

func TestRedis_AUTHFromConfig(t *testing.T) {
	r := startRedis(t, "--requirepass", "pw-from-env")
	cases := []struct {
		name     string
		redis    RedisConfig
		wantSync bool
	}{
		{"password field", RedisConfig{Address: r.Addr(), Password: "pw-from-env"}, true},
		{"url", RedisConfig{URL: "redis://:pw-from-env@" + r.Addr() + "/0"}, true},
		{"wrong password", RedisConfig{Address: r.Addr(), Password: "nope"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig("a", "")
			cfg.Redis = tc.redis
			n := startNode(t, cfg, tc.wantSync)
			if !tc.wantSync {
				// It never gets in: a refused AUTH is an answer, so the
				// node is told at once.
				testkit.WaitFor(t, 5*time.Second, "AUTH refused", func() bool { return n.Health().LastError != "" })
				if n.synced.Load() {
					t.Errorf("node synced with a wrong password")
				}
				if h := n.Health(); !strings.Contains(h.LastError, "WRONGPASS") && !strings.Contains(h.LastError, "invalid") {
					t.Errorf("last error = %q, want Redis's AUTH refusal", h.LastError)
				}
			}
		})
	}
}

func TestRedis_RedissURLWithCA(t *testing.T) {
	dir := t.TempDir()
	ca, cert, key := writeCerts(t, dir)
	port := testkit.FreePort(t)
	r := startRedis(t, "--tls-port", strconv.Itoa(port), "--tls-cert-file", cert, "--tls-key-file", key,
		"--tls-ca-cert-file", ca, "--tls-auth-clients", "no", "--requirepass", "pw")
	tlsAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	_ = r
	cases := []struct {
		name     string
		redis    RedisConfig
		wantSync bool
	}{
		{"rediss with the CA", RedisConfig{URL: "rediss://:pw@" + tlsAddr, TLS: &TLSConfig{CAFile: ca}}, true},
		{"rediss without the CA", RedisConfig{URL: "rediss://:pw@" + tlsAddr}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig("a", "")
			cfg.Redis = tc.redis
			n := startNode(t, cfg, tc.wantSync)
			if !tc.wantSync {
				testkit.WaitFor(t, 5*time.Second, "TLS refused", func() bool { return n.Health().LastError != "" })
				if h := n.Health(); !strings.Contains(h.LastError, "certificate") {
					t.Errorf("last error = %q, want a certificate error", h.LastError)
				}
			}
		})
	}
}

// writeCerts writes a CA and a server certificate for 127.0.0.1.
func writeCerts(t *testing.T, dir string) (caFile, certFile, keyFile string) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	srvKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	srvTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "redis"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	caCert, _ := x509.ParseCertificate(caDER)
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTmpl, caCert, &srvKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(srvKey)
	write := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	return write("ca.pem", "CERTIFICATE", caDER), write("server.pem", "CERTIFICATE", srvDER), write("server.key", "EC PRIVATE KEY", keyDER)
}
