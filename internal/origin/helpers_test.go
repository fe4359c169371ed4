package origin_test

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/edgeward/edgeward/internal/edge"
	"github.com/edgeward/edgeward/internal/origin"
)

// Ways to a plain-HTTP origin, for newOrigin.
const (
	// viaFast requires the lean HTTP/1.1 client: the test fails if a
	// request took the other path.
	viaFast = "fast"
	// viaProxy forces httputil.ReverseProxy.
	viaProxy = "proxy"
	// viaAny lets Forward choose (HTTPS, bodies, upgrades).
	viaAny = "any"
)

// bothPaths are the paths a table of plain-HTTP cases runs through.
var bothPaths = []string{viaFast, viaProxy}

// eachPath runs f as a parallel subtest for each of bothPaths.
func eachPath(t *testing.T, f func(t *testing.T, path string)) {
	t.Parallel()
	for _, path := range bothPaths {
		t.Run(path, func(t *testing.T) {
			t.Parallel()
			f(t, path)
		})
	}
}

// newOrigin builds an origin that sends requests by path (viaFast,
// viaProxy or viaAny) or fails the test; it is closed at cleanup, where it
// also checks that the requests went the way the test asked.
func newOrigin(t testing.TB, path string, cfg origin.Config, opts origin.Options) *origin.Origin {
	t.Helper()
	o, err := origin.New("test-origin", cfg, opts)
	if err != nil {
		t.Fatalf("origin.New(%+v) = %v", cfg, err)
	}
	if path == viaProxy {
		origin.DisableFastPath(o)
	}
	t.Cleanup(func() {
		o.Close()
		fast, proxy := origin.ClientCounts(o)
		if path == viaFast && proxy > 0 || path == viaProxy && fast > 0 {
			t.Errorf("%d requests went by the fast path and %d by the proxy, want all by the %s path", int(fast), int(proxy), path)
		}
	})
	return o
}

// edgeStub is the part of the edge in front of an origin: a loopback
// server that turns each viewer request into an edge.Request, lets the test
// adjust it, calls Forward, and renders a returned error as its status and
// message. The errors Forward returned are kept for assertions.
type edgeStub struct {
	*httptest.Server
	errs chan error
	// done receives each request after Forward returned.
	done chan *edge.Request
}

func newEdge(t testing.TB, o *origin.Origin, adjust func(*edge.Request)) *edgeStub {
	t.Helper()
	s := &edgeStub{errs: make(chan error, 100), done: make(chan *edge.Request, 100)}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		er := viewerRequest(r)
		if adjust != nil {
			adjust(er)
		}
		err := o.Forward(w, er)
		select {
		case s.done <- er:
		default:
		}
		if err != nil {
			s.errs <- err
			var e *edge.Error
			if !errors.As(err, &e) {
				http.Error(w, "not an *edge.Error: "+err.Error(), 599)
				return
			}
			http.Error(w, e.Msg, e.Status)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

// viewerRequest is the edge.Request the edge would build for r.
func viewerRequest(r *http.Request) *edge.Request {
	peer, _ := netip.ParseAddrPort(r.RemoteAddr)
	return &edge.Request{
		ID:     "req-0001",
		HTTP:   r,
		Scheme: "http",
		Host:   r.Host,
		Peer:   peer,
		Client: peer,
	}
}

// lastErr returns the error Forward returned for the last failed request.
func (s *edgeStub) lastErr(t testing.TB) error {
	t.Helper()
	select {
	case err := <-s.errs:
		return err
	default:
		t.Fatal("Forward returned no error")
		return nil
	}
}

// noErr fails the test if Forward returned an error.
func (s *edgeStub) noErr(t testing.TB) {
	t.Helper()
	select {
	case err := <-s.errs:
		t.Fatalf("Forward = %v, want nil", err)
	default:
	}
}

// get sends a GET for target (a request URI, sent as is) with the headers
// in hdr and returns the response with its body read.
func (s *edgeStub) get(t testing.TB, target string, hdr http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.URL.Opaque = target // sent verbatim on the request line
	for k, v := range hdr {
		req.Header[k] = v
	}
	return do(t, req)
}

// viewer is the tests' HTTP client. It has a transport of its own:
// httptest.Server.Close closes http.DefaultTransport's idle connections,
// which broke a parallel test's request in flight on a kept-alive one.
var viewer = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}

func do(t testing.TB, req *http.Request) (*http.Response, string) {
	t.Helper()
	res, err := viewer.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", req.Method, req.URL, err)
	}
	return res, string(b)
}

// closedPort returns a loopback address where nothing listens.
func closedPort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// edgeError asserts that err is an *edge.Error with status and msg.
func edgeError(t testing.TB, err error, status int, msg string) *edge.Error {
	t.Helper()
	var e *edge.Error
	if !errors.As(err, &e) {
		t.Fatalf("Forward = %v (%T), want an *edge.Error", err, err)
	}
	if e.Status != status || e.Msg != msg {
		t.Fatalf("Forward = %d %q (%v), want %d %q", e.Status, e.Msg, e.Err, status, msg)
	}
	return e
}

// silentWriter is a ResponseWriter that fails the test on any write: Forward
// must not write when it returns an error.
type silentWriter struct {
	t testing.TB
	h http.Header
}

func (w *silentWriter) Header() http.Header {
	if w.h == nil {
		w.h = http.Header{}
	}
	return w.h
}

func (w *silentWriter) Write(b []byte) (int, error) {
	w.t.Errorf("Forward wrote a body %q before failing", b)
	return len(b), nil
}

func (w *silentWriter) WriteHeader(code int) {
	w.t.Errorf("Forward wrote status %d before failing", code)
}

func (w *silentWriter) check() {
	if len(w.h) > 0 {
		w.t.Errorf("Forward set response headers %v before failing", w.h)
	}
}
