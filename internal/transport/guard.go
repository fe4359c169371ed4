package transport

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// framingConn guards the message framing of an HTTP/1.x connection, where
// net/http is lenient in ways that let a front proxy and the edge disagree
// about where a request ends (request smuggling). net/http already refuses
// a Transfer-Encoding other than chunked (with 501), differing duplicate
// Content-Length values, malformed Content-Length and invalid header names;
// but it accepts Transfer-Encoding together with Content-Length (dropping
// the latter), identical duplicate Content-Length headers, obs-fold
// continuation lines, and Transfer-Encoding in HTTP/1.0 (ignoring it).
//
// framingConn reads ahead of net/http and holds back each request head
// until it is complete. A head that breaks a framing rule never reaches
// net/http: it is replaced by a synthetic request, which the handler
// learns is refused from its Framing and answers with 400 (or 431 for an
// oversized head) and "Connection: close", so the refusal carries the
// request id and reaches the access log like any other error. Bytes that
// cannot start a request line are refused as soon as they arrive; a
// request line from another protocol ends the stream (hangUp). Bodies pass through as they arrive (read straight into the
// caller's buffer when nothing is held back) while the guard follows their
// framing to find the next head.
type framingConn struct {
	net.Conn
	limit int // largest head, in bytes
	// headTimeout bounds an unfinished head from its first byte (the
	// read_header_timeout), on every request of the connection.
	headTimeout time.Duration
	// tls is the TLS state when the connection is HTTP/1.1 over TLS
	// (net/http sees a plain connection and leaves Request.TLS nil).
	tls *tls.ConnectionState
	// idle waits for the socket to be readable without a buffer, for the
	// fast lane's idle connections (idle.go); nil when the connection is
	// not a socket.
	idle *idleWaiter

	// Read side: touched only by the goroutine reading the connection.
	buf    []byte // bytes read; buf[:off] were returned already; nil (pooled) when all were
	off    int    // buf[off:ready] may be returned
	ready  int
	pos    int // buf[ready:pos] is the parsed part of a held head
	scan   int // buf[pos:scan] was searched for the end of a line
	st     frameState
	remain uint64 // bytes left in a Content-Length body or a chunk
	heads  int64  // complete heads passed on (the sequence number of the next)
	line   int    // bytes of the chunk line or trailer being scanned
	h      headInfo

	// Read deadlines: the caller's, and the head's while one is
	// unfinished; the connection gets the earlier of the two.
	dmu          sync.Mutex
	readDeadline time.Time
	headUntil    time.Time

	// Shared with the handler goroutine.
	handled atomic.Int64            // handler calls seen (HTTP/1 is sequential)
	bad     atomic.Pointer[verdict] // first refused head, if any
	pass    atomic.Bool             // stop watching (hijacked connection)
}

// verdict is a framing refusal: the request with sequence number seq (and
// everything after it on the connection) is answered with status.
type verdict struct {
	seq    int64
	status int
	reason string
}

type frameState uint8

const (
	stHead      frameState = iota // reading a request head
	stBody                        // Content-Length body: remain bytes left
	stChunkSize                   // chunk-size line
	stChunkData                   // chunk data: remain bytes left
	stChunkCRLF                   // the CRLF after chunk data
	stTrailer                     // trailer section after the last chunk
	stPass                        // not watching any more: bytes pass through
	stEOF                         // a synthetic request was handed over
	stHungUp                      // the peer does not speak HTTP/1.x: end of stream
)

// headInfo is what the guard needs to know about the head being read.
type headInfo struct {
	started   bool // the request line was seen
	rlOff     int  // bytes of an unfinished request line checked so far
	rlTarget  bool // its method is complete
	rlDone    bool // its target is complete: the version is judged at the line end
	http10    bool
	preface   bool // "PRI * HTTP/2.0": the HTTP/2 connection preface
	post      bool
	connect   bool
	hostCount int
	clCount   int
	cl        uint64
	teCount   int
	teChunked bool
}

// syntheticRequest replaces a refused head. Its content does not matter
// (the handler recognises it by sequence number), only that net/http parses
// it without reading further and closes the connection after answering.
const syntheticRequest = "GET /.well-known/edgeward/refused HTTP/1.1\r\nHost: edge\r\nConnection: close\r\n\r\n"

