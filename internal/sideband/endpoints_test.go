package sideband_test

import (
	"context"
	"crypto/x509"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/edgeward/edgeward/internal/sideband"
)

// service is a decision service double that allows by echoing, or fails
// with 503 while down is set; it counts sideband calls and probes and
// records the protocol of the last call.
type service struct {
	*httptest.Server
	down   atomic.Bool
	calls  atomic.Int32
	probes atomic.Int32
	proto  atomic.Value
}

func (s *service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.proto.Store(r.Proto)
	if r.Method == http.MethodGet {
		s.probes.Add(1)
		if s.down.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	s.calls.Add(1)
	if s.down.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	body, _ := io.ReadAll(r.Body)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "max-age=7")
	w.Write(body)
}

func newService(t *testing.T) *service {
	s := &service{}
	s.Server = httptest.NewServer(s)
	t.Cleanup(s.Close)
	return s
}

// decide is one decision with the caller's retry: a second attempt after
// a transport error or a 5xx, under one failover context.
func decide(c *sideband.Client) error {
	ctx := sideband.WithFailover(context.Background())
	_, err := c.Request(ctx, sampleRequest())
	var se *sideband.StatusError
	if err != nil && (errors.Is(err, sideband.ErrTransport) || errors.As(err, &se) && se.Status >= 500) {
		_, err = c.Request(ctx, sampleRequest())
	}
	return err
}

func TestClient_SpreadsCallsOverServices(t *testing.T) {
	t.Parallel()
	a, b := newService(t), newService(t)
	c := newClient(t, "", func(cfg *sideband.ClientConfig) { cfg.ServiceURLs = []string{a.URL, b.URL} })
	for range 10 {
		if err := decide(c); err != nil {
			t.Fatal(err)
		}
	}
	if a.calls.Load() != 5 || b.calls.Load() != 5 {
		t.Errorf("calls = %d and %d, want 5 each (round robin)", a.calls.Load(), b.calls.Load())
	}
}

func TestClient_RetryGoesToAnotherServiceAndDownOneLeavesRotation(t *testing.T) {
	t.Parallel()
	a, b := newService(t), newService(t)
	a.down.Store(true)
	c := newClient(t, "", func(cfg *sideband.ClientConfig) {
		cfg.ServiceURLs = []string{a.URL, b.URL}
		cfg.UnhealthyAfter = 2
		cfg.ProbeInterval = time.Hour // no probe during this test
	})
	for i := range 10 {
		if err := decide(c); err != nil {
			t.Fatalf("decision %d: %v, want the retry to reach the healthy service", i, err)
		}
	}
	if got := a.calls.Load(); got != 2 {
		t.Errorf("calls to the failing service = %d, want 2 (then out of rotation)", got)
	}
	if got := c.Healthy(); got[0] || !got[1] {
		t.Errorf("Healthy() = %v, want [false true]", got)
	}
}

func TestClient_ProbeBringsServiceBack(t *testing.T) {
	t.Parallel()
	a, b := newService(t), newService(t)
	a.down.Store(true)
	c := newClient(t, "", func(cfg *sideband.ClientConfig) {
		cfg.ServiceURLs = []string{a.URL, b.URL}
		cfg.UnhealthyAfter = 1
		cfg.ProbeInterval = time.Nanosecond // a probe is due at every pick
	})
	for range 4 {
		if err := decide(c); err != nil {
			t.Fatal(err)
		}
	}
	a.down.Store(false)
	// The probe runs beside the calls; poll for its outcome, bounded.
	deadline := time.Now().Add(5 * time.Second)
	for !c.Healthy()[0] {
		if time.Now().After(deadline) {
			t.Fatalf("service still out of rotation after 5s of probes (%d probes)", a.probes.Load())
		}
		if err := decide(c); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond) // pacing of the poll, not synchronisation
	}
	if a.probes.Load() == 0 {
		t.Errorf("service came back without a probe")
	}
	before := a.calls.Load()
	for range 4 {
		decide(c)
	}
	if a.calls.Load() == before {
		t.Errorf("service back in rotation gets no calls")
	}
}

func TestClient_OneServiceIsNeverTakenOut(t *testing.T) {
	t.Parallel()
	a := newService(t)
	a.down.Store(true)
	c := newClient(t, a.URL, func(cfg *sideband.ClientConfig) { cfg.UnhealthyAfter = 1 })
	for range 3 {
		decide(c)
	}
	a.down.Store(false)
	if err := decide(c); err != nil {
		t.Errorf("single service: %v, want it called again as soon as it answers", err)
	}
}

