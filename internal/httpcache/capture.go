package httpcache

import (
	"net/http"

	"github.com/edgeward/edgeward/internal/edge"
)

// mode says where a captured response goes once its header is known.
type mode uint8

const (
	modeStream  mode = iota // to the viewer only
	modeTee                 // to the viewer and into the buffer, to be stored
	modeBuffer              // into the buffer only (a background refresh)
	modeDiscard             // nowhere: a 304 to merge, or an error that a stale object answers
)

// capture is the http.ResponseWriter an origin writes to on a fill. When
// the header arrives, decide picks the mode: the response is streamed to
// the viewer as it comes, and copied into a buffer up to limit bytes if it
// may be stored. Past limit the copy is dropped and the rest streams
// through: a big object is never buffered whole.
type capture struct {
	w      http.ResponseWriter // the viewer; nil for a background refresh
	header http.Header
	decide func(status int, h http.Header) mode
	limit  int64

	wroteHeader bool
	status      int
	mode        mode
	buf         []byte
	written     int64 // body bytes received
	overflow    bool
}

func newCapture(w http.ResponseWriter, limit int64, decide func(int, http.Header) mode) *capture {
	return &capture{w: w, header: make(http.Header), limit: limit, decide: decide}
}

// Header implements http.ResponseWriter.
func (c *capture) Header() http.Header { return c.header }

// WriteHeader implements http.ResponseWriter. Informational responses
// (102 Processing, 103 Early Hints) are relayed to the viewer at once, as
// on a behavior without a cache (RFC 9110 15.2: a proxy forwards 1xx), and
// never stored; a background refresh has no viewer and drops them.
func (c *capture) WriteHeader(code int) {
	if c.wroteHeader {
		return
	}
	if code < 200 {
		c.interim(code)
		return
	}
	c.wroteHeader = true
	c.status = code
	c.mode = c.decide(code, c.header)
	if c.w == nil && (c.mode == modeStream || c.mode == modeTee) {
		c.mode = modeBuffer
	}
	if c.mode == modeTee || c.mode == modeBuffer {
		cl := int64(-1)
		if v := c.header["Content-Length"]; len(v) == 1 {
			cl = parseDelta(v[0], true, -1)
		}
		if cl > c.limit {
			c.drop()
		} else if cl > 0 {
			c.buf = make([]byte, 0, cl)
		}
	}
	if c.mode == modeStream || c.mode == modeTee {
		h := c.w.Header()
		for k, v := range c.header {
			h[k] = v
		}
		c.w.WriteHeader(code)
	}
}

// interim relays one informational response: its header fields, which
// the origin stage put in c.header, go out with it and are then removed
// from the viewer's header map (the origin clears c.header itself).
func (c *capture) interim(code int) {
	if c.w == nil || code == http.StatusSwitchingProtocols {
		return
	}
	h := c.w.Header()
	var added []string
	for k, v := range c.header {
		if _, ok := h[k]; !ok {
			added = append(added, k)
			h[k] = v
		}
	}
	c.w.WriteHeader(code)
	for _, k := range added {
		delete(h, k)
	}
}

// drop abandons the copy: the response will not be stored.
func (c *capture) drop() {
	c.overflow = true
	c.buf = nil
	switch c.mode {
	case modeTee:
		c.mode = modeStream
	case modeBuffer:
		c.mode = modeDiscard
	}
}

// Write implements http.ResponseWriter. A viewer write error is returned,
// so the origin stops reading and the response is not stored.
func (c *capture) Write(p []byte) (int, error) {
	if !c.wroteHeader {
		c.WriteHeader(http.StatusOK)
	}
	c.written += int64(len(p))
	if c.mode == modeTee || c.mode == modeBuffer {
		if int64(len(c.buf)+len(p)) > c.limit {
			c.drop()
		} else {
			c.buf = append(c.buf, p...)
		}
	}
	if c.mode == modeStream || c.mode == modeTee {
		return c.w.Write(p)
	}
	return len(p), nil
}

// Flush implements http.Flusher, for streamed responses.
func (c *capture) Flush() {
	if c.w != nil && (c.mode == modeStream || c.mode == modeTee) {
		http.NewResponseController(c.w).Flush()
	}
}

// complete reports whether the buffer holds the whole body.
func (c *capture) complete() bool {
	if c.overflow || !(c.mode == modeTee || c.mode == modeBuffer) {
		return false
	}
	if v := c.header["Content-Length"]; len(v) == 1 {
		return parseDelta(v[0], true, -1) == c.written
	}
	return true
}

// statusWriter passes a response through to the viewer, setting X-Cache
// and r.Result from the status and calling on (if set) once the final
// status is known, before anything is written.
type statusWriter struct {
	http.ResponseWriter
	c       *Cache
	r       *edge.Request
	on      func(status int, h http.Header)
	written bool
}

// WriteHeader implements http.ResponseWriter.
func (w *statusWriter) WriteHeader(code int) {
	if w.written {
		return
	}
	if code >= 200 {
		w.written = true
		w.c.setResult(w.ResponseWriter.Header(), w.r, code)
		if w.on != nil {
			w.on(code, w.ResponseWriter.Header())
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write implements http.ResponseWriter.
func (w *statusWriter) Write(p []byte) (int, error) {
	if !w.written {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(p)
}

// Flush implements http.Flusher.
func (w *statusWriter) Flush() { http.NewResponseController(w.ResponseWriter).Flush() }

// Unwrap lets http.ResponseController reach the viewer's writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// setResult marks a response that came from the origin: Miss, or Error
// for a 4xx or 5xx (as CloudFront's x-edge-result-type does).
func (c *Cache) setResult(h http.Header, r *edge.Request, status int) {
	if status >= 400 {
		r.Result = edge.ResultError
		h["X-Cache"] = c.s.xError
	} else {
		r.Result = edge.ResultMiss
		h["X-Cache"] = c.s.xMiss
	}
	c.count(r.Result)
}
