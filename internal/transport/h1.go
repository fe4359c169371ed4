package transport

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http/httpguts"
)

// The HTTP/1.1 fast lane serves the common request shape itself, under the
// framing guard, and hands every other connection to net/http.
//
// net/http's server costs more per request than the whole authorized cache
// hit: a goroutine and a read to watch for the client going away, a context,
// a copy of the response header, ~19 allocations. The fast lane reads
// request heads from the framingConn itself and serves a request when, and
// only when, it is a plain bodiless GET or HEAD that net/http would read in
// exactly the same way: request line "GET|HEAD /origin-form HTTP/1.1",
// CRLF line ends, valid header names and values, one valid Host, and no
// Content-Length, Transfer-Encoding, Expect, Connection, Upgrade, Pragma or
// HTTP2-Settings header. The first head that is anything else (a body, an
// upgrade, HTTP/1.0, absolute-form, the h2c preface, a head the guard
// refused) is handed, unread, to net/http together with the connection, for
// the rest of the connection's life: net/http parses it and everything after
// it exactly as it would have without the fast lane. The framing guard sits
// below both, so every byte either of them sees has passed it.
//
// Requests served by the fast lane reach the same HandlerFunc as net/http's,
// with their Framing, through a ResponseWriter (h1Writer) that frames the response as net/http does:
// Content-Length when known or computed, chunked otherwise, no body for
// HEAD, 1xx, 204 and 304, a Date header, content sniffing when no
// Content-Type is set, trailers.

// h1Server runs the fast lane on the connections of one Server.
type h1Server struct {
	s *Server

	mu       sync.Mutex
	conns    map[*h1Conn]struct{}
	wg       sync.WaitGroup
	shutting atomic.Bool
	parks    atomic.Int64 // idle waits moved to a fresh goroutine (h1Conn.run)
}

// maxFastHeaders bounds the header lines of a request the fast lane
// serves; a longer head goes to net/http.
const maxFastHeaders = 64

func newH1Server(s *Server) *h1Server {
	return &h1Server{s: s, conns: map[*h1Conn]struct{}{}}
}

// track registers a new connection accepted under g; nil once shutting
// down (the connection is closed then).
func (h *h1Server) track(fc *framingConn, g *gen) *h1Conn {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.shutting.Load() {
		fc.Close()
		return nil
	}
	hc := newH1Conn(h, fc, g)
	h.conns[hc] = struct{}{}
	h.wg.Add(1)
	return hc
}

func (h *h1Server) untrack(hc *h1Conn) {
	h.mu.Lock()
	delete(h.conns, hc)
	h.mu.Unlock()
	h.wg.Done()
}

// shutdown stops the fast lane: idle connections are closed now, busy ones
// after their response (which says Connection: close). It waits for them
// until ctx is done, then closes what is left.
func (h *h1Server) shutdown(ctx context.Context) error {
	h.shutting.Store(true)
	h.closeIdle()
	done := make(chan struct{})
	go func() { h.wg.Wait(); close(done) }()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return nil
		case <-tick.C:
			h.closeIdle() // connections that finished a request meanwhile
		case <-ctx.Done():
			h.mu.Lock()
			for hc := range h.conns {
				hc.cancel() // a handler waiting on its request's context returns
				hc.fc.Close()
			}
			h.mu.Unlock()
			// As http.Server.Close: handlers still running are not waited for.
			return ctx.Err()
		}
	}
}

func (h *h1Server) closeIdle() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for hc := range h.conns {
		if hc.idle.Load() {
			hc.fc.Close()
		}
	}
}

// h1Conn is one connection in the fast lane.
type h1Conn struct {
	h      *h1Server
	g      *gen // the limits it was accepted under, and its net/http server
	fc     *framingConn
	remote string
	tmpl   *http.Request // carries the connection's context
	// parkedUntil is the idle deadline of a wait moved to a fresh
	// goroutine (readHead); zero otherwise.
	parkedUntil time.Time
	// resumeFn is c.resume, made once (run).
	resumeFn func()
	cancel   context.CancelFunc
	idle     atomic.Bool // waiting for a request head

	b    *laneBufs // the buffers of the request in flight; nil while idle (idle.go)
	buf  []byte    // read buffer: buf[r:w] is unread
	r, w int
	wr   h1Writer
	date dateCache
}

