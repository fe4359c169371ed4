package edge

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/edgeward/edgeward/internal/transport"
)

// viewerWriter is the ResponseWriter every stage writes the viewer's answer
// through. It stamps X-Request-Id on the response whatever the origin sent,
// and records status, bytes and time to first byte for the access log.
type viewerWriter struct {
	rw          http.ResponseWriter
	id          []string // the X-Request-Id header value
	xcache      []string // X-Cache stamped on the answer, when the edge owns it
	start       time.Time
	frame       transport.Framing
	status      int
	bytes       int64
	ttfb        time.Duration
	wroteHeader bool
	hijacked    bool
}

// X-Cache values of a behavior without a cache, which the edge stamps so
// that the response says what the access log says (Miss, or Error when the
// edge rendered an error), as CloudFront does on an uncached behavior.
var (
	xCacheMiss  = []string{"Miss from edgeward"}
	xCacheError = []string{"Error from edgeward"}
)

// Header implements http.ResponseWriter.
func (w *viewerWriter) Header() http.Header { return w.rw.Header() }

// WriteHeader implements http.ResponseWriter. Informational answers (103
// Early Hints) pass through; the first final status is the one recorded.
func (w *viewerWriter) WriteHeader(code int) {
	if w.wroteHeader || w.hijacked {
		return
	}
	w.rw.Header()["X-Request-Id"] = w.id
	if w.xcache != nil && code >= 200 {
		w.rw.Header()["X-Cache"] = w.xcache
	}
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		w.rw.WriteHeader(code)
		return
	}
	w.wroteHeader, w.status = true, code
	w.ttfb = time.Since(w.start)
	w.rw.WriteHeader(code)
}

// Write implements http.ResponseWriter.
func (w *viewerWriter) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	n, err := w.rw.Write(p)
	w.bytes += int64(n)
	return n, err
}

// FlushError lets streaming responses through (http.ResponseController).
func (w *viewerWriter) FlushError() error {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	switch f := w.rw.(type) {
	case interface{ FlushError() error }:
		return f.FlushError()
	case http.Flusher:
		f.Flush()
		return nil
	}
	return http.ErrNotSupported
}

// Flush implements http.Flusher.
func (w *viewerWriter) Flush() { _ = w.FlushError() }

// Hijack hands the connection over for a WebSocket upgrade: the framing
// guard stops watching, and the access log records 101.
func (w *viewerWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if w.wroteHeader {
		return nil, nil, errors.New("edge: hijack after the response header was written")
	}
	w.rw.Header()["X-Request-Id"] = w.id
	c, brw, err := http.NewResponseController(w.rw).Hijack()
	if err != nil {
		return nil, nil, err
	}
	w.frame.Hijacked()
	w.hijacked, w.status = true, http.StatusSwitchingProtocols
	w.ttfb = time.Since(w.start)
	return c, brw, nil
}

// Unwrap gives http.ResponseController the underlying writer (deadlines,
// full duplex).
func (w *viewerWriter) Unwrap() http.ResponseWriter { return w.rw }

// errResponseTooLarge is the cause when a response outgrows the viewer-
// response buffer.
var errResponseTooLarge = errors.New("response larger than response_buffer_max")

// bufferWriter collects a complete response for a viewer-response
// function. It refuses to grow past max; it cannot be hijacked or flushed
// through.
type bufferWriter struct {
	header http.Header
	status int
	body   []byte
	max    int
	over   bool
}

func newBufferWriter(max int) *bufferWriter {
	return &bufferWriter{header: make(http.Header), max: max}
}

// Header implements http.ResponseWriter.
func (b *bufferWriter) Header() http.Header { return b.header }

// WriteHeader implements http.ResponseWriter; informational answers are
// dropped.
func (b *bufferWriter) WriteHeader(code int) {
	if b.status == 0 && code >= 200 {
		b.status = code
	}
}

// Write implements http.ResponseWriter.
func (b *bufferWriter) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	if len(b.body)+len(p) > b.max {
		b.over = true
		return 0, errResponseTooLarge
	}
	b.body = append(b.body, p...)
	return len(p), nil
}

// Flush implements http.Flusher: nothing leaves before the function ran.
func (b *bufferWriter) Flush() {}

// response returns what was written, as a Response.
func (b *bufferWriter) response() *Response {
	st := b.status
	if st == 0 {
		st = http.StatusOK
	}
	return &Response{Status: st, Header: b.header, Body: b.body}
}
