// Package origintest provides a controllable fake origin for tests, in the
// way net/http/httptest provides servers: it stands where the behavior's
// origin (an API Gateway stage, any HTTP API) stands in the request flow,
// records every request it receives exactly as it arrived, and answers as
// the test scripts it, per path: status, headers, body, a delay until a
// channel closes, a streamed body, or no answer at all.
//
//	o := origintest.New(t)
//	o.Handle("/prod/orders/1", origintest.Reply{Status: 200, Body: []byte(`{"id":1}`)})
//	... point the edge at o.URL + "/prod" ...
//	got := o.Last()
//	if got.RequestURI != "/prod/orders/1" { ... }
//
// The server is closed by t.Cleanup; handlers still blocked then (Wait,
// Hang) are released first, so Cleanup never hangs.
package origintest

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"encoding/pem"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// maxBody bounds a recorded request body.
const maxBody = 8 << 20

// Request is one request as the origin received it.
type Request struct {
	Method string
	// RequestURI is the request target exactly as it was on the request
	// line (escapes and query untouched).
	RequestURI string
	// Path is the decoded URL path; RawQuery the query.
	Path     string
	RawQuery string
	Proto    string
	Host     string
	Header   http.Header
	Body     []byte
	// RemoteAddr is the client's address (the edge's side of the
	// connection).
	RemoteAddr string
}

// Chunk is one piece of a streamed body: the server waits until Wait is
// closed (if set), then writes Data and flushes.
type Chunk struct {
	Wait <-chan struct{}
	Data []byte
}

// Reply scripts the answer to one path. The zero Reply answers 200 with an
// empty body.
type Reply struct {
	// Status defaults to 200.
	Status int
	Header http.Header
	// Body is written after the header (and before Chunks).
	Body []byte
	// Chunks are written one by one after Body, each flushed, so the body
	// is streamed (chunked on HTTP/1.1).
	Chunks []Chunk
	// Arrived, if set, receives a value when the request has been recorded,
	// before Wait or Hang: a test learns that the origin is now busy
	// with the request without polling.
	Arrived chan<- struct{}
	// Wait, if set, delays the whole answer until it is closed.
	Wait <-chan struct{}
	// Hang never answers: the handler blocks until the client goes away
	// or the test ends.
	Hang bool
	// Raw, if set, is written as is on the hijacked connection, which is
	// then closed: for answers net/http would not send (malformed status
	// lines, Connection-nominated headers, bad framing).
	Raw []byte
	// Handler, if set, answers instead of everything above (the request
	// is still recorded; its body was read and is replayed to Handler).
	Handler http.Handler
}

// Server is a fake origin on a loopback port.
type Server struct {
	// URL is the base URL, e.g. http://127.0.0.1:41234, without a path.
	URL string
	// Server is the underlying test server.
	Server *httptest.Server

	done chan struct{} // closed at cleanup: releases blocked handlers
	t    testing.TB

	mu      sync.Mutex
	replies map[string]Reply
	def     Reply
	reqs    []Request
}

// New starts a plain-HTTP fake origin, closed when the test ends.
func New(t testing.TB) *Server {
	t.Helper()
	s := newServer(t)
	s.Server.Start()
	s.start()
	return s
}

// NewTLS starts an HTTPS fake origin offering HTTP/2 and HTTP/1.1, with a
// certificate for 127.0.0.1 and localhost from a test CA (see CAFile).
func NewTLS(t testing.TB) *Server {
	t.Helper()
	s := newServer(t)
	s.Server.EnableHTTP2 = true
	// Handshake failures are what TLS tests provoke: keep them quiet.
	s.Server.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.Server.StartTLS()
	s.start()
	return s
}

func newServer(t testing.TB) *Server {
	s := &Server{t: t, done: make(chan struct{}), replies: map[string]Reply{}}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	return s
}

func (s *Server) start() {
	s.URL = s.Server.URL
	// Cleanups run last-in first-out: release handlers, then close.
	s.t.Cleanup(s.Server.Close)
	s.t.Cleanup(func() { close(s.done) })
}