func newH1Conn(h *h1Server, fc *framingConn, g *gen) *h1Conn {
	ctx, cancel := context.WithCancel(context.Background())
	ctx = context.WithValue(ctx, http.ServerContextKey, g.srv)
	ctx = context.WithValue(ctx, http.LocalAddrContextKey, fc.LocalAddr())
	c := &h1Conn{
		h:      h,
		g:      g,
		fc:     fc,
		remote: fc.RemoteAddr().String(),
		tmpl:   (&http.Request{}).WithContext(ctx),
		cancel: cancel,
	}
	c.wr.c = c
	c.resumeFn = c.resume
	c.idle.Store(true)
	return c
}

func (c *h1Conn) serve() { c.run(true, false) }

// resume serves the connection from its next request, on a fresh
// goroutine (see run).
func (c *h1Conn) resume() { c.run(false, true) }

// run serves requests until the connection closes, is handed over, or
// stays idle for idleGrace: then a fresh goroutine waits for the next
// request, without buffers, and this one ends. Serving a request grows a goroutine's stack
// to what the handler needs (8-16 KiB for an authorized request), and the
// runtime shrinks it only during a garbage collection, by half each time;
// a goroutine that starts with the minimal stack to wait keeps an idle
// connection's stack at about 2 KiB (idle.go). A busy connection never
// moves (a fresh goroutine per request would grow its stack again for
// every request). The func value c.resumeFn is made once per connection,
// so the go statement allocates nothing.
func (c *h1Conn) run(first, parked bool) {
	handed, moved := false, false
	defer func() {
		if moved {
			return
		}
		c.cancel()
		if !handed {
			c.fc.Close()
			c.r = c.w // nothing more is served: the buffers go back
			c.release()
		}
		c.h.untrack(c)
	}()
	for {
		lim := &c.g.lim
		wait := lim.IdleTimeout
		if first {
			wait = lim.ReadHeaderTimeout
		}
		head, err := c.readHead(wait, !first && !parked)
		if err == errPark {
			moved = true
			c.h.parks.Add(1)
			go c.resumeFn()
			return
		}
		c.idle.Store(false)
		if err != nil {
			return
		}
		if head < 0 {
			handed = c.handOver()
			return
		}
		r, ok := c.parse(head)
		if !ok {
			handed = c.handOver()
			return
		}
		if wt := lim.WriteTimeout; wt > 0 {
			_ = c.fc.SetWriteDeadline(time.Now().Add(wt))
		}
		c.r += head
		if !c.serveOne(r) || c.h.shutting.Load() {
			return
		}
		c.release()
		first, parked = false, false
		c.idle.Store(true)
		if c.h.shutting.Load() {
			return
		}
	}
}

// readHead reads until buf[r:] holds a complete request head and returns
// its length, or -1 when the head is not one the fast lane reads (too long,
// or a line not ended by CRLF). The framing guard releases a head only once
// it is complete, so this waits for a whole head, bounded by wait.
//
// A kept-alive connection between requests (busy) first waits at most
// idleGrace for the next request's bytes, reading as it always does, with
// its buffers; if none came, it gives the buffers back and returns errPark:
// the caller moves the wait to a fresh goroutine, which calls readHead
// again (not busy, same deadline) and waits without a buffer.
func (c *h1Conn) readHead(wait time.Duration, busy bool) (int, error) {
	deadlineSet, graced := false, false
	var until time.Time
	for {
		if n := headLen(c.buf[c.r:c.w]); n != 0 {
			// The deadline stays: nothing is read while the request is
			// served (it has no body), and the next head sets its own.
			return n, nil
		}
		if c.w-c.r > c.g.lim.MaxHeaderBytes {
			return -1, nil
		}
		if !deadlineSet {
			now := time.Now()
			until = c.parkedUntil
			if until.IsZero() {
				until = now.Add(wait)
			}
			c.parkedUntil = time.Time{}
			dl := until
			if grace := now.Add(idleGrace); busy && c.fc.idle != nil && grace.Before(until) {
				dl, graced = grace, true
			}
			_ = c.fc.SetReadDeadline(dl)
			deadlineSet = true
		}
		if err := c.fill(!busy); err != nil {
			if graced && errors.Is(err, os.ErrDeadlineExceeded) && time.Now().Before(until) {
				graced = false
				_ = c.fc.SetReadDeadline(until)
				if c.r == c.w && !c.fc.buffered() {
					c.release()
					c.fc.release()
					c.parkedUntil = until
					return 0, errPark
				}
				continue // a head has begun: read the rest under the real deadline
			}
			if c.w > c.r {
				return -1, nil // let net/http answer what there is
			}
			return 0, err
		}
	}
}

