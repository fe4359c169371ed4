// Package sidebandtest provides a scripted fake sideband service for tests,
// the way net/http/httptest provides fake servers: it stands where PingOne
// Authorize (or edgeward's decision service) stands in the request flow, as
// the target of the authorize function's sideband calls. It records every
// call it receives (path, headers, raw body) and answers each one from a
// script: a status, headers and body, or a fault (a delay until a channel
// closes, a hang, a dropped connection).
//
//	srv := sidebandtest.NewServer(
//		sidebandtest.Error(503, "UNAVAILABLE", "try again"),
//		sidebandtest.Allow(nil),
//	)
//	defer srv.Close()
//	// point the client at srv.URL; afterwards inspect srv.Calls()
package sidebandtest

import (
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"

	"github.com/edgeward/edgeward/internal/sideband"
)

// Call is one request the fake service received.
type Call struct {
	Method string
	// Path is the request path, e.g. /v1/environments/e1/sideband/request.
	Path   string
	Header http.Header
	// Body is the raw request body, byte for byte.
	Body []byte
}

// Decode unmarshals the call's body into v.
func (c Call) Decode(v any) error { return json.Unmarshal(c.Body, v) }

// Reply is the scripted answer to one call. The zero Reply answers 200 with
// an empty body. At most one of Wait, Hang and Close changes how it is
// delivered.
type Reply struct {
	// Status is the HTTP status; 0 means 200.
	Status int
	// Header is added to the answer. A Content-Length larger than Body
	// makes a truncated answer (the connection is closed after Body).
	Header http.Header
	// Body is sent verbatim. When non-empty and Header has no
	// Content-Type, application/json is used.
	Body string
	// Func, when set, computes the reply from the call (see Allow, which
	// echoes the request). The reply it returns is then delivered as
	// scripted.
	Func func(Call) Reply
	// Wait delays the answer until the channel is closed. The handler gives
	// up when the client does or the server is closed.
	Wait <-chan struct{}
	// Hang never answers: the handler returns when the client gives up or
	// the server is closed.
	Hang bool
	// Close drops the connection without answering.
	Close bool
}

// Server is the fake sideband service. Its methods are safe for concurrent
// use.
type Server struct {
	// URL is the base URL to use as the service URL (no trailing slash).
	URL string

	srv  *httptest.Server
	done chan struct{}
	once sync.Once

	mu       sync.Mutex
	script   []Reply
	fallback Reply
	calls    []Call
}

// NewServer starts a fake service on a loopback port that answers calls
// with script, in order. A call beyond the script gets the fallback reply
// (SetFallback; by default a 500 sideband error saying the script ran out).
func NewServer(script ...Reply) *Server {
	s := newServer(script)
	s.srv = httptest.NewServer(s)
	s.URL = s.srv.URL
	return s
}

// NewTLSServer is NewServer over HTTPS with a self-signed certificate (see
// CertificatePEM and Client).
func NewTLSServer(script ...Reply) *Server {
	s := newServer(script)
	s.srv = httptest.NewTLSServer(s)
	s.URL = s.srv.URL
	return s
}

func newServer(script []Reply) *Server {
	return &Server{
		done:     make(chan struct{}),
		script:   append([]Reply(nil), script...),
		fallback: Error(http.StatusInternalServerError, "SCRIPT_EXHAUSTED", "sidebandtest: no scripted reply left"),
	}
}

// Push appends replies to the script.
func (s *Server) Push(replies ...Reply) {
	s.mu.Lock()
	s.script = append(s.script, replies...)
	s.mu.Unlock()
}

// SetFallback sets the reply for calls beyond the script (e.g. Allow(nil)
// for a service that allows everything).
func (s *Server) SetFallback(r Reply) {
	s.mu.Lock()
	s.fallback = r
	s.mu.Unlock()
}

// Calls returns a copy of the calls received so far, in arrival order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// CallCount returns the number of calls received so far.
func (s *Server) CallCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls)
}

// Client returns an HTTP client that trusts the server (for NewTLSServer).
func (s *Server) Client() *http.Client { return s.srv.Client() }

// CertificatePEM returns the TLS server's certificate in PEM form, to
// write into a CA file; nil for a plain HTTP server.
func (s *Server) CertificatePEM() []byte {
	c := s.srv.Certificate()
	if c == nil {
		return nil
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

// Close releases every waiting or hanging handler and shuts the server
// down.
func (s *Server) Close() {
	s.once.Do(func() { close(s.done) })
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// ServeHTTP records the call and delivers the next scripted reply.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	call := Call{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body}
	s.mu.Lock()
	s.calls = append(s.calls, call)
	rep := s.fallback
	if len(s.script) > 0 {
		rep = s.script[0]
		s.script = s.script[1:]
	}
	s.mu.Unlock()
	if rep.Func != nil {
		rep = rep.Func(call)
	}
	switch {
	case rep.Wait != nil:
		select {
		case <-rep.Wait:
		case <-r.Context().Done():
			return
		case <-s.done:
			return
		}
	case rep.Hang:
		select {
		case <-r.Context().Done():
		case <-s.done:
		}
		return
	case rep.Close:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler) // HTTP/2: reset the stream
	}
	for k, v := range rep.Header {
		w.Header()[k] = v
	}
	if rep.Body != "" && w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	status := rep.Status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, rep.Body)
}

// JSON is a reply with status and v encoded as JSON.
func JSON(status int, v any) Reply {
	b, err := json.Marshal(v)
	if err != nil {
		panic("sidebandtest.JSON: " + err.Error())
	}
	return Reply{Status: status, Body: string(b)}
}

// Error is a sideband error that is not a decision: status with the
// {"id", "code", "message"} body the protocol prescribes. For 429 and 503
// add a Retry-After header to the returned Reply.
func Error(status int, code, message string) Reply {
	return JSON(status, sideband.Error{ID: "00000000-0000-4000-8000-" + strconv.Itoa(100000000000+status), Code: code, Message: message})
}

// Allow is a reply that echoes a request-phase call as an allow, after
// edit (if not nil) changed it: set headers, the url, the state... It
// answers 400 when the call's body is not a request.
func Allow(edit func(*sideband.Reply)) Reply {
	return Reply{Func: func(c Call) Reply {
		var req sideband.Request
		if err := c.Decode(&req); err != nil {
			return Error(http.StatusBadRequest, "INVALID_REQUEST", err.Error())
		}
		rep := sideband.Reply{Request: req}
		if edit != nil {
			edit(&rep)
		}
		return JSON(http.StatusOK, rep)
	}}
}

// Deny is a request-phase deny: the client is to receive status, headers
// and body.
func Deny(status int, headers sideband.Headers, body string) Reply {
	return JSON(http.StatusOK, sideband.Reply{Response: response(status, headers, body)})
}

// Respond is a response-phase reply: the client is to receive status,
// headers and body.
func Respond(status int, headers sideband.Headers, body string) Reply {
	return JSON(http.StatusOK, response(status, headers, body))
}

func response(status int, headers sideband.Headers, body string) *sideband.Response {
	if headers == nil {
		headers = sideband.Headers{}
	}
	return &sideband.Response{
		ResponseCode:   sideband.Code(status),
		ResponseStatus: http.StatusText(status),
		Headers:        headers,
		Body:           &body,
	}
}
