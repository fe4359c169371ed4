package transport

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
)

// HandlerFunc serves one viewer request. f is the framing guard's word on
// it; the zero Framing (HTTP/2, or a request that did not come through a
// Server) has nothing to say.
type HandlerFunc func(w http.ResponseWriter, r *http.Request, f Framing)

// Framing is the framing guard's word on one HTTP/1.x request, handed to
// the handler with the request. It is a small value: copying it is free,
// and it stays valid for as long as the handler runs.
type Framing struct {
	c   *framingConn
	seq int64 // the request's number on its connection
}

// Guarded reports whether the request came through the framing guard
// (HTTP/1.x on a Server's listener).
func (f Framing) Guarded() bool { return f.c != nil }

// Refused returns the status (400, or 431 for an oversized head) and the
// reason when the guard refused this request, and 0, "" otherwise. A
// refused request is a stand-in for bytes that broke a framing rule:
// answer it with the status and Connection: close. Ask again after a stage
// failed reading the body: a malformed chunked body is found while it is
// read, and makes its own request a refused one from then on.
func (f Framing) Refused() (status int, reason string) {
	if f.c == nil {
		return 0, ""
	}
	if v := f.c.bad.Load(); v != nil && f.seq >= v.seq {
		return v.status, v.reason
	}
	return 0, ""
}

// TLS is the connection's TLS state for HTTP/1.1 over TLS, which net/http
// sees as a plain connection (the guard sits between TLS and net/http), so
// it leaves Request.TLS nil. It is nil for plain HTTP.
func (f Framing) TLS() *tls.ConnectionState {
	if f.c == nil {
		return nil
	}
	return f.c.tls
}

// Hijacked tells the guard that the handler took the connection over (a
// WebSocket after 101): from now on its bytes are not HTTP/1 messages, and
// the guard passes them through unread.
func (f Framing) Hijacked() {
	if f.c != nil {
		f.c.pass.Store(true)
	}
}

// connKey is the context key of a connection's framingConn, for the
// requests net/http serves.
type connKey struct{}

// connContext records the guard of an HTTP/1.x connection in its context
// (http.Server.ConnContext).
func connContext(ctx context.Context, c net.Conn) context.Context {
	switch fc := c.(type) {
	case *framingConn:
		return context.WithValue(ctx, connKey{}, fc)
	case *handoffConn:
		return context.WithValue(ctx, connKey{}, fc.framingConn)
	}
	return ctx
}

// stdHandler is the http.Handler net/http calls: it finds the request's
// Framing and calls the Server's HandlerFunc.
type stdHandler struct{ h HandlerFunc }

// ServeHTTP implements http.Handler.
func (s stdHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var f Framing
	if r.ProtoMajor == 1 {
		if fc, ok := r.Context().Value(connKey{}).(*framingConn); ok {
			f = Framing{c: fc, seq: fc.nextSeq()}
		}
	}
	s.h(w, r, f)
}
