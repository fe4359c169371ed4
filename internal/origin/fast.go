package origin

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/textproto"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/net/http/httpguts"

	"github.com/edgeward/edgeward/internal/connpool"
	"github.com/edgeward/edgeward/internal/edge"
	"github.com/edgeward/edgeward/internal/hop"
)

// The fast path: a lean HTTP/1.1 client for plain-HTTP origins.
//
// On this class of machine the stock http.Transport spends most of a small
// request in goroutine hand-offs (a read loop and a write loop per
// connection) and the syscalls they cause, which caps a Go proxy far below
// nginx. For the common API request, GET or HEAD without a body or upgrade,
// the fast path writes the request head straight from the handler's
// goroutine onto a pooled keep-alive connection and parses the answer on the
// same goroutine (connpool.ReadResponse: the common head in place,
// http.ReadResponse for any other). Everything else (bodies, other
// methods, upgrades, Expect, HTTPS, max_conns) goes through
// httputil.ReverseProxy. Both paths apply the same header rules, timeouts,
// error mapping and metrics; the tests run against both.
//
// Measured on the 2-core benchmark machine, wrk -t2 -c64 through a Go
// handler calling Forward in front of nginx (43-byte answer): ReverseProxy
// 10.4k-11.9k req/s at 99-115 us of proxy CPU per request, the fast path
// 15.0k-15.4k req/s at 68-71 us, 19 allocations instead of 77 (see
// load_test.go and BenchmarkForward). What remains is mostly the kernel and
// the runtime: per request two writes, about three reads and one context
// switch, where nginx's event loop needs fewer wake-ups.

// ioBufferSize is the size of a pooled connection's read and write buffers.
const ioBufferSize = 16 << 10

// fastClient is the fast path's connection pool for one origin.
type fastClient struct {
	o    *Origin
	pool connpool.Pool[*fconn]
}

func newFastClient(o *Origin, d *net.Dialer, cfg Config) *fastClient {
	f := &fastClient{o: o}
	f.pool = connpool.Pool[*fconn]{
		MaxIdle:     cfg.MaxIdleConns,
		IdleTimeout: cfg.IdleTimeout,
		Dial: func(ctx context.Context) (*fconn, error) {
			c, err := d.DialContext(ctx, "tcp", o.plain.addr)
			if err != nil {
				return nil, err
			}
			fc := &fconn{timeout: o.responseTimeout}
			fc.Budget = -1
			fc.C = c
			fc.BR = bufio.NewReaderSize(fc, ioBufferSize)
			fc.BW = bufio.NewWriterSize(c, ioBufferSize)
			return fc, nil
		},
	}
	return f
}

// fconn is a pooled connection. It is the io.Reader under its BR, so that
// every read from the origin is bounded: the response header by one
// deadline (response_timeout) and a byte budget, each body read by
// response_timeout.
type fconn struct {
	connpool.Conn
	timeout time.Duration
	// aborted is set when the viewer went away (see abort).
	aborted atomic.Bool
}

var errHeaderTooLarge = fmt.Errorf("origin response header larger than %d bytes", maxResponseHeaderBytes)

func (fc *fconn) Read(p []byte) (int, error) {
	if fc.Budget >= 0 {
		return fc.ReadBudget(p, errHeaderTooLarge)
	}
	if err := fc.arm(); err != nil {
		return 0, err
	}
	return fc.C.Read(p)
}

// arm gives the next read response_timeout. An abort may race with it:
// abort sets the flag before it poisons the deadline, and arm checks the
// flag after it set the deadline, so one of them wins either way.
func (fc *fconn) arm() error {
	if err := fc.C.SetReadDeadline(time.Now().Add(fc.timeout)); err != nil {
		return err
	}
	if fc.aborted.Load() {
		return context.Canceled
	}
	return nil
}

// fastEligible reports whether r can take the fast path: GET or HEAD, no
// body, no upgrade or Expect, and only valid header fields (anything else
// gets the stock path, and its errors).
func fastEligible(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead || r.ContentLength != 0 || r.TransferEncoding != nil {
		return false
	}
	for k, vv := range r.Header {
		switch k {
		case "Upgrade", "Expect", "Transfer-Encoding":
			return false
		}
		if !httpguts.ValidHeaderFieldName(k) {
			return false
		}
		for _, v := range vv {
			if !httpguts.ValidHeaderFieldValue(v) {
				return false
			}
		}
	}
	return true
}