// fill reads more of the connection into buf; without buffers, it takes
// them, first waiting without any for the connection to be readable when
// idle is set.
func (c *h1Conn) fill(idle bool) error {
	if c.b == nil {
		c.acquire(idle)
	}
	if c.r > 0 {
		c.w = copy(c.buf, c.buf[c.r:c.w])
		c.r = 0
	}
	if c.w == len(c.buf) {
		nb := make([]byte, 2*len(c.buf))
		copy(nb, c.buf[:c.w])
		c.buf = nb
	}
	n, err := c.fc.Read(c.buf[c.w:])
	c.w += n
	if n > 0 {
		return nil
	}
	if err == nil {
		err = errors.New("no progress")
	}
	return err
}

// headLen returns the length of the complete head at the start of b, 0 if
// it is not complete yet, or -1 if a line does not end in CRLF.
func headLen(b []byte) int {
	off := 0
	for {
		i := bytes.IndexByte(b[off:], '\n')
		if i < 0 {
			return 0
		}
		if i == 0 || b[off+i-1] != '\r' {
			return -1
		}
		if i == 1 {
			if off == 0 {
				return -1 // an empty line before the request line
			}
			return off + 2
		}
		off += i + 1
	}
}

// handOver gives the connection, with what was read and not served, to
// net/http.
func (c *h1Conn) handOver() bool {
	var pending []byte
	if c.w > c.r {
		pending = bytes.Clone(c.buf[c.r:c.w])
	}
	c.r = c.w
	c.release()
	return c.g.handoff.give(&handoffConn{framingConn: c.fc, pending: pending})
}

// parse reads the head at buf[r:r+n] (n includes the blank line) into a
// request, or reports that the fast lane does not serve it.
func (c *h1Conn) parse(n int) (*http.Request, bool) {
	return parseHead(c.buf[c.r:c.r+n], c.tmpl, c.remote)
}

