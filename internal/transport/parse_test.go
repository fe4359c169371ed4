package transport

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// stdRequest is a request as net/http's server reads it.
type stdRequest struct {
	Method, RequestURI, URL, Proto, Host string
	Header                               http.Header
	ContentLength                        int64
	TransferEncoding                     []string
}

// readStd serves b with a net/http server (one connection, the bytes as
// its read side) and returns the requests its handler saw. clean means the
// server answered every request it read with the handler's 200 and closed
// only at the end of b: it refused nothing and stopped nowhere early.
func readStd(b []byte) (reqs []stdRequest, clean bool) {
	c := &byteConn{r: bytes.NewReader(b), closed: make(chan struct{})}
	var mu sync.Mutex
	sawClose := false
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			mu.Lock()
			reqs = append(reqs, stdRequest{r.Method, r.RequestURI, r.URL.String(), r.Proto, r.Host,
				r.Header.Clone(), r.ContentLength, r.TransferEncoding})
			sawClose = sawClose || r.Close
			mu.Unlock()
		}),
		DisableGeneralOptionsHandler: true,
		ErrorLog:                     log.New(io.Discard, "", 0),
	}
	ln := &oneConnListener{c: c, done: make(chan struct{})}
	go srv.Serve(ln)
	select {
	case <-c.closed:
	case <-time.After(10 * time.Second):
		panic(fmt.Sprintf("net/http did not close a connection whose bytes ran out: %q", b))
	}
	srv.Close()
	mu.Lock()
	defer mu.Unlock()
	out := c.written()
	return reqs, !sawClose && bytes.Count(out, []byte("HTTP/1.1 200 OK")) == len(reqs) &&
		!bytes.Contains(out, []byte("HTTP/1.1 4")) && !bytes.Contains(out, []byte("HTTP/1.1 5"))
}

// byteConn is a connection whose read side is a fixed byte string.
type byteConn struct {
	r      *bytes.Reader
	mu     sync.Mutex
	w      bytes.Buffer
	once   sync.Once
	closed chan struct{}
}

func (c *byteConn) Read(p []byte) (int, error) { return c.r.Read(p) }
func (c *byteConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.w.Write(p)
}
func (c *byteConn) written() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Clone(c.w.Bytes())
}
func (c *byteConn) Close() error                     { c.once.Do(func() { close(c.closed) }); return nil }
func (c *byteConn) LocalAddr() net.Addr              { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 80} }
func (c *byteConn) RemoteAddr() net.Addr             { return &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 1} }
func (c *byteConn) SetDeadline(time.Time) error      { return nil }
func (c *byteConn) SetReadDeadline(time.Time) error  { return nil }
func (c *byteConn) SetWriteDeadline(time.Time) error { return nil }

// oneConnListener accepts c once.
type oneConnListener struct {
	c      net.Conn
	once   sync.Once
	closer sync.Once
	done   chan struct{}
}

func (l *oneConnListener) Accept() (net.Conn, error) {
	var c net.Conn
	l.once.Do(func() { c = l.c })
	if c != nil {
		return c, nil
	}
	<-l.done
	return nil, net.ErrClosed
}
func (l *oneConnListener) Close() error {
	l.closer.Do(func() { close(l.done) })
	return nil
}
func (l *oneConnListener) Addr() net.Addr { return l.c.LocalAddr() }

// FuzzParseHead is a differential test of the transport's request reading
// (the framing guard, and the fast lane's head parser behind it) against
// net/http's server on the same bytes:
//
//   - every request net/http reads from what the guard lets through was a
//     head the guard vetted: they agree on where each request ends, so no
//     request hides in another's body;
//   - what the guard refuses, it refuses with a 4xx;
//   - a head the fast lane serves, net/http's server accepts too, with the
//     same method, target, URL, protocol, Host and header fields.
func FuzzParseHead(f *testing.F) {
	for _, s := range []string{
		"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
		"HEAD /a/b?c=d HTTP/1.1\r\nHost: example.com:8080\r\nAccept: */*\r\naccept: text/html\r\nX-Empty:\r\n\r\n",
		"GET /%41%2f?q=%zz HTTP/1.1\r\nHost: a\r\nuser-agent: x \t\r\nCOOKIE: a=b\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcGET /2 HTTP/1.1\r\nHost: a\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;x\r\nabc\r\n0\r\nT: 1\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		"GET / HTTP/1.0\r\n\r\n",
		"GET http://a/b HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a b\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nX: \x01\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n",
		"GET /a b HTTP/1.1\r\nHost: a\r\n\r\n",
		"\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
		"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
		"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03",
	} {
		f.Add([]byte(s))
	}
	tmpl := (&http.Request{}).WithContext(context.Background())
	const limit = 4096
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) > 2*limit {
			return
		}
		fc := newFramingConn(&chunkConn{data: bytes.Clone(in)}, limit, 0)
		out, _ := io.ReadAll(fc)
		v := fc.bad.Load()
		if v != nil && (v.status < 400 || v.status > 499) {
			t.Fatalf("guard refused %q with %d, want a 4xx", in, v.status)
		}

		// Where requests end.
		reqs, clean := readStd(out)
		vetted := len(reqs)
		if v != nil {
			vetted = min(vetted, int(v.seq)) // later requests are refused by the handler
		}
		if int64(vetted) > fc.heads {
			t.Fatalf("net/http read %d requests from the guarded stream, the guard vetted %d heads:\n in %q\nout %q",
				vetted, fc.heads, in, out)
		}
		if v == nil && clean && int64(len(reqs)) != fc.heads {
			t.Fatalf("net/http read %d requests, the guard saw %d heads: %q", len(reqs), fc.heads, in)
		}

		// The fast lane's parser.
		n := headLen(out)
		if n <= 0 || n > limit {
			return
		}
		r, ok := parseHead(out[:n], tmpl, "192.0.2.1:1")
		if !ok {
			return
		}
		if v != nil && v.seq == 0 {
			t.Fatalf("the fast lane parsed a refused head: %q", in)
		}
		std, _ := readStd(in[:n])
		if len(std) == 0 {
			t.Fatalf("the fast lane serves a head net/http's server refuses: %q", in[:n])
		}
		got := stdRequest{r.Method, r.RequestURI, r.URL.String(), r.Proto, r.Host, r.Header, r.ContentLength, r.TransferEncoding}
		if diff := cmp.Diff(std[0], got); diff != "" {
			t.Fatalf("fast lane and net/http read %q differently (-net/http +fast):\n%s", in[:n], diff)
		}
	})
}