// forward is Forward's fast path.
func (f *fastClient) forward(w http.ResponseWriter, r *edge.Request, ep *endpoint) error {
	o := f.o
	start := time.Now()
	ctx := r.HTTP.Context()
	var (
		fc       *fconn
		res      *http.Response
		err      error
		canceled = func() bool { return false }
	)
	for attempt := 0; ; attempt++ {
		if fc, err = f.pool.Get(ctx, attempt > 0); err == nil {
			canceled = context.AfterFunc(ctx, fc.abort)
			if res, err = f.roundTrip(w, fc, r, ep); err == nil {
				break
			}
			canceled()
			fc.C.Close()
		}
		var nr connpool.NothingRead
		if attempt == 0 && fc != nil && fc.Reused && errors.As(err, &nr) && ctx.Err() == nil {
			continue
		}
		r.OriginTime = time.Since(start)
		k, e := o.classify(err, ctx, false)
		o.m.errors[k].Inc()
		return e
	}

	d := time.Since(start)
	r.OriginTime = d
	o.m.latency.Observe(d.Seconds())
	o.m.response(res.StatusCode)
	hop.Remove(res.Header)
	appendVia(res.Header, o.via)
	h := w.Header()
	for k, vv := range res.Header {
		if prev, ok := h[k]; ok {
			h[k] = append(prev, vv...)
		} else {
			h[k] = vv
		}
	}
	announced := len(res.Trailer)
	if announced > 0 {
		keys := make([]string, 0, announced)
		for k := range res.Trailer {
			keys = append(keys, k)
		}
		h.Add("Trailer", strings.Join(keys, ", "))
	}
	w.WriteHeader(res.StatusCode)

	err = o.copyBody(w, res, fc)
	stopped := canceled() // false: the viewer went away meanwhile and the deadline was poisoned
	if err != nil || res.Close || !stopped {
		fc.C.Close()
		res.Body.Close()
		if err != nil {
			o.m.errors[o.fastAbortKind(ctx, err)].Inc()
			if ctx.Value(http.ServerContextKey) != nil {
				panic(http.ErrAbortHandler)
			}
			return nil
		}
	} else {
		res.Body.Close() // at EOF already: fills res.Trailer
		f.pool.Put(fc)
	}
	if len(res.Trailer) > 0 {
		_ = http.NewResponseController(w).Flush()
		if len(res.Trailer) == announced {
			for k, vv := range res.Trailer {
				h[k] = append(h[k], vv...)
			}
		} else {
			for k, vv := range res.Trailer {
				h[http.TrailerPrefix+k] = append(h[http.TrailerPrefix+k], vv...)
			}
		}
	}
	return nil
}

// abort makes the connection's pending and future I/O fail at once: the
// viewer went away.
func (fc *fconn) abort() {
	fc.aborted.Store(true)
	_ = fc.C.SetDeadline(time.Unix(1, 0))
}

// roundTrip writes the request head and reads the final response header.
// 1xx informational answers are relayed to the viewer, at most max1xx of
// them, as httputil.ReverseProxy over net/http does.
func (f *fastClient) roundTrip(w http.ResponseWriter, fc *fconn, r *edge.Request, ep *endpoint) (*http.Response, error) {
	fc.Budget = maxResponseHeaderBytes
	if err := fc.arm(); err != nil { // one deadline for the whole header
		return nil, err
	}
	f.o.writeHead(fc.BW, r, ep)
	if err := fc.BW.Flush(); err != nil {
		return nil, connpool.NothingRead{Err: err}
	}
	if _, err := fc.BR.Peek(1); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, connpool.NothingRead{Err: err}
	}
	informational := 0
	for {
		res, err := connpool.ReadResponse(fc.BR, r.HTTP)
		if err != nil {
			return nil, err
		}
		switch {
		case res.StatusCode < 100 || res.StatusCode > 599:
			return nil, errBadStatus
		case res.StatusCode == http.StatusSwitchingProtocols:
			return nil, errors.New("origin switched protocols without an upgrade request")
		case res.StatusCode < 200:
			if informational++; informational > max1xx {
				return nil, errTooMany1xx
			}
			h := w.Header()
			for k, vv := range res.Header {
				h[k] = vv
			}
			w.WriteHeader(res.StatusCode)
			clear(h)
			continue
		}
		fc.Budget = -1
		return res, nil
	}
}

