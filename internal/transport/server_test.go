package transport

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/edgeward/edgeward/internal/testkit"
)

// answer is the handler of the tests: the framing verdict, or 200 with
// what the transport said about the request.
func answer(w http.ResponseWriter, r *http.Request, f Framing) {
	if st, reason := f.Refused(); st != 0 {
		w.Header().Set("Connection", "close")
		http.Error(w, reason, st)
		return
	}
	io.Copy(io.Discard, r.Body)
	fmt.Fprintf(w, "proto=%s guarded=%v tls=%v", r.Proto, f.Guarded(), f.TLS() != nil)
}

// start serves s on a loopback listener until the test ends.
func start(t testing.TB, s *Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve = %v, want nil after a graceful shutdown", err)
		}
	})
	return ln.Addr().String()
}

func testLimits() Limits {
	return Limits{ReadHeaderTimeout: time.Minute, IdleTimeout: time.Minute, MaxHeaderBytes: 4096, MaxConnections: 100}
}

func newServer(fast bool, cert *tls.Certificate) *Server {
	return New(answer, Options{Limits: testLimits(), FastLane: fast, Certificate: cert, ShutdownGrace: func() time.Duration { return time.Second }})
}

// prompt is how soon bytes that cannot be HTTP/1.x must be answered or
// cut; read_header_timeout is a minute in these tests.
const prompt = 100 * time.Millisecond

func TestServe_NonHTTPFirstBytesAreAnsweredAtOnce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		bytes string
		want  string // the answer's start; "" for a close without one
	}{
		{"tls client hello on the plain port", "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03", "HTTP/1.1 400 "},
		{"binary junk", "\x00\x01\x02\x03\xff\xfe", "HTTP/1.1 400 "},
		{"a byte that cannot start a method", "(GET / HTTP/1.1", "HTTP/1.1 400 "},
		{"utf-8 method", "GÉT / HTTP/1.1", "HTTP/1.1 400 "},
		{"control byte in the target", "GET /a\x01b", "HTTP/1.1 400 "},
		{"bare CR in the request line", "GET /\rx", "HTTP/1.1 400 "},
		{"empty method", " / HTTP/1.1", "HTTP/1.1 400 "},
		{"malformed HTTP version", "GET / HTTP/1.10\r\n\r\n", "HTTP/1.1 400 "},
		{"two spaces", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", "HTTP/1.1 400 "},
		// A peer that speaks another protocol gets no HTTP/1.1 answer.
		{"not HTTP after the target", "GET / SSH-2.0\r\n", ""},
		{"invalid HTTP/2 preface", "INVALID CONNECTION PREFACE\r\n\r\n", ""},
	}
	for _, fast := range []bool{true, false} {
		addr := start(t, newServer(fast, nil))
		for _, tt := range tests {
			t.Run(fmt.Sprintf("fast=%v/%s", fast, tt.name), func(t *testing.T) {
				c, err := net.Dial("tcp", addr)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				// The deadline only bounds a broken transport.
				_ = c.SetDeadline(time.Now().Add(30 * time.Second))
				began := time.Now()
				io.WriteString(c, tt.bytes)
				got, err := io.ReadAll(c)
				took := time.Since(began)
				if err != nil && !(tt.want == "" && isReset(err)) {
					t.Fatalf("reading until close: %v", err)
				}
				if tt.want == "" && len(got) > 0 || !strings.HasPrefix(string(got), tt.want) {
					t.Errorf("answer %q, want %q", got, tt.want)
				}
				if took > prompt {
					t.Errorf("answered and closed after %v, want within %v", took, prompt)
				}
			})
		}
	}
}

// TestServe_HTTPStartStillWaitsForTheRest pins the other side: a request
// line that can still become a valid one is not refused early.
func TestServe_HTTPStartStillWaitsForTheRest(t *testing.T) {
	t.Parallel()
	addr := start(t, newServer(true, nil))
	for _, part := range []string{"G", "GET", "GET /a%zz", "GET /a?x=\xff HTTP/", "\r\n\r\nGET / HTTP/1.1\r"} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(c, part)
		_ = c.SetReadDeadline(time.Now().Add(2 * prompt))
		n, err := c.Read(make([]byte, 1))
		c.Close()
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Errorf("after %q: Read = %d, %v, want the edge still waiting", part, n, err)
		}
	}
}

func TestServe_PlainBytesOnTheTLSPortAreCutAtOnce(t *testing.T) {
	t.Parallel()
	cert, _ := testCert(t, "a")
	addr := start(t, newServer(true, cert))
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	began := time.Now()
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
	if _, err := io.ReadAll(c); err != nil && !isReset(err) {
		t.Fatalf("reading until close: %v", err)
	}
	if took := time.Since(began); took > prompt {
		t.Errorf("closed after %v, want within %v", took, prompt)
	}
}