const (
	maxChunkLine  = 4096 // net/http's limit for a chunk-size line
	maxTrailer    = 4096 // net/http peeks at most its buffer size for trailers
	initialBuffer = 4096
)

func newFramingConn(c net.Conn, limit int, headTimeout time.Duration) *framingConn {
	return &framingConn{Conn: c, limit: limit, headTimeout: headTimeout, idle: newIdleWaiter(c)}
}

// headDeadline bounds an unfinished head: once its first bytes have
// arrived, the rest must follow within headTimeout. Without it, the second
// and later heads of a kept-alive connection would be bounded only by the
// caller's idle deadline (net/http and the fast lane wait for a complete
// head, which the guard holds back until it is complete).
func (c *framingConn) headDeadline() {
	if c.headTimeout <= 0 || c.st != stHead || len(c.buf) <= c.ready {
		return
	}
	c.dmu.Lock()
	defer c.dmu.Unlock()
	if !c.headUntil.IsZero() {
		return
	}
	c.headUntil = time.Now().Add(c.headTimeout)
	if c.readDeadline.IsZero() || c.headUntil.Before(c.readDeadline) {
		_ = c.Conn.SetReadDeadline(c.headUntil)
	}
}

// disarm gives the connection back the caller's read deadline once a head
// is complete (a body is read under the caller's deadline).
func (c *framingConn) disarm() {
	c.dmu.Lock()
	defer c.dmu.Unlock()
	if c.headUntil.IsZero() {
		return
	}
	c.headUntil = time.Time{}
	_ = c.Conn.SetReadDeadline(c.readDeadline)
}

// SetReadDeadline sets the caller's read deadline; while a head is
// unfinished, the connection keeps the head's if it is earlier.
func (c *framingConn) SetReadDeadline(t time.Time) error {
	c.dmu.Lock()
	defer c.dmu.Unlock()
	c.readDeadline = t
	if !c.headUntil.IsZero() && (t.IsZero() || c.headUntil.Before(t)) {
		t = c.headUntil
	}
	return c.Conn.SetReadDeadline(t)
}

// SetDeadline sets the read deadline as SetReadDeadline does, and the
// write deadline.
func (c *framingConn) SetDeadline(t time.Time) error {
	if err := c.SetReadDeadline(t); err != nil {
		return err
	}
	return c.Conn.SetWriteDeadline(t)
}

// nextSeq returns the sequence number of the request the handler is about
// to serve.
func (c *framingConn) nextSeq() int64 { return c.handled.Add(1) - 1 }

// Read implements net.Conn.
func (c *framingConn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		if c.st < stPass && c.pass.Load() {
			c.st, c.ready = stPass, len(c.buf)
		}
		if c.ready > c.off {
			n := copy(p, c.buf[c.off:c.ready])
			c.off += n
			if c.off == len(c.buf) {
				c.release()
			}
			return n, nil
		}
		switch c.st {
		case stEOF:
			return c.drain(p)
		case stHungUp:
			return 0, io.EOF
		case stPass:
			if c.off == len(c.buf) {
				return c.Conn.Read(p)
			}
		case stBody, stChunkData:
			if c.off == len(c.buf) {
				return c.readBody(p)
			}
		}
		c.headDeadline()
		if err := c.fill(); err != nil {
			var ne net.Error
			if c.off < len(c.buf) && !(errors.As(err, &ne) && ne.Timeout()) {
				// The peer is gone mid-head: hand over what there is and let
				// net/http fail on it as it would have.
				c.st, c.ready = stPass, len(c.buf)
				continue
			}
			return 0, err
		}
		c.process()
	}
}

// drain stands for the connection after a refused head, once net/http has
// the synthetic request: there is nothing more to read, but the viewer has
// not gone away either. Returning io.EOF here would make net/http's
// background read cancel a request still being served from earlier in the
// pipeline, so drain waits on the connection like any idle read (until
// net/http sets a past deadline, the viewer closes, or the read times out)
// and discards whatever the viewer still sends.
func (c *framingConn) drain(p []byte) (int, error) {
	for {
		if _, err := c.Conn.Read(p); err != nil {
			return 0, err
		}
	}
}

