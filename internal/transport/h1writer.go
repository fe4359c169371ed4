package transport

import (
	"bufio"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"
)

// h1Writer is the fast lane's http.ResponseWriter. It frames a response the
// way net/http's server does (server.go, chunkWriter.writeHeader): the
// header is fixed when WriteHeader is called; the first 2 KiB of the body
// are held back so that, when the handler ends within them, the response
// gets a Content-Length, and so that Content-Type sniffing sees them; a
// response of unknown length beyond that is chunked; HEAD, 1xx, 204 and
// 304 carry no body; a declared Content-Length is enforced; trailers
// (declared, or with http.TrailerPrefix) end a chunked body.
//
// One h1Writer serves every request of its connection in turn.
type h1Writer struct {
	c      *h1Conn
	req    *http.Request
	header http.Header
	keep   http.Header // the connection's header map, cleared between responses
	bw     *bufio.Writer

	status      int
	wroteHeader bool // the final status is set
	headOut     bool // the head is in bw
	isHEAD      bool
	fields      []byte   // header fields as they were at WriteHeader
	connection  []string // the handler's Connection header
	declared    []string // trailer names declared in Trailer
	held        []byte   // body held back until the framing is decided
	cl          int64    // declared Content-Length, or -1
	te          string   // the handler's Transfer-Encoding
	written     int64
	haveType    bool
	hasCE       bool
	hasDate     bool
	prefixed    bool // the header has http.TrailerPrefix keys
	chunked     bool
	closeAfter  bool
	err         error    // a write failed: the connection is done
	clBuf       [24]byte // Content-Length, formatted without an allocation
	numBuf      [24]byte // status codes and chunk sizes
}

// bufferBeforeChunking is net/http's: the body held back to decide on a
// Content-Length.
const bufferBeforeChunking = 2048

func (w *h1Writer) reset(r *http.Request) {
	if w.bw == nil {
		// The connection's buffers (idle.go), taken when its head was read.
		b := w.c.b
		w.bw, w.keep = b.bw, b.keep
		w.fields, w.held, w.connection, w.declared = b.fields, b.held, b.connection, b.declared
	}
	// One header map serves every response of the connection: nothing
	// keeps a ResponseWriter's map past the response (the cache stores
	// copies; the access log reads it during Log), so it is cleared, not
	// reallocated and regrown, for each response.
	clear(w.keep)
	*w = h1Writer{
		c:          w.c,
		req:        r,
		header:     w.keep,
		keep:       w.keep,
		bw:         w.bw,
		isHEAD:     r.Method == http.MethodHead,
		fields:     w.fields[:0],
		connection: w.connection[:0],
		declared:   w.declared[:0],
		held:       w.held[:0],
		cl:         -1,
	}
}

// Header implements http.ResponseWriter.
func (w *h1Writer) Header() http.Header { return w.header }

// WriteHeader implements http.ResponseWriter.
func (w *h1Writer) WriteHeader(code int) {
	if w.wroteHeader {
		return
	}
	if code < 100 || code > 999 {
		panic(fmt.Sprintf("invalid WriteHeader code %v", code))
	}
	if code >= 100 && code <= 199 && code != http.StatusSwitchingProtocols {
		// Informational: sent at once, the header map stays (RFC 8297).
		w.statusLine(code)
		w.fields = appendFields(w.fields[:0], w.header, code, nil)
		w.bw.Write(w.fields)
		w.bw.WriteString("\r\n")
		w.fail(w.bw.Flush())
		w.fields = w.fields[:0]
		return
	}
	w.wroteHeader, w.status = true, code
	w.fields = appendFields(w.fields[:0], w.header, code, w)
	if v := w.header["Content-Length"]; len(v) > 0 && v[0] != "" {
		if n, err := strconv.ParseInt(v[0], 10, 64); err == nil && n >= 0 {
			w.cl = n
		}
	}
}

