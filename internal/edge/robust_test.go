package edge

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"

	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestRobustness_SlowAndForeignClientsAreCut(t *testing.T) {
	t.Parallel()
	o := &fakeOrigin{}
	cfg := Config{Limits: Limits{ReadHeaderTimeout: 300 * time.Millisecond}}
	e := startEdge(t, cfg, []Behavior{{PathPattern: "*", Origin: o}}, Options{})
	tests := []struct {
		name  string
		bytes string
	}{
		{"never-finished head", "GET / HTTP/1.1\r\nHost: e\r\nX-Slow: "},
		{"no newline at all", "GET / HTTP/1.1"},
		{"tls record on the plain port", "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03"},
		{"binary junk", "\x00\x01\x02\x03\xff\xfe\r\n\r\n"},
	}
	for _, tt := range tests {
		c, err := net.Dial("tcp", e.addr)
		if err != nil {
			t.Fatal(err)
		}
		// The deadline only bounds a broken edge; the edge's own timeout ends
		// the exchange.
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		io.WriteString(c, tt.bytes)
		got, err := io.ReadAll(c)
		c.Close()
		if err != nil {
			t.Errorf("%s: reading until close: %v (the edge did not close the connection)", tt.name, err)
			continue
		}
		if s := string(got); s != "" && !strings.HasPrefix(s, "HTTP/1.1 4") {
			t.Errorf("%s: got %q, want a 4xx or a closed connection", tt.name, s)
		}
	}
	// A TLS client on the plain port fails fast instead of hanging.
	c, err := tls.Dial("tcp", e.addr, &tls.Config{InsecureSkipVerify: true})
	if err == nil {
		c.Close()
		t.Fatal("TLS handshake with the plain listener succeeded")
	}
	if r, err := http.Get("http://" + e.addr + "/"); err != nil || r.StatusCode != 200 {
		t.Fatalf("after the junk GET / = %v, %v, want 200", r, err)
	}
	if n := len(o.requests()); n != 1 {
		t.Fatalf("origin got %d requests, want 1", n)
	}
}

func TestRobustness_TooManyHeadersOverHTTP2(t *testing.T) {
	t.Parallel()
	certFile, keyFile, pool := writeTestCert(t)
	o := &fakeOrigin{}
	e := startEdge(t, Config{TLS: TLSConfig{CertFile: certFile, KeyFile: keyFile}, Limits: Limits{MaxHeaderBytes: 4096, MaxURIBytes: 1024}},
		[]Behavior{{PathPattern: "*", Origin: o}}, Options{})
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}}
	req, _ := http.NewRequest("GET", "https://"+e.addr+"/", nil)
	for i := range 100 {
		req.Header.Set("X-H"+strings.Repeat("x", i), strings.Repeat("v", 100))
	}
	resp, err := client.Do(req)
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode < 400 || resp.StatusCode > 499 {
			t.Fatalf("10KB of headers over HTTP/2 = %d, want 4xx or a refused stream", resp.StatusCode)
		}
	}
	if n := len(o.requests()); n != 0 {
		t.Fatalf("origin got %d requests, want none", n)
	}
}

// FuzzOneView sends random request targets through the pipeline and checks
// the one-view property: what reached the origin is canonical, is the path
// the function authorized and the behavior was matched on.
func FuzzOneView(f *testing.F) {
	for _, s := range []string{"/a/../b", "/admin;x/..;/y", "/%2e%2e/admin", "//admin", "/a%2Fb", "/public/%252e%252e/admin",
		"/p/./../admin?x=1", "http://evil/admin", "/caf%c3%a9", "*", "/\\admin"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, target string) {
		if target == "" || strings.ContainsAny(target, " \r\n") {
			return
		}
		o := &fakeOrigin{}
		var authorized, matched string
		f := fn(func(ctx context.Context, r *Request) (*Response, error) {
			authorized, matched = r.HTTP.URL.EscapedPath(), r.Behavior.PathPattern
			return nil, nil
		})
		s := newServer(t, Config{}, []Behavior{
			{PathPattern: "/admin*", Origin: o, Function: f},
			{PathPattern: "*", Origin: o, Function: f},
		}, Options{})
		r := httptest.NewRequest("GET", "/", nil)
		r.RequestURI = target
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		got := o.requests()
		if len(got) == 0 {
			if w.Code < 400 {
				t.Fatalf("%q: %d without reaching the origin", target, w.Code)
			}
			return
		}
		p := got[0].Path
		if c, err := Canonicalize(p, PathOptions{}); err != nil || c != p {
			t.Fatalf("%q: origin got non-canonical %q (%q, %v)", target, p, c, err)
		}
		if p != authorized {
			t.Fatalf("%q: origin got %q, function authorized %q", target, p, authorized)
		}
		wantBehavior := "*"
		if strings.HasPrefix(p, "/admin") {
			wantBehavior = "/admin*"
		}
		if matched != wantBehavior {
			t.Fatalf("%q: origin path %q matched behavior %q, want %q", target, p, matched, wantBehavior)
		}
	})
}

func TestServe_MaxConnectionsHoldsTheNextConnection(t *testing.T) {
	t.Parallel()
	e := startEdge(t, Config{Limits: Limits{MaxConnections: 1}}, []Behavior{{PathPattern: "*", Origin: &fakeOrigin{}}}, Options{})
	first, err := net.Dial("tcp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	if r := exchangeOn(t, first, "/1"); r != 200 {
		t.Fatalf("first connection GET = %d, want 200", r)
	}
	second, err := net.Dial("tcp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	io.WriteString(second, "GET /2 HTTP/1.1\r\nHost: e\r\n\r\n")
	// While the first connection holds the only slot, the second is not
	// served; this short wait is the assertion, not a synchronisation.
	_ = second.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if n, err := second.Read(make([]byte, 1)); n > 0 || !isTimeout(err) {
		t.Fatalf("second connection read %d bytes, %v, want nothing while the first is open", n, err)
	}
	first.Close()
	_ = second.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(second), nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("second connection after the first closed = %v, %v, want 200", resp, err)
	}
}

func exchangeOn(t *testing.T, c net.Conn, path string) int {
	t.Helper()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: e\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
