package edge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"runtime/debug"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/edgeward/edgeward/internal/requestid"
	"github.com/edgeward/edgeward/internal/transport"
)

// exchange is the per-request state of the pipeline. It is reused through
// a sync.Pool; nothing in it is handed to code that may outlive the
// request except through Request, whose contract forbids keeping it.
type exchange struct {
	req Request
	out http.Request // the forwarded request: a copy, so that a function
	url url.URL      // changing the method or URL never changes net/http's view
	vw  viewerWriter
	rec Record

	snap    *snapshot
	route   *route
	frame   transport.Framing // the framing guard's word (HTTP/1.x)
	body    *bodyCounter
	bw      *bufferWriter
	idv     []string
	path    string // canonical escaped path
	urlPath string // URL.Path and URL.RawPath as set for path
	urlRaw  string
	bytesIn int64

	// Tracing (trace.go): the request's span and context, and the
	// function's and cache's spans while they run; nil when off.
	tctx                context.Context
	tspan, fspan, cspan trace.Span

	trusted   bool
	closeConn bool // answer with Connection: close
	abort     bool // re-panic with http.ErrAbortHandler once logged
}

func (s *Server) getExchange() *exchange {
	if x, ok := s.pool.Get().(*exchange); ok {
		return x
	}
	return new(exchange)
}

func (s *Server) putExchange(x *exchange) {
	*x = exchange{}
	s.pool.Put(x)
}

// ServeHTTP runs the pipeline for one viewer request that did not come
// through the edge's own listener (no framing guard).
func (s *Server) ServeHTTP(w http.ResponseWriter, hr *http.Request) {
	s.serve(w, hr, transport.Framing{})
}

// serve runs the pipeline for one viewer request with the transport's word
// on its framing.
func (s *Server) serve(w http.ResponseWriter, hr *http.Request, f transport.Framing) {
	x := s.getExchange()
	x.frame = f
	s.begin(x, w, hr)
	defer s.finish(x)
	s.pipeline(x, w, hr)
}

// begin fills the exchange from what the connection says: peer, trust,
// TLS, and the request id, which every response from here on carries.
func (s *Server) begin(x *exchange, w http.ResponseWriter, hr *http.Request) {
	now := time.Now()
	snap := s.acquire()
	s.m.inFlight.Inc()
	x.snap = snap
	x.out = *hr
	if hr.URL != nil {
		x.url = *hr.URL
		x.out.URL = &x.url
	}
	r := &x.req
	r.HTTP = &x.out
	r.Start = now
	r.owned = snap.owned.hasFn
	peer, _ := netip.ParseAddrPort(hr.RemoteAddr)
	peer = netip.AddrPortFrom(peer.Addr().Unmap(), peer.Port())
	r.Peer, r.Client = peer, peer
	x.trusted = len(snap.trusted) > 0 && snap.isTrusted(peer.Addr())
	if t := x.frame.TLS(); t != nil && x.out.TLS == nil {
		x.out.TLS = t
	}
	r.Scheme = "http"
	if x.out.TLS != nil {
		r.Scheme = "https"
	}
	r.Host = hr.Host
	id := ""
	if x.trusted {
		if v := hr.Header["X-Request-Id"]; len(v) == 1 && requestid.Valid(v[0]) {
			id = v[0]
		}
	}
	if id == "" {
		id = s.ids.Next()
	}
	r.ID = id
	x.idv = []string{id}
	x.vw = viewerWriter{rw: w, id: x.idv, start: now, frame: x.frame}
	w.Header()["X-Request-Id"] = x.idv
	if snap.access != nil {
		x.bytesIn = headBytes(hr)
	}
	if s.tracer != nil {
		s.traceBegin(x, hr)
	}
}

// pipeline runs the stages in order; each either lets the request go on
// or answers it.
func (s *Server) pipeline(x *exchange, w http.ResponseWriter, hr *http.Request) {
	if err := s.viewerRequest(x, w, hr); err != nil {
		s.renderError(x, err)
		return
	}
	rt := x.snap.match(x.path)
	x.route = rt
	x.req.Behavior = &rt.b
	if !rt.allows(x.out.Method) {
		s.renderError(x, &Error{Status: http.StatusMethodNotAllowed, Msg: "method not allowed",
			Header: http.Header{"Allow": {rt.allow}}})
		return
	}
	pr := rt.b.Protection
	if pr != nil {
		allowed, done := s.protect(x, pr)
		if done {
			return
		}
		if allowed {
			pr = nil
		}
	}
	if rt.b.ResponseHeaders != nil && s.viewerResponseHeaders(x, rt) {
		return // a CORS preflight answered at the edge
	}
	if rt.b.Function != nil {
		done, err := s.viewerRequestFunction(x, rt)
		if err != nil {
			s.renderError(x, err)
			return
		}
		if done {
			return
		}
	}
	if pr != nil && s.protectAuthorized(x, pr) {
		return
	}
	s.cache(x, rt)
}