// parseHead reads a complete head (CRLF line ends, blank line included)
// into a request copied from tmpl, or reports that the fast lane does not
// serve it. What it accepts, net/http's server accepts and reads the same
// way (FuzzParseHead checks that against http.ReadRequest).
func parseHead(b []byte, tmpl *http.Request, remote string) (*http.Request, bool) {
	// One string holds the method, target, names that are not interned
	// and values of the request.
	head := string(b[:len(b)-2])
	line, rest, _ := strings.Cut(head, "\r\n")
	var method string
	switch {
	case len(line) > 4 && line[:4] == "GET ":
		method, line = http.MethodGet, line[4:]
	case len(line) > 5 && line[:5] == "HEAD ":
		method, line = http.MethodHead, line[5:]
	default:
		return nil, false
	}
	target, ok := strings.CutSuffix(line, " HTTP/1.1")
	if !ok || len(target) == 0 || target[0] != '/' ||
		strings.IndexByte(target, ' ') >= 0 { // net/http reads "GET /a b HTTP/1.1" another way, and refuses it
		return nil, false
	}
	u, err := url.ParseRequestURI(target)
	if err != nil {
		return nil, false
	}
	lines := strings.Count(rest, "\r\n") // every header line ends in CRLF
	if lines > maxFastHeaders {
		return nil, false
	}
	hdr := make(http.Header, lines)
	// One backing array for the values, as net/http's reader does.
	vals := make([]string, lines)
	nv := 0
	host, hosts := "", 0
	for rest != "" {
		line, rest, _ = strings.Cut(rest, "\r\n")
		colon := strings.IndexByte(line, ':')
		if colon <= 0 {
			return nil, false
		}
		key, ok := fastHeaderKey(line[:colon])
		if !ok {
			return nil, false
		}
		v := strings.Trim(line[colon+1:], " \t") // OWS
		if !httpguts.ValidHeaderFieldValue(v) {
			return nil, false
		}
		switch key {
		case "Host":
			host, hosts = v, hosts+1
			continue
		case "Content-Length", "Transfer-Encoding", "Expect", "Connection", "Upgrade",
			"Pragma", "Http2-Settings", "Proxy-Connection", "Keep-Alive":
			// Bodies, upgrades and connection management are net/http's.
			return nil, false
		}
		vals[nv] = v
		if vv, ok := hdr[key]; ok {
			hdr[key] = append(vv, v)
		} else {
			hdr[key] = vals[nv : nv+1 : nv+1]
		}
		nv++
	}
	if hosts != 1 || !httpguts.ValidHostHeader(host) {
		return nil, false
	}
	r := new(http.Request)
	*r = *tmpl
	r.Method = method
	r.URL = u
	r.Proto, r.ProtoMajor, r.ProtoMinor = "HTTP/1.1", 1, 1
	r.Header = hdr
	r.Body = http.NoBody
	r.Host = host
	r.RemoteAddr = remote
	r.RequestURI = target
	return r, true
}

// serveOne runs the handler for r and finishes the response; false means
// the connection is not to be reused.
func (c *h1Conn) serveOne(r *http.Request) (keep bool) {
	w := &c.wr
	w.reset(r)
	defer func() {
		if p := recover(); p != nil {
			// As net/http: the response is cut and the connection closed;
			// http.ErrAbortHandler is the quiet way to ask for that.
			if p != http.ErrAbortHandler {
				c.h.s.log.Error("http: panic serving "+c.remote, "panic", p, "stack", string(debug.Stack()))
			}
			keep = false
		}
	}()
	c.h.s.h(w, r, Framing{c: c.fc, seq: c.fc.nextSeq()})
	return w.finish()
}

// fastHeaderKey returns the canonical form of the header name s, as
// net/http's reader makes it, without allocating when s is already
// canonical or one of the common names; false for a name that is not a
// token (net/http refuses those).
func fastHeaderKey(s string) (string, bool) {
	canonical := true
	upper := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 || !tokenChar[c] {
			return "", false
		}
		if upper && 'a' <= c && c <= 'z' || !upper && 'A' <= c && c <= 'Z' {
			canonical = false
		}
		upper = c == '-'
	}
	if canonical {
		return s, true
	}
	var buf [32]byte
	if len(s) <= len(buf) {
		for i := 0; i < len(s); i++ {
			c := s[i]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			buf[i] = c
		}
		if k, ok := commonKeys[string(buf[:len(s)])]; ok {
			return k, true
		}
	}
	return http.CanonicalHeaderKey(s), true
}

// commonKeys maps the lower-case form of common header names (as
// HTTP/2-minded clients send them) to their canonical form.
var commonKeys = func() map[string]string {
	m := map[string]string{}
	for _, k := range []string{
		"Accept", "Accept-Encoding", "Accept-Language", "Authorization", "Cache-Control",
		"Cookie", "Host", "If-Match", "If-Modified-Since", "If-None-Match", "If-Range",
		"If-Unmodified-Since", "Origin", "Range", "Referer", "User-Agent", "X-Request-Id",
		"X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "Content-Length",
		"Transfer-Encoding", "Expect", "Connection", "Upgrade", "Pragma", "Te", "Via",
		"Forwarded", "Http2-Settings", "Proxy-Connection", "Keep-Alive", "Traceparent",
	} {
		m[strings.ToLower(k)] = http.CanonicalHeaderKey(k)
	}
	return m
}()
