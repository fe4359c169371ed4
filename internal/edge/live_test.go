package edge

import (
	"bytes"
	"crypto/tls"
	"encoding/pem"
	"net/http"
	"os"
	"strings"
	"testing"
)

func TestReload_AppliesTheListenerLimits(t *testing.T) {
	t.Parallel()
	bs := []Behavior{{PathPattern: "*", Origin: nopOrigin{}, AllowedMethods: []string{"GET", "POST"}}}
	e := startEdge(t, Config{}, bs, Options{})
	post := func() int {
		r, err := http.Post("http://"+e.addr+"/a", "text/plain", strings.NewReader(strings.Repeat("x", 2000)))
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		return r.StatusCode
	}
	if st := post(); st != 200 {
		t.Fatalf("2KB body before the reload = %d, want 200", st)
	}
	cfg := Config{Limits: Limits{MaxBodyBytes: 1024, MaxURIBytes: 64, MaxHeaderBytes: 2048, MaxConnections: 7}}
	if err := e.s.Reload(Generation{Config: cfg, Behaviors: bs}); err != nil {
		t.Fatal(err)
	}
	if st := post(); st != 413 {
		t.Errorf("2KB body after max_body_bytes 1KB = %d, want 413", st)
	}
	r, err := http.Get("http://" + e.addr + "/" + strings.Repeat("a", 100))
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != 414 {
		t.Errorf("100-byte target after max_uri_bytes 64 = %d, want 414", r.StatusCode)
	}
	got := e.s.tr.Limits()
	if got.MaxHeaderBytes != 2048 || got.MaxConnections != 7 || got.ReadHeaderTimeout != DefaultReadHeaderTimeout {
		t.Errorf("transport limits = %+v, want max_header_bytes 2048, max_connections 7 and the default read_header_timeout", got)
	}
}

func TestReload_RefusesSwitchingBetweenHTTPAndHTTPS(t *testing.T) {
	t.Parallel()
	certFile, keyFile, _ := writeTestCert(t)
	tlsCfg := TLSConfig{CertFile: certFile, KeyFile: keyFile}
	bs := []Behavior{{PathPattern: "*", Origin: nopOrigin{}}}
	plain := newServer(t, Config{}, bs, Options{})
	if err := plain.Reload(Generation{Config: Config{TLS: tlsCfg, Limits: Limits{MaxBodyBytes: 5}}, Behaviors: bs}); err == nil || !strings.Contains(err.Error(), "restart") {
		t.Errorf("reload to HTTPS on a plain listener = %v, want an error saying it needs a restart", err)
	}
	if got := plain.snap.Load().cfg.Limits.MaxBodyBytes; got != DefaultMaxBodyBytes {
		t.Errorf("max_body_bytes after a refused reload = %v, want the running %v", got, DefaultMaxBodyBytes)
	}
	secure := newServer(t, Config{TLS: tlsCfg}, bs, Options{})
	if err := secure.Reload(Generation{Config: Config{}, Behaviors: bs}); err == nil {
		t.Error("reload to plain HTTP on an HTTPS listener succeeded")
	}
	if err := secure.Reload(Generation{Config: Config{TLS: TLSConfig{CertFile: certFile, KeyFile: certFile}}, Behaviors: bs}); err == nil {
		t.Error("reload with a broken key pair succeeded")
	}
}

func TestReload_ServesTheNewCertificateToNewConnections(t *testing.T) {
	t.Parallel()
	certA, keyA, poolA := writeTestCert(t)
	certB, keyB, _ := writeTestCert(t)
	bs := []Behavior{{PathPattern: "*", Origin: nopOrigin{}}}
	e := startEdge(t, Config{TLS: TLSConfig{CertFile: certA, KeyFile: keyA}}, bs, Options{})
	peer := func() []byte {
		cfg := &tls.Config{RootCAs: poolA, NextProtos: []string{"http/1.1"}}
		cfg.RootCAs.AppendCertsFromPEM(mustRead(t, certB))
		c, err := tls.Dial("tcp", e.addr, cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.ConnectionState().PeerCertificates[0].Raw
	}
	if got := peer(); !bytes.Equal(got, derOf(t, certA)) {
		t.Fatal("handshake before the reload did not get the first certificate")
	}
	if err := e.s.Reload(Generation{Config: Config{TLS: TLSConfig{CertFile: certB, KeyFile: keyB}}, Behaviors: bs}); err != nil {
		t.Fatal(err)
	}
	if got := peer(); !bytes.Equal(got, derOf(t, certB)) {
		t.Error("handshake after the reload did not get the new certificate")
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func derOf(t *testing.T, certFile string) []byte {
	t.Helper()
	b, _ := pem.Decode(mustRead(t, certFile))
	if b == nil {
		t.Fatalf("%s: no PEM block", certFile)
	}
	return b.Bytes
}