// readBody reads body bytes straight into p when nothing is held back.
func (c *framingConn) readBody(p []byte) (int, error) {
	if uint64(len(p)) > c.remain {
		p = p[:c.remain]
	}
	n, err := c.Conn.Read(p)
	c.remain -= uint64(n)
	if c.remain == 0 {
		c.endData()
	}
	return n, err
}

func (c *framingConn) endData() {
	if c.st == stChunkData {
		c.st, c.line = stChunkCRLF, 0
	} else {
		c.st = stHead
	}
}

// release gives the buffer back once everything in it was returned: an
// idle connection holds none.
func (c *framingConn) release() {
	putReadBuf(c.buf)
	c.buf, c.off, c.ready, c.pos, c.scan = nil, 0, 0, 0, 0
}

// buffered reports whether bytes read from the connection are held.
func (c *framingConn) buffered() bool { return c.off < len(c.buf) }

// fill reads more bytes from the connection into buf, taking a buffer
// from the pool when it holds none (the fast lane waits for readability
// without one first: idle.go).
func (c *framingConn) fill() error {
	if c.buf == nil {
		c.buf = getReadBuf()[:0]
	}
	if cap(c.buf)-len(c.buf) < 512 && c.off > 0 {
		// Drop what was returned: each byte moves at most once per fill.
		m := copy(c.buf, c.buf[c.off:])
		c.buf = c.buf[:m]
		c.ready, c.pos, c.scan = c.ready-c.off, c.pos-c.off, max(c.scan-c.off, 0)
		c.off = 0
	}
	if cap(c.buf)-len(c.buf) < 512 {
		nb := make([]byte, len(c.buf), 2*cap(c.buf))
		copy(nb, c.buf)
		c.buf = nb
	}
	n, err := c.Conn.Read(c.buf[len(c.buf):cap(c.buf)])
	c.buf = c.buf[:len(c.buf)+n]
	if n > 0 {
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}

// process advances the framing state over the unscanned bytes.
func (c *framingConn) process() {
	for c.pos < len(c.buf) {
		switch c.st {
		case stHead:
			if !c.scanHead() {
				return
			}
		case stBody, stChunkData:
			take := min(uint64(len(c.buf)-c.pos), c.remain)
			c.pos += int(take)
			c.ready = c.pos
			c.remain -= take
			if c.remain == 0 {
				c.endData()
			}
		case stChunkSize, stChunkCRLF, stTrailer:
			if !c.scanChunkLine() {
				return
			}
		default: // stPass, stEOF, stHungUp
			c.ready = len(c.buf)
			return
		}
	}
}

// indexLF returns the offset from pos of the next '\n', or -1. It never
// searches the same bytes twice, so a line sent a byte at a time costs no
// more than one sent at once.
func (c *framingConn) indexLF() int {
	from := max(c.scan, c.pos)
	if i := bytes.IndexByte(c.buf[from:], '\n'); i >= 0 {
		return from + i - c.pos
	}
	c.scan = len(c.buf)
	return -1
}

// scanHead consumes one line of the held head; false means it needs more
// bytes.
func (c *framingConn) scanHead() bool {
	i := c.indexLF()
	if i < 0 {
		if !c.h.started {
			c.requestLineStart()
			if c.st != stHead {
				return false
			}
		}
		if len(c.buf)-c.ready > c.limit {
			c.refuse(431, "request header fields too large")
		}
		return false
	}
	line := c.buf[c.pos : c.pos+i]
	c.pos += i + 1
	if !c.h.started {
		c.h.rlOff, c.h.rlTarget, c.h.rlDone = 0, false, false
	}
	if c.pos-c.ready > c.limit {
		c.refuse(431, "request header fields too large")
		return true
	}
	// Only CRLF ends a line of a head. net/http also takes a bare LF, but a
	// front proxy that does not would read "X: 1\nContent-Length: 5" as one
	// header where the edge reads two: refuse instead of guessing.
	n := len(line)
	if n == 0 || line[n-1] != '\r' {
		c.refuse(400, "bare LF in the request head")
		return true
	}
	line = line[:n-1]
	if bytes.IndexByte(line, '\r') >= 0 {
		c.refuse(400, "bare CR in the request head")
		return true
	}
	c.headLine(line)
	return true
}

// requestLineStart checks the start of a request line whose end has not
// arrived yet, so that bytes that can never become an HTTP/1.x request (a
// TLS ClientHello on the plain port, binary junk, a first byte that cannot
// start a method) are refused at once instead of after
// read_header_timeout. Each byte is checked once, by the rules requestLine
// applies to the whole line (method token, SP, target without control
// bytes, no bare CR), so a line refused early is one that would be
// refused once complete; the version is judged only then.
func (c *framingConn) requestLineStart() {
	h := &c.h
	line := c.buf[c.pos:]
	for ; h.rlOff < len(line) && !h.rlDone; h.rlOff++ {
		b := line[h.rlOff]
		if b == '\r' {
			if h.rlOff == len(line)-1 {
				return // perhaps the CR of the line's CRLF
			}
			c.refuse(400, "bare CR in the request head")
			return
		}
		switch {
		case h.rlTarget:
			if b == ' ' {
				h.rlDone = true
			} else if b < 0x20 || b == 0x7f {
				c.refuse(400, "control character in the request target")
				return
			}
		case b == ' ' && h.rlOff > 0:
			h.rlTarget = true
		case b >= 0x80 || !tokenChar[b]:
			c.refuse(400, "invalid method")
			return
		}
	}
}

func (c *framingConn) headLine(line []byte) {
	h := &c.h
	if !h.started {
		if len(line) == 0 {
			return // blank lines before a request line are tolerated
		}
		c.requestLine(line)
		return
	}
	if len(line) == 0 {
		c.endHead()
		return
	}
	if line[0] == ' ' || line[0] == '\t' {
		c.refuse(400, "obsolete line folding in a header")
		return
	}
	colon := bytes.IndexByte(line, ':')
	if colon <= 0 || !isToken(line[:colon]) {
		c.refuse(400, "invalid header name")
		return
	}
	name, value := line[:colon], trimOWS(line[colon+1:])
	if underscoreFraming(name) {
		c.refuse(400, "Content-Length or Transfer-Encoding spelled with an underscore")
		return
	}
	switch {
	case asciiEqualFold(name, "content-length"):
		h.clCount++
		n, ok := parseDecimal(value)
		if !ok {
			c.refuse(400, "invalid Content-Length")
			return
		}
		h.cl = n
	case asciiEqualFold(name, "host"):
		h.hostCount++
	case asciiEqualFold(name, "transfer-encoding"):
		h.teCount++
		h.teChunked = asciiEqualFold(value, "chunked")
	}
}

func (c *framingConn) requestLine(line []byte) {
	h := &c.h
	h.started = true
	sp1 := bytes.IndexByte(line, ' ')
	if sp1 <= 0 {
		c.giveUp()
		return
	}
	rest := line[sp1+1:]
	sp2 := bytes.IndexByte(rest, ' ')
	if sp2 < 0 {
		c.giveUp()
		return
	}
	method, target, proto := line[:sp1], rest[:sp2], rest[sp2+1:]
	if !validProto(proto) && !containsFold(line[sp1+1:], "http/") {
		// Not a malformed HTTP request line (net/http answers those
		// with 400) but another protocol.
		c.hangUp("not an HTTP request line")
		return
	}
	if !isToken(method) {
		c.refuse(400, "invalid method")
		return
	}
	if reason := badTarget(target); reason != "" {
		c.refuse(400, reason)
		return
	}
	h.connect = string(method) == "CONNECT"
	h.post = string(method) == "POST"
	h.http10 = string(proto) == "HTTP/1.0"
	h.preface = string(method) == "PRI" && string(target) == "*" && string(proto) == "HTTP/2.0"
}

// endHead decides on a complete head: pass it on, or refuse it.
func (c *framingConn) endHead() {
	c.disarm()
	h := &c.h
	switch {
	case h.clCount > 1:
		c.refuse(400, "more than one Content-Length")
		return
	case h.teCount > 0 && h.clCount > 0:
		c.refuse(400, "both Transfer-Encoding and Content-Length")
		return
	case h.teCount > 0 && h.http10:
		c.refuse(400, "Transfer-Encoding in an HTTP/1.0 request")
		return
	case h.teCount > 1 || (h.teCount == 1 && !h.teChunked):
		c.refuse(400, "Transfer-Encoding other than chunked")
		return
	case h.hostCount > 1 || (h.hostCount == 0 && !h.http10 && !h.connect && !h.preface):
		c.refuse(400, "missing or repeated Host")
		return
	}
	c.ready = c.pos
	c.heads++
	switch {
	case h.preface:
		c.st = stPass // HTTP/2 with prior knowledge: frames follow
	case h.teCount == 1:
		c.st, c.line = stChunkSize, 0
	case h.cl > 0:
		c.st, c.remain = stBody, h.cl
	default:
		c.st = stHead
	}
	c.h = headInfo{}
}

// scanChunkLine consumes the chunk-size line, the CRLF after chunk data or
// a trailer line; false means it needs more bytes.
func (c *framingConn) scanChunkLine() bool {
	if c.st == stChunkCRLF {
		if len(c.buf)-c.pos < 2 {
			return false
		}
		if c.buf[c.pos] != '\r' || c.buf[c.pos+1] != '\n' {
			c.bodyError("malformed chunked body")
			return true
		}
		c.pos += 2
		c.ready = c.pos
		c.st, c.line = stChunkSize, 0
		return true
	}
	i := c.indexLF()
	if i < 0 {
		if c.line+len(c.buf)-c.pos > maxTrailer {
			c.bodyError("chunk line too long")
			return true
		}
		return false
	}
	line := c.buf[c.pos : c.pos+i]
	c.line += i + 1
	c.pos += i + 1
	c.ready = c.pos
	if c.st == stTrailer {
		if c.line > maxTrailer {
			c.bodyError("trailer too long")
			return true
		}
		if len(line) == 0 || (len(line) == 1 && line[0] == '\r') {
			c.st = stHead
		}
		return true
	}
	if len(line) == 0 || line[len(line)-1] != '\r' || bytes.IndexByte(line[:len(line)-1], '\r') >= 0 || len(line) > maxChunkLine {
		c.bodyError("malformed chunk-size line")
		return true
	}
	size := trimOWS(line[:len(line)-1])
	if j := bytes.IndexByte(size, ';'); j >= 0 {
		size = size[:j]
	}
	n, ok := parseHex(size)
	if !ok {
		c.bodyError("malformed chunk size")
		return true
	}
	if n == 0 {
		c.st, c.line = stTrailer, 0
	} else {
		c.st, c.remain = stChunkData, n
	}
	return true
}

// refuse replaces the held head (and everything after it) with the
// synthetic request and records why.
func (c *framingConn) refuse(status int, reason string) {
	c.disarm()
	c.bad.CompareAndSwap(nil, &verdict{seq: c.heads, status: status, reason: reason})
	c.buf = append(c.buf[:c.ready], syntheticRequest...)
	c.pos, c.ready = len(c.buf), len(c.buf)
	c.st = stEOF
}

// hangUp ends the stream at the held head: the peer speaks another
// protocol than HTTP/1.x (an HTTP/2 client with a broken preface, SSH,
// SMTP), so an HTTP/1.1 400 would mean nothing to it. RFC 9113 section
// 3.4 wants a client whose preface is invalid to see the connection
// terminated; net/http and the fast lane read the end of the stream and
// close it. What was passed on before stays passed on.
func (c *framingConn) hangUp(reason string) {
	c.disarm()
	c.bad.CompareAndSwap(nil, &verdict{seq: c.heads, status: 400, reason: reason})
	c.buf = c.buf[:c.ready]
	c.pos = c.ready
	c.st = stHungUp
}

// giveUp stops watching a head net/http itself will refuse (a malformed
// request line): it gets the bytes as they are, and any later request on
// the connection is refused.
func (c *framingConn) giveUp() {
	c.bad.CompareAndSwap(nil, &verdict{seq: c.heads, status: 400, reason: "malformed request line"})
	c.st, c.ready = stPass, len(c.buf)
}

// bodyError stops watching after a body net/http will fail to read: the
// request it belongs to, and any later one on the connection, is refused.
func (c *framingConn) bodyError(reason string) {
	c.bad.CompareAndSwap(nil, &verdict{seq: c.heads - 1, status: 400, reason: reason})
	c.st, c.ready = stPass, len(c.buf)
}
