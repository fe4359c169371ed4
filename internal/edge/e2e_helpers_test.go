package edge

import (
	"bufio"
	"context"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/edgeward/edgeward/internal/testkit"
)

// liveEdge is a Server serving on a loopback listener for one test.
type liveEdge struct {
	s    *Server
	addr string
	stop func() error // cancels Serve and returns its error
}

// startEdge serves s on 127.0.0.1 until the test ends.
func startEdge(t testing.TB, cfg Config, bs []Behavior, opts Options) *liveEdge {
	t.Helper()
	s := newServer(t, cfg, bs, opts)
	return startServer(t, s)
}

func startServer(t testing.TB, s *Server) *liveEdge {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(ctx, ln) }()
	var stopped bool
	var stopErr error
	stop := func() error {
		if !stopped {
			stopped = true
			cancel()
			stopErr = <-errc
		}
		return stopErr
	}
	t.Cleanup(func() { _ = stop() })
	return &liveEdge{s: s, addr: ln.Addr().String(), stop: stop}
}

// rawResult is what a raw request got back.
type rawResult struct {
	resp   *http.Response
	body   string
	closed bool // the edge closed the connection after answering
	err    error
}

// rawExchange writes req as bytes on a fresh connection, reads n responses
// and then whether the connection was closed. The deadline only bounds a
// broken test; it never orders events.
func rawExchange(t testing.TB, addr, req string, n int) []rawResult {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	var out []rawResult
	for i := 0; i < n; i++ {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			out = append(out, rawResult{err: err})
			return out
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		out = append(out, rawResult{resp: resp, body: string(b)})
	}
	if last := &out[len(out)-1]; last.resp != nil && last.resp.Close {
		_, err := br.ReadByte()
		last.closed = errors.Is(err, io.EOF) || isReset(err)
	}
	return out
}

func isReset(err error) bool {
	var ne *net.OpError
	return errors.As(err, &ne) && !ne.Timeout()
}

// writeTestCert writes a self-signed certificate for 127.0.0.1 and returns
// the file names and a pool that trusts it.
func writeTestCert(t testing.TB) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	c := testkit.SelfSigned(t, "edge test")
	certFile, keyFile = c.WriteFiles(t)
	return certFile, keyFile, c.Pool
}
