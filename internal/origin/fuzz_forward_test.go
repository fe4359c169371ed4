package origin_test

import (
	"bufio"
	"net"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgeward/edgeward/internal/edge"
	"github.com/edgeward/edgeward/internal/origin"
)

// rawOrigin answers every request with the bytes in *answer and closes the
// connection; it counts connections in conns, if not nil.
func rawOrigin(tb testing.TB, answer *atomic.Pointer[[]byte], conns *atomic.Int32) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			if conns != nil {
				conns.Add(1)
			}
			go func() {
				defer c.Close()
				tp := textproto.NewReader(bufio.NewReader(c))
				if _, err := tp.ReadLine(); err != nil {
					return
				}
				if _, err := tp.ReadMIMEHeader(); err != nil {
					return
				}
				c.Write(*answer.Load())
			}()
		}
	}()
	return "http://" + l.Addr().String()
}

// outcome is what the viewer would see from one Forward.
type outcome struct {
	status int    // written status, or the error's status
	body   string // written body
	err    bool
}

func forwardOnce(tb testing.TB, o *origin.Origin, method string) outcome {
	w := httptest.NewRecorder()
	err := o.Forward(w, &edge.Request{ID: "f", HTTP: httptest.NewRequest(method, "/x", nil), Scheme: "http"})
	if e, ok := err.(*edge.Error); ok {
		return outcome{status: e.Status, err: true}
	} else if err != nil {
		tb.Fatalf("Forward = %v (%T), want nil or *edge.Error", err, err)
	}
	return outcome{status: w.Code, body: w.Body.String()}
}

// FuzzForwardResponse sends arbitrary origin answers through both the fast
// path and httputil.ReverseProxy: neither may panic or hang, and both must
// give the viewer the same thing (the same status, or both an error).
func FuzzForwardResponse(f *testing.F) {
	for _, s := range []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nX-T: 1\r\n\r\n",
		"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
		"HTTP/1.0 200 OK\r\n\r\nuntil close",
		"HTTP/1.1 2OO OK\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
		"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nok",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
		"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n",
		"HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n",
		"",
	} {
		f.Add([]byte(s), false)
	}
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"), true)
	var answer atomic.Pointer[[]byte]
	empty := []byte{}
	answer.Store(&empty)
	url := rawOrigin(f, &answer, nil)
	cfg := origin.Config{URL: url, ResponseTimeout: 2 * time.Second}
	fast, err := origin.New("fast", cfg, origin.Options{})
	if err != nil {
		f.Fatal(err)
	}
	proxy, err := origin.New("proxy", cfg, origin.Options{})
	if err != nil {
		f.Fatal(err)
	}
	origin.DisableFastPath(proxy)
	// Each answer on its own connection: what one input leaves behind on
	// a pooled connection must not decide the next input's outcome.
	origin.DisableKeepAlives(fast)
	origin.DisableKeepAlives(proxy)
	f.Fuzz(func(t *testing.T, raw []byte, head bool) {
		answer.Store(&raw)
		method := http.MethodGet
		if head {
			method = http.MethodHead
		}
		got, want := forwardOnce(t, fast, method), forwardOnce(t, proxy, method)
		if got.status != want.status || got.err != want.err || !got.err && got.body != want.body {
			t.Errorf("origin answer %q (%s): fast path %+v, proxy %+v", raw, method, got, want)
		}
	})
}