// copyBody streams the response body to the viewer, flushing at once when
// the body is a stream (unknown length, or server-sent events).
func (o *Origin) copyBody(w http.ResponseWriter, res *http.Response, fc *fconn) error {
	if res.Body == http.NoBody {
		return nil
	}
	stream := res.ContentLength < 0
	if !stream {
		if ct := res.Header["Content-Type"]; len(ct) > 0 && strings.HasPrefix(ct[0], "text/event-stream") {
			base, _, _ := mime.ParseMediaType(ct[0])
			stream = base == "text/event-stream"
		}
	}
	var rc *http.ResponseController
	if stream {
		rc = http.NewResponseController(w)
	}
	buf := o.bufs.Get()
	defer o.bufs.Put(buf)
	for {
		n, err := res.Body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return werr
			}
			if rc != nil {
				_ = rc.Flush()
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// fastAbortKind is the error kind of a fast-path response that broke off.
func (o *Origin) fastAbortKind(viewer context.Context, err error) kind {
	switch {
	case viewer.Err() != nil:
		return kindCanceled
	case isTimeout(err):
		return kindTimeout
	}
	return kindBody
}

// writeHead writes the origin request's line and header: the same header
// rules as rewrite and setHeaders, written directly.
func (o *Origin) writeHead(bw *bufio.Writer, r *edge.Request, ep *endpoint) {
	in := r.HTTP
	bw.WriteString(in.Method)
	bw.WriteByte(' ')
	bw.WriteString(o.rawPrefix)
	p := in.URL.EscapedPath()
	if p == "" || p[0] != '/' {
		bw.WriteByte('/')
	}
	bw.WriteString(p)
	if in.URL.RawQuery != "" || in.URL.ForceQuery {
		bw.WriteByte('?')
		bw.WriteString(in.URL.RawQuery)
	}
	bw.WriteString(" HTTP/1.1\r\nHost: ")
	bw.WriteString(ep.host)
	bw.WriteString("\r\n")

	h := in.Header
	var nominated []string
	for f := range hop.Nominated(h["Connection"]) {
		nominated = append(nominated, http.CanonicalHeaderKey(f))
	}
	var via []string
	for k, vv := range h {
		switch {
		case hop.Header(k) || o.edgeSets(k) || k == "Content-Length":
			continue
		case k == "Via":
			via = vv
			continue
		case slices.ContainsFunc(nominated, func(n string) bool { return strings.EqualFold(n, k) }):
			continue
		case k == "User-Agent":
			// As net/http writes it: the first value, if not empty.
			if len(vv) > 0 && vv[0] != "" {
				writeField(bw, k, vv[0])
			}
			continue
		}
		for _, v := range vv {
			writeField(bw, k, v)
		}
	}
	// As httputil.ReverseProxy: tell the origin we pass trailers on if
	// the viewer said it accepts them.
	if httpguts.HeaderValuesContainsToken(h["Te"], "trailers") {
		writeField(bw, "Te", "trailers")
	}
	xff, proto, host := forwarded(r)
	if xff != "" {
		writeField(bw, "X-Forwarded-For", xff)
	}
	writeField(bw, "X-Forwarded-Proto", proto)
	if host != "" {
		writeField(bw, "X-Forwarded-Host", host)
	}
	if len(via) > 0 {
		writeField(bw, "Via", strings.Join(via, ", ")+", "+o.via)
	} else {
		writeField(bw, "Via", o.via)
	}
	if r.ID != "" {
		writeField(bw, "X-Request-Id", r.ID)
	}
	for _, ch := range o.custom {
		writeField(bw, ch.key, ch.value[0])
	}
	bw.WriteString("\r\n")
}

// writeField writes one header field; the value is trimmed of surrounding
// blanks as net/http writes it.
func writeField(bw *bufio.Writer, k, v string) {
	bw.WriteString(k)
	bw.WriteString(": ")
	bw.WriteString(textproto.TrimString(v))
	bw.WriteString("\r\n")
}

// edgeSets reports the inbound headers replaced on the origin request: the
// forwarding headers, the request id and the custom headers. (Via is
// appended to, not replaced.)
func (o *Origin) edgeSets(k string) bool {
	switch k {
	case "Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Request-Id", "Host":
		return true
	}
	for _, ch := range o.custom {
		if ch.key == k {
			return true
		}
	}
	return false
}