// appendFields appends the header fields of h to b as net/http writes them
// (invalid names dropped, CR and LF in values turned into spaces, values
// trimmed). Content-Length, Transfer-Encoding, Connection and the
// http.TrailerPrefix keys are left to the framing; with w set, what the
// framing needs is recorded in it.
func appendFields(b []byte, h http.Header, code int, w *h1Writer) []byte {
	for k, vv := range h {
		switch {
		case strings.HasPrefix(k, http.TrailerPrefix):
			if w != nil {
				w.prefixed = true
			}
			continue
		case !httpguts.ValidHeaderFieldName(k):
			continue
		}
		switch k {
		case "Content-Length":
			continue
		case "Transfer-Encoding":
			if w != nil && len(vv) > 0 {
				w.te = vv[0]
			}
			continue
		case "Connection":
			if w != nil {
				w.connection = append(w.connection, vv...)
				continue
			}
		case "Content-Type":
			if code == http.StatusNotModified {
				continue
			}
			if w != nil {
				w.haveType = true
			}
		case "Content-Encoding":
			if w != nil && len(vv) > 0 && vv[0] != "" {
				w.hasCE = true
			}
		case "Date":
			if w != nil {
				w.hasDate = true
			}
		case "Trailer":
			if w != nil {
				for _, v := range vv {
					for name := range strings.SplitSeq(v, ",") {
						name = http.CanonicalHeaderKey(strings.TrimSpace(name))
						switch name {
						case "", "Transfer-Encoding", "Trailer", "Content-Length":
						default:
							w.declared = append(w.declared, name)
						}
					}
				}
			}
		}
		for _, v := range vv {
			b = append(b, k...)
			b = append(b, ": "...)
			b = appendValue(b, v)
			b = append(b, "\r\n"...)
		}
	}
	return b
}

// appendValue appends v with CR and LF turned into spaces and surrounding
// whitespace trimmed (net/http's headerNewlineToSpace and TrimString).
func appendValue(b []byte, v string) []byte {
	start, end := 0, len(v)
	isSpace := func(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }
	for start < end && isSpace(v[start]) {
		start++
	}
	for end > start && isSpace(v[end-1]) {
		end--
	}
	for i := start; i < end; i++ {
		c := v[i]
		if c == '\r' || c == '\n' {
			c = ' '
		}
		b = append(b, c)
	}
	return b
}

func (w *h1Writer) statusLine(code int) {
	if text := http.StatusText(code); text != "" {
		w.bw.WriteString("HTTP/1.1 ")
		w.bw.Write(strconv.AppendInt(w.numBuf[:0], int64(code), 10))
		w.bw.WriteByte(' ')
		w.bw.WriteString(text)
		w.bw.WriteString("\r\n")
		return
	}
	fmt.Fprintf(w.bw, "HTTP/1.1 %03d status code %d\r\n", code, code)
}

// Write implements http.ResponseWriter.
func (w *h1Writer) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if len(p) == 0 {
		return 0, nil
	}
	if !bodyAllowed(w.status) {
		return 0, http.ErrBodyNotAllowed
	}
	w.written += int64(len(p))
	if w.cl != -1 && w.written > w.cl {
		return 0, http.ErrContentLength
	}
	if w.err != nil {
		return 0, w.err
	}
	if !w.headOut {
		if len(w.held)+len(p) <= bufferBeforeChunking {
			w.held = append(w.held, p...)
			return len(p), nil
		}
		w.emitHead(w.held, false)
		w.body(w.held)
	}
	w.body(p)
	if w.err != nil {
		return 0, w.err
	}
	return len(p), nil
}

// body writes p as body bytes, framed.
func (w *h1Writer) body(p []byte) {
	if len(p) == 0 || w.isHEAD || w.err != nil {
		return
	}
	if w.chunked {
		w.bw.Write(strconv.AppendInt(w.numBuf[:0], int64(len(p)), 16))
		w.bw.WriteString("\r\n")
		w.bw.Write(p)
		_, err := w.bw.WriteString("\r\n")
		w.fail(err)
		return
	}
	_, err := w.bw.Write(p)
	w.fail(err)
}

func (w *h1Writer) fail(err error) {
	if err != nil && w.err == nil {
		w.err = err
	}
}