func TestClient_4xxKeepsServiceInRotation(t *testing.T) {
	t.Parallel()
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(401) }))
	defer bad.Close()
	b := newService(t)
	c := newClient(t, "", func(cfg *sideband.ClientConfig) { cfg.ServiceURLs = []string{bad.URL, b.URL}; cfg.UnhealthyAfter = 1 })
	for range 4 {
		decide(c)
	}
	if got := c.Healthy(); !got[0] {
		t.Errorf("Healthy() = %v: a 401 is an answer, the service is up", got)
	}
}

func TestClient_ReplyCarriesCacheControl(t *testing.T) {
	t.Parallel()
	a := newService(t)
	c := newClient(t, a.URL, nil)
	rep, err := c.Request(context.Background(), sampleRequest())
	if err != nil {
		t.Fatal(err)
	}
	if rep.CacheControl != "max-age=7" {
		t.Errorf("CacheControl = %q, want max-age=7", rep.CacheControl)
	}
}

func TestClient_Protocols(t *testing.T) {
	t.Parallel()
	h2c := func() *service {
		s := &service{}
		s.Server = httptest.NewUnstartedServer(s)
		s.Config.Protocols = new(http.Protocols)
		s.Config.Protocols.SetHTTP1(true)
		s.Config.Protocols.SetUnencryptedHTTP2(true)
		s.Start()
		t.Cleanup(s.Close)
		return s
	}
	tlsH2 := func() *service {
		s := &service{}
		s.Server = httptest.NewUnstartedServer(s)
		s.EnableHTTP2 = true
		s.StartTLS()
		t.Cleanup(s.Close)
		return s
	}
	tests := []struct {
		name     string
		srv      func() *service
		protocol string
		want     string
	}{
		{"h2c", h2c, sideband.ProtocolH2C, "HTTP/2.0"},
		{"plain auto is HTTP/1.1", h2c, sideband.ProtocolAuto, "HTTP/1.1"},
		{"TLS auto negotiates h2", tlsH2, sideband.ProtocolAuto, "HTTP/2.0"},
		{"TLS h2c setting still h2", tlsH2, sideband.ProtocolH2C, "HTTP/2.0"},
		{"TLS http1", tlsH2, sideband.ProtocolHTTP1, "HTTP/1.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := tt.srv()
			c := newClient(t, s.URL, func(cfg *sideband.ClientConfig) {
				cfg.Protocol = tt.protocol
				if s.TLS != nil {
					pool := x509.NewCertPool()
					pool.AddCert(s.Certificate())
					cfg.RootCAs = pool
				}
			})
			for range 3 {
				if _, err := c.Request(context.Background(), sampleRequest()); err != nil {
					t.Fatal(err)
				}
			}
			if got := s.proto.Load(); got != tt.want {
				t.Errorf("protocol = %v, want %s", got, tt.want)
			}
		})
	}
}

func TestClient_UnknownProtocolIsAnError(t *testing.T) {
	t.Parallel()
	_, err := sideband.NewClient(sideband.ClientConfig{ServiceURL: "http://127.0.0.1:1", Protocol: "spdy"})
	if err == nil {
		t.Fatal("NewClient with protocol spdy: no error")
	}
}

// BenchmarkClientRoundTrip is the whole sideband hop on loopback, 64
// decisions in flight: encode, HTTP exchange, decode, with each protocol
// (http1: the lean hop; http1-transport: the same through http.Transport).
func BenchmarkClientRoundTrip(b *testing.B) {
	reply := []byte(`{"source_ip":"192.0.2.1","source_port":40000,"method":"GET","url":"http://api.example.com/orders","http_version":"1.1","headers":[{"host":"api.example.com"}]}`)
	for _, name := range []string{sideband.ProtocolHTTP1, "http1-transport", sideband.ProtocolH2C} {
		proto, transport := strings.CutSuffix(name, "-transport")
		b.Run(name, func(b *testing.B) {
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				w.Header().Set("Content-Type", "application/json")
				w.Write(reply)
			}))
			srv.Config.Protocols = new(http.Protocols)
			srv.Config.Protocols.SetHTTP1(true)
			srv.Config.Protocols.SetUnencryptedHTTP2(true)
			srv.Start()
			defer srv.Close()
			c, err := sideband.NewClient(sideband.ClientConfig{ServiceURL: srv.URL, Credential: "x", Protocol: proto})
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			if transport {
				sideband.UseTransport(c)
			}
			b.ReportAllocs()
			b.SetParallelism(32)
			cpu := cpuTime()
			b.RunParallel(func(pb *testing.PB) {
				req := sampleRequest()
				for pb.Next() {
					if _, err := c.Request(context.Background(), req); err != nil {
						b.Error(err)
						return
					}
				}
			})
			// CPU per call, client and service together: on a shared
			// machine a steadier figure than the time per call.
			b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/float64(b.N), "cpu-us/op")
		})
	}
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