// viewerRequest is the first stage: framing verdict, request target,
// limits, header hygiene and the canonical path.
func (s *Server) viewerRequest(x *exchange, w http.ResponseWriter, hr *http.Request) error {
	if status, reason := x.frame.Refused(); status != 0 {
		x.closeConn = true
		return &Error{Status: status, Msg: "malformed request: " + reason}
	}
	if hr.Method == http.MethodConnect {
		return &Error{Status: http.StatusMethodNotAllowed, Msg: "CONNECT is not served",
			Header: http.Header{"Allow": {x.snap.routes[len(x.snap.routes)-1].allow}}}
	}
	if int64(len(hr.RequestURI)) > int64(x.snap.cfg.Limits.MaxURIBytes) {
		return &Error{Status: http.StatusRequestURITooLong, Msg: "request target too long"}
	}
	raw, absolute, err := targetPath(hr.RequestURI)
	if err != nil {
		return err
	}
	if err := s.limitBody(x, w, hr); err != nil {
		return err
	}
	s.hygiene(x)
	return s.canonicalPath(x, raw, absolute)
}

// hygiene strips hop-by-hop headers, Connection-nominated headers, owned
// headers and request trailers, records what a trusted proxy reported, and sets the
// request id on the forwarded request.
func (s *Server) hygiene(x *exchange) {
	h := x.out.Header
	if h == nil {
		h = make(http.Header)
		x.out.Header = h
	}
	f := cleanHeaders(h, x.snap.owned, x.trusted, isWebSocket(&x.out))
	// Request trailers are never forwarded: they arrive after the body,
	// long after this hygiene ran, and a trailer section could otherwise
	// carry owned headers (x-user-id, the credential) to an origin that
	// merges trailers into its headers.
	x.out.Trailer = nil
	if x.trusted {
		r := &x.req
		if f.forFor != "" {
			r.ForwardedFor = f.forFor
			r.Client = clientFromChain(f.forFor, r.Peer, x.snap.isTrusted)
		}
		if f.proto != "" {
			r.Scheme = f.proto
		}
		if f.host != "" {
			r.Host = f.host
		}
	}
	h["X-Request-Id"] = x.idv
}

// canonicalPath makes the path canonical once, and sets it on the
// forwarded request so that every later stage and the origin see exactly
// the value that is matched and authorized.
func (s *Server) canonicalPath(x *exchange, raw string, absolute bool) error {
	canon, err := Canonicalize(raw, x.snap.pathOpts)
	if err != nil {
		return err
	}
	x.path = canon
	u := &x.url
	if absolute {
		// The authority of an absolute-form target never selects an
		// origin; the forwarded URL is origin-form.
		u.Scheme, u.Host, u.Opaque, u.User = "", "", "", nil
	}
	if absolute || !urlHasPath(u, canon) {
		dec, err := url.PathUnescape(canon)
		if err != nil {
			return err // cannot happen: canon is valid
		}
		u.Path, u.RawPath = dec, canon
		x.out.RequestURI = canon
		if u.RawQuery != "" || u.ForceQuery {
			x.out.RequestURI = canon + "?" + u.RawQuery
		}
	}
	x.urlPath, x.urlRaw = u.Path, u.RawPath
	return nil
}

// urlHasPath reports whether u's escaped path is certainly canon, checked
// without the allocation of u.EscapedPath: only for a path that needs no
// RawPath (net/url escapes "!'()*" when RawPath is empty).
func urlHasPath(u *url.URL, canon string) bool {
	return u.RawPath == "" && u.Path == canon && !strings.ContainsAny(canon, "!'()*%")
}

// viewerRequestFunction runs the behavior's viewer-request function. done
// means it answered the viewer itself.
func (s *Server) viewerRequestFunction(x *exchange, rt *route) (done bool, err error) {
	if x.tspan != nil {
		s.traceFunctionStart(x, rt)
	}
	resp, err := s.callFunction(x, rt)
	if x.fspan != nil {
		s.traceFunctionEnd(x, resp, err)
	}
	if err != nil {
		return false, err
	}
	if resp != nil {
		x.req.Result = ResultFunctionGeneratedResponse
		if err := s.writeResponse(x, resp); err != nil {
			return false, err
		}
		return true, nil
	}
	if err := s.checkMethod(x, rt); err != nil {
		return false, err
	}
	return false, s.checkPath(x)
}

// checkMethod verifies that a method the function changed is one the
// behavior serves: a function never sends the origin a method (CONNECT,
// TRACE, ...) that the viewer could not have sent itself.
func (s *Server) checkMethod(x *exchange, rt *route) error {
	if hr := x.req.HTTP; hr != nil && !rt.allows(hr.Method) {
		return &Error{Status: http.StatusInternalServerError, Msg: "internal error",
			Err: fmt.Errorf("function %q changed the method to %q, which behavior %q does not serve", rt.b.FunctionName, hr.Method, rt.b.PathPattern)}
	}
	return nil
}