func isReset(err error) bool {
	var ne *net.OpError
	return errors.As(err, &ne) && !ne.Timeout()
}

// get sends one HTTP/1.1 request on c and reads the answer.
func get(t *testing.T, c net.Conn, br *bufio.Reader, extra string) (*http.Response, string) {
	t.Helper()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: a\r\n"+extra+"\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

func TestSetLimits_NewConnectionsGetTheNewLimits(t *testing.T) {
	t.Parallel()
	for _, fast := range []bool{true, false} {
		t.Run(fmt.Sprintf("fast=%v", fast), func(t *testing.T) {
			s := newServer(fast, nil)
			addr := start(t, s)
			big := "X-Big: " + strings.Repeat("b", 2000) + "\r\n"
			old, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer old.Close()
			obr := bufio.NewReader(old)
			if r, _ := get(t, old, obr, ""); r.StatusCode != 200 {
				t.Fatalf("before the change: %d, want 200", r.StatusCode)
			}

			l := testLimits()
			l.MaxHeaderBytes = 1024
			s.SetLimits(l)
			if got := s.Limits(); got != l {
				t.Fatalf("Limits() = %+v, want %+v", got, l)
			}

			if r, _ := get(t, old, obr, big); r.StatusCode != 200 {
				t.Errorf("2KB head on the connection opened before the change: %d, want 200 (it keeps its limits)", r.StatusCode)
			}
			nc, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			if r, _ := get(t, nc, bufio.NewReader(nc), big); r.StatusCode != 431 {
				t.Errorf("2KB head on a new connection: %d, want 431 (max_header_bytes 1KB)", r.StatusCode)
			}

			// Once its last connection is gone, the old generation's
			// net/http server is dropped.
			old.Close()
			nc.Close()
			waitFor(t, func() bool {
				s.mu.Lock()
				defer s.mu.Unlock()
				return len(s.gens) == 1
			}, "the old generation to be dropped")
		})
	}
}

func TestSetLimits_MaxConnectionsAppliesAtOnce(t *testing.T) {
	t.Parallel()
	s := newServer(true, nil)
	addr := start(t, s)
	first, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	if r, _ := get(t, first, bufio.NewReader(first), ""); r.StatusCode != 200 {
		t.Fatalf("first connection: %d", r.StatusCode)
	}
	l := testLimits()
	l.MaxConnections = 1
	s.SetLimits(l)

	second, err := net.Dial("tcp", addr) // the kernel accepts it; the edge holds it
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	io.WriteString(second, "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
	_ = second.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if _, err := second.Read(make([]byte, 1)); !isTimeout(err) {
		t.Fatalf("second connection over max_connections 1: Read = %v, want it held", err)
	}
	first.Close()
	_ = second.SetReadDeadline(time.Now().Add(30 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(second), nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("second connection once the first closed: %v, %v, want 200", resp, err)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func TestSetCertificate_NewHandshakesGetTheNewCertificate(t *testing.T) {
	t.Parallel()
	certA, pool := testCert(t, "a")
	certB, poolB := testCert(t, "b")
	pool.AddCert(certB.Leaf)
	_ = poolB
	s := newServer(true, certA)
	addr := start(t, s)
	dial := func() *tls.Conn {
		c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, NextProtos: []string{"http/1.1"}})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	old := dial()
	defer old.Close()
	if cn := old.ConnectionState().PeerCertificates[0].Subject.CommonName; cn != "a" {
		t.Fatalf("certificate before the change: %q, want a", cn)
	}
	if err := s.SetCertificate(certB); err != nil {
		t.Fatal(err)
	}
	nc := dial()
	defer nc.Close()
	if cn := nc.ConnectionState().PeerCertificates[0].Subject.CommonName; cn != "b" {
		t.Errorf("certificate after the change: %q, want b", cn)
	}
	r, body := get(t, old, bufio.NewReader(old), "")
	if r.StatusCode != 200 || !strings.Contains(body, "guarded=true tls=true") {
		t.Errorf("connection opened before the change: %d %q, want 200 over guarded TLS", r.StatusCode, body)
	}
	if err := newServer(true, nil).SetCertificate(certB); err == nil {
		t.Error("SetCertificate on a plain-HTTP server succeeded")
	}
}

// waitFor polls cond until it holds, for state that settles after a
// connection closes on the other side.
func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// testCert returns a self-signed certificate for 127.0.0.1 named cn, and a
// pool that trusts it.
func testCert(t testing.TB, cn string) (*tls.Certificate, *x509.CertPool) {
	t.Helper()
	c := testkit.SelfSigned(t, cn)
	return c.TLS, c.Pool
}