// CAFile writes the certificate of a NewTLS server to a PEM file in a
// temporary directory and returns its path (for an origin's ca_file).
func (s *Server) CAFile() string {
	s.t.Helper()
	cert := s.Server.Certificate()
	if cert == nil {
		s.t.Fatal("origintest: CAFile on a server without TLS")
	}
	p := filepath.Join(s.t.TempDir(), "origin-ca.pem")
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o600); err != nil {
		s.t.Fatal(err)
	}
	return p
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return s.Server.Listener.Addr().String() }

// Handle scripts the reply for requests whose decoded path is exactly path.
func (s *Server) Handle(path string, r Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.replies[path] = r
}

// HandleDefault scripts the reply for paths without their own Handle.
func (s *Server) HandleDefault(r Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.def = r
}

// Requests returns a copy of the requests received so far, in arrival
// order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

// Count is the number of requests received so far.
func (s *Server) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.reqs)
}

// Last returns the most recent request; it fails the test if there is none.
func (s *Server) Last() Request {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.reqs) == 0 {
		s.t.Fatal("origintest: no request received")
		return Request{}
	}
	return s.reqs[len(s.reqs)-1]
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(io.LimitReader(r.Body, maxBody))
	s.mu.Lock()
	s.reqs = append(s.reqs, Request{
		Method: r.Method, RequestURI: r.RequestURI, Path: r.URL.Path, RawQuery: r.URL.RawQuery,
		Proto: r.Proto, Host: r.Host, Header: r.Header.Clone(), Body: b, RemoteAddr: r.RemoteAddr,
	})
	rep, ok := s.replies[r.URL.Path]
	if !ok {
		rep = s.def
	}
	s.mu.Unlock()

	if rep.Arrived != nil {
		select {
		case rep.Arrived <- struct{}{}:
		case <-r.Context().Done():
			return
		case <-s.done:
			return
		}
	}
	if rep.Handler != nil {
		r.Body = io.NopCloser(bytes.NewReader(b))
		rep.Handler.ServeHTTP(w, r)
		return
	}
	if rep.Hang && !s.wait(r, nil) || rep.Wait != nil && !s.wait(r, rep.Wait) {
		return
	}
	if rep.Raw != nil {
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			_, _ = conn.Write(rep.Raw)
			conn.Close()
		}
		return
	}
	for k, v := range rep.Header {
		w.Header()[k] = v
	}
	status := rep.Status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, _ = w.Write(rep.Body)
	rc := http.NewResponseController(w)
	if len(rep.Chunks) > 0 {
		_ = rc.Flush()
	}
	for _, c := range rep.Chunks {
		if c.Wait != nil && !s.wait(r, c.Wait) {
			return
		}
		if _, err := w.Write(c.Data); err != nil {
			return
		}
		_ = rc.Flush()
	}
}

// wait blocks until ch is closed (true), or the client went away or the
// test ended (false). A nil ch waits for the latter only.
func (s *Server) wait(r *http.Request, ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	case <-r.Context().Done():
	case <-s.done:
	}
	return false
}

// WebSocketEcho is a handler (for Reply.Handler, as
// http.HandlerFunc(origintest.WebSocketEcho)) that accepts a WebSocket
// upgrade (the RFC 6455 handshake) and then echoes every byte it reads,
// without interpreting frames: enough to prove that an upgraded connection
// passes through. It returns when the client closes the connection.
func WebSocketEcho(w http.ResponseWriter, r *http.Request) {
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") || r.Header.Get("Sec-WebSocket-Key") == "" {
		http.Error(w, "websocket upgrade expected", http.StatusBadRequest)
		return
	}
	sum := sha1.Sum([]byte(r.Header.Get("Sec-WebSocket-Key") + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: " + base64.StdEncoding.EncodeToString(sum[:]) + "\r\n\r\n")
	if brw.Flush() != nil {
		return
	}
	_, _ = io.Copy(conn, brw.Reader)
}