// callFunction calls the function, turning a panic into a 500: a broken
// function never lets a request through.
func (s *Server) callFunction(x *exchange, rt *route) (resp *Response, err error) {
	defer func() {
		if p := recover(); p != nil {
			s.m.panics.WithLabelValues("viewer_request").Inc()
			s.log.Error("viewer-request function panicked", "function", rt.b.FunctionName,
				"request_id", x.req.ID, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			resp, err = nil, &Error{Status: http.StatusInternalServerError, Msg: "internal error",
				Err: fmt.Errorf("function %q panicked: %v", rt.b.FunctionName, p)}
		}
	}()
	return rt.b.Function.ViewerRequest(x.out.Context(), &x.req)
}

// checkPath verifies that a path the function changed is still canonical:
// the origin must get exactly the path that was authorized.
func (s *Server) checkPath(x *exchange) error {
	hr := x.req.HTTP
	if hr == nil || hr.URL == nil {
		return &Error{Status: http.StatusInternalServerError, Msg: "internal error", Err: errors.New("function left no request")}
	}
	if hr.URL.Path == x.urlPath && hr.URL.RawPath == x.urlRaw {
		return nil
	}
	ep := hr.URL.EscapedPath()
	canon, err := Canonicalize(ep, x.snap.pathOpts)
	if err != nil || canon != ep {
		return &Error{Status: http.StatusInternalServerError, Msg: "internal error",
			Err: fmt.Errorf("function %q left a non-canonical path %q", x.route.b.FunctionName, ep)}
	}
	x.path = canon
	return nil
}

// cache is the cache stage: the behavior's cache, which calls the origin on
// a miss, or the origin directly. With a viewer-response function the
// answer is buffered for it.
func (s *Server) cache(x *exchange, rt *route) {
	var w http.ResponseWriter = &x.vw
	if rt.b.ResponseFunction != nil {
		x.bw = newBufferWriter(int(x.snap.cfg.ResponseBufferMax))
		w = x.bw
	}
	w = wrapResponseHeaders(w, rt, &x.req)
	var err error
	o := rt.b.Origin
	if x.tspan != nil {
		o = s.traceCacheStart(x, o)
	}
	if c := rt.b.Cache; c != nil {
		err = c.Serve(w, &x.req, o)
	} else {
		x.vw.xcache = xCacheMiss
		err = o.Forward(w, &x.req)
	}
	if x.cspan != nil {
		s.traceCacheEnd(x, err)
	}
	if err != nil {
		s.renderError(x, s.bodyFraming(x, err))
		return
	}
	if x.req.Result == "" {
		x.req.Result = ResultMiss
	}
	if x.bw != nil {
		s.viewerResponse(x, rt)
	}
}

// bodyFraming replaces the error of a stage that failed while reading the
// request body: a body the framing guard found malformed, or one net/http
// could not read (a malformed chunk or trailer, too much chunk overhead) is
// the viewer's fault, 400, not a bad origin; one that stopped arriving is
// 408. A viewer that went away mid-body keeps the stage's error (499), and
// so does every HTTP/2 request.
func (s *Server) bodyFraming(x *exchange, err error) error {
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		return err
	}
	if !x.frame.Guarded() {
		return err // HTTP/2 reports a viewer that went away in its own words
	}
	if status, reason := x.frame.Refused(); status != 0 {
		x.closeConn = true
		return &Error{Status: status, Msg: "malformed request: " + reason, Err: err}
	}
	if x.body == nil {
		return err
	}
	be := x.body.readErr()
	var ne net.Error
	switch {
	case be == nil, errors.Is(be, io.ErrUnexpectedEOF), errors.Is(be, net.ErrClosed):
		return err
	case errors.As(be, &mb):
		x.closeConn = true
		return &Error{Status: http.StatusRequestEntityTooLarge, Msg: "request body too large", Err: err}
	case errors.As(be, &ne) && ne.Timeout():
		x.closeConn = true
		return &Error{Status: http.StatusRequestTimeout, Msg: "request body not received in time", Err: err}
	case errors.As(be, &ne):
		return err // the connection failed: the viewer is gone
	}
	x.closeConn = true
	return &Error{Status: http.StatusBadRequest, Msg: "malformed request body", Err: err}
}

// viewerResponse gives the buffered answer to the viewer-response function
// and sends what it returns.
func (s *Server) viewerResponse(x *exchange, rt *route) {
	if x.bw.over {
		s.renderError(x, &Error{Status: http.StatusBadGateway, Msg: "response too large", Err: errResponseTooLarge})
		return
	}
	orig := x.bw.response()
	resp, err := s.callResponseFunction(x, rt, orig)
	if err != nil {
		s.renderError(x, err)
		return
	}
	if resp == nil {
		resp = orig
	}
	if err := s.writeResponse(x, resp); err != nil {
		s.renderError(x, err)
	}
}

func (s *Server) callResponseFunction(x *exchange, rt *route, resp *Response) (out *Response, err error) {
	defer func() {
		if p := recover(); p != nil {
			s.m.panics.WithLabelValues("viewer_response").Inc()
			s.log.Error("viewer-response function panicked", "function", rt.b.FunctionName,
				"request_id", x.req.ID, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			out, err = nil, &Error{Status: http.StatusInternalServerError, Msg: "internal error",
				Err: fmt.Errorf("viewer-response function %q panicked: %v", rt.b.FunctionName, p)}
		}
	}()
	return rt.b.ResponseFunction.ViewerResponse(x.out.Context(), &x.req, resp)
}