// emitHead decides the framing and writes the head. p is the body held
// back; done means the handler has finished (so p is the whole body).
func (w *h1Writer) emitHead(p []byte, done bool) {
	w.headOut = true
	code := w.status
	hasCL := w.cl != -1
	hasTE := w.te != ""
	trailers := w.prefixed || len(w.declared) > 0
	var cl []byte
	if hasCL {
		cl = strconv.AppendInt(w.clBuf[:0], w.cl, 10)
	}
	if done && !trailers && !hasTE && bodyAllowed(code) && !hasCL && (!w.isHEAD || len(p) > 0) {
		cl, hasCL = strconv.AppendInt(w.clBuf[:0], int64(len(p)), 10), true
	}
	if !bodyAllowed(code) {
		cl = nil // suppressed for 1xx, 204 and 304
	}
	if w.connClose() || w.c.h.shutting.Load() {
		w.closeAfter = true
	}
	if hasCL && hasTE && w.te != "identity" {
		cl, hasCL = nil, false
	}
	te := ""
	switch {
	case w.isHEAD || !bodyAllowed(code):
	case hasCL:
	case hasTE && w.te == "identity":
		w.closeAfter = true
	default:
		w.chunked, te = true, "chunked"
		cl = nil
	}

	w.statusLine(code)
	w.bw.Write(w.fields)
	if w.closeAfter && !w.connClose() {
		w.bw.WriteString("Connection: close\r\n")
	} else {
		for _, v := range w.connection {
			w.bw.WriteString("Connection: ")
			w.bw.Write(appendValue(nil, v))
			w.bw.WriteString("\r\n")
		}
	}
	if cl != nil {
		w.bw.WriteString("Content-Length: ")
		w.bw.Write(cl)
		w.bw.WriteString("\r\n")
	}
	if bodyAllowed(code) && !w.haveType && !w.hasCE && !hasTE && len(p) > 0 {
		w.bw.WriteString("Content-Type: ")
		w.bw.WriteString(http.DetectContentType(p))
		w.bw.WriteString("\r\n")
	}
	if !w.hasDate {
		w.bw.WriteString("Date: ")
		w.bw.Write(w.c.date.get(time.Now()))
		w.bw.WriteString("\r\n")
	}
	if te != "" {
		w.bw.WriteString("Transfer-Encoding: chunked\r\n")
	}
	_, err := w.bw.WriteString("\r\n")
	w.fail(err)
}

// connClose reports whether the handler's Connection header says close.
func (w *h1Writer) connClose() bool {
	for _, v := range w.connection {
		for tok := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(tok), "close") {
				return true
			}
		}
	}
	return false
}

// FlushError sends what was written so far (http.ResponseController).
func (w *h1Writer) FlushError() error {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if !w.headOut {
		w.emitHead(w.held, false)
		w.body(w.held)
	}
	if w.err == nil {
		w.fail(w.bw.Flush())
	}
	return w.err
}

// Flush implements http.Flusher.
func (w *h1Writer) Flush() { _ = w.FlushError() }

// SetWriteDeadline lets http.ResponseController extend the write deadline.
func (w *h1Writer) SetWriteDeadline(t time.Time) error { return w.c.fc.SetWriteDeadline(t) }

// SetReadDeadline lets http.ResponseController set the read deadline.
func (w *h1Writer) SetReadDeadline(t time.Time) error { return w.c.fc.SetReadDeadline(t) }

// finish completes the response after the handler returned; false means
// the connection is not to be reused.
func (w *h1Writer) finish() bool {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if !w.headOut {
		w.emitHead(w.held, true)
		w.body(w.held)
	}
	if w.chunked && w.err == nil {
		w.bw.WriteString("0\r\n")
		w.trailers()
		w.bw.WriteString("\r\n")
	}
	if w.err == nil {
		w.fail(w.bw.Flush())
	}
	w.header = nil
	if w.err != nil || w.closeAfter {
		return false
	}
	// A body shorter than its Content-Length leaves the client waiting
	// for the rest: the connection cannot be reused.
	return w.isHEAD || w.cl == -1 || !bodyAllowed(w.status) || w.written == w.cl
}

// trailers writes the declared trailers and the http.TrailerPrefix keys.
func (w *h1Writer) trailers() {
	var buf []byte
	for _, k := range w.declared {
		for _, v := range w.header[k] {
			buf = append(buf, k...)
			buf = append(buf, ": "...)
			buf = appendValue(buf, v)
			buf = append(buf, "\r\n"...)
		}
	}
	// http.TrailerPrefix keys may be set after WriteHeader, as net/http
	// reads them at the end too.
	for k, vv := range w.header {
		name, ok := strings.CutPrefix(k, http.TrailerPrefix)
		if !ok || !httpguts.ValidHeaderFieldName(name) {
			continue
		}
		for _, v := range vv {
			buf = append(buf, name...)
			buf = append(buf, ": "...)
			buf = appendValue(buf, v)
			buf = append(buf, "\r\n"...)
		}
	}
	w.bw.Write(buf)
}

func bodyAllowed(status int) bool {
	return !(status >= 100 && status <= 199 || status == http.StatusNoContent || status == http.StatusNotModified)
}

// dateCache formats the Date header once a second.
type dateCache struct {
	sec int64
	b   []byte
}

func (d *dateCache) get(now time.Time) []byte {
	if s := now.Unix(); s != d.sec || d.b == nil {
		d.b = now.UTC().AppendFormat(d.b[:0], http.TimeFormat)
		d.sec = s
	}
	return d.b
}
