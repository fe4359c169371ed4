package edge

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestSetLimits_ReloadsEveryLimit(t *testing.T) {
	t.Parallel()
	e := startEdge(t, Config{}, []Behavior{{PathPattern: "*", Origin: nopOrigin{}, AllowedMethods: []string{"GET", "POST"}}}, Options{})
	post := func() int {
		r, err := http.Post("http://"+e.addr+"/a", "text/plain", strings.NewReader(strings.Repeat("x", 2000)))
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		return r.StatusCode
	}
	if st := post(); st != 200 {
		t.Fatalf("2KB body before the change = %d, want 200", st)
	}
	long := "http://" + e.addr + "/" + strings.Repeat("a", 100)
	if err := e.s.SetLimits(Limits{MaxBodyBytes: 1024, MaxURIBytes: 64, MaxHeaderBytes: 2048}); err != nil {
		t.Fatal(err)
	}
	if st := post(); st != 413 {
		t.Errorf("2KB body after max_body_bytes 1KB = %d, want 413", st)
	}
	r, err := http.Get(long)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != 414 {
		t.Errorf("100-byte target after max_uri_bytes 64 = %d, want 414", r.StatusCode)
	}
	if got := e.s.tr.Limits(); got.MaxHeaderBytes != 2048 || got.ReadHeaderTimeout != DefaultReadHeaderTimeout {
		t.Errorf("transport limits = %+v, want max_header_bytes 2048 and the default read_header_timeout", got)
	}
}

func TestSetLimits_RefusesAnInvalidSetAndKeepsTheOld(t *testing.T) {
	t.Parallel()
	s := newServer(t, Config{}, []Behavior{{PathPattern: "*", Origin: nopOrigin{}}}, Options{})
	err := s.SetLimits(Limits{ReadHeaderTimeout: -time.Second, MaxURIBytes: 64 << 10})
	if err == nil {
		t.Fatal("SetLimits with a negative timeout succeeded")
	}
	for _, key := range []string{"limits.read_header_timeout", "limits.max_uri_bytes"} {
		if !strings.Contains(err.Error(), key) {
			t.Errorf("error %q does not name %s", err, key)
		}
	}
	if got := s.limits.Load().MaxURIBytes; got != DefaultMaxURIBytes {
		t.Errorf("max_uri_bytes after a refused change = %v, want the old %v", got, DefaultMaxURIBytes)
	}
}

func TestSetTLS(t *testing.T) {
	t.Parallel()
	certFile, keyFile, _ := writeTestCert(t)
	tlsCfg := TLSConfig{CertFile: certFile, KeyFile: keyFile}
	plain := newServer(t, Config{}, []Behavior{{PathPattern: "*", Origin: nopOrigin{}}}, Options{})
	if err := plain.SetTLS(tlsCfg); err == nil || !strings.Contains(err.Error(), "restart") {
		t.Errorf("SetTLS on a plain listener = %v, want an error saying it needs a restart", err)
	}
	secure := newServer(t, Config{TLS: tlsCfg}, []Behavior{{PathPattern: "*", Origin: nopOrigin{}}}, Options{})
	certB, keyB, _ := writeTestCert(t)
	if err := secure.SetTLS(TLSConfig{CertFile: certB, KeyFile: keyB}); err != nil {
		t.Errorf("SetTLS with a new pair = %v", err)
	}
	if err := secure.SetTLS(TLSConfig{CertFile: certB, KeyFile: certB}); err == nil {
		t.Error("SetTLS with a broken pair succeeded")
	}
}
