package origin

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgeward/edgeward/internal/edge"
)

// DefaultVia is the Via value the edge adds to origin requests and
// responses.
const DefaultVia = "1.1 edgeward"

// maxResponseHeaderBytes bounds an origin's response header.
const maxResponseHeaderBytes = 64 << 10

// Options are an origin's dependencies.
type Options struct {
	// Logger receives the proxy's internal diagnostics at debug level
	// (nil: discard). Request failures are returned, not logged.
	Logger *slog.Logger
	// Registerer receives the origin metrics (nil: no metrics).
	Registerer prometheus.Registerer
	// Via is the whole Via entry the edge appends, received-protocol and
	// pseudonym (default DefaultVia).
	Via string
}

// Origin forwards requests to one configured origin. It is safe for
// concurrent use.
type Origin struct {
	id            string
	policy        string
	plain, secure endpoint
	// prefix is the origin path without trailing slashes; rawPrefix is
	// its escaped form, and escaped reports whether that differs from
	// the default escaping (then every outbound URL needs a RawPath).
	prefix, rawPrefix string
	escaped           bool
	via               string
	custom            []customHeader
	responseTimeout   time.Duration
	// queueTimeout bounds the wait for a connection when max_conns is
	// set (0: no bound needed, the dial timeout covers it).
	queueTimeout time.Duration

	transport *http.Transport
	proxy     *httputil.ReverseProxy
	fast      *fastClient // nil when the origin is never reached over plain HTTP
	fastOff   bool        // tests only: always use proxy
	bufs      bufferPool
	m         *metrics
	closed    atomic.Bool // see Close
}

type customHeader struct {
	key   string
	value []string
}

// New builds the origin id from cfg (Defaults are applied, then Validate
// must pass).
func New(id string, cfg Config, opts Options) (*Origin, error) {
	cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("origin %q: %w", id, err)
	}
	u, _ := parseURL(cfg.URL) // valid: Validate passed
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m, err := newMetrics(opts.Registerer, id)
	if err != nil {
		return nil, fmt.Errorf("origin %q: metrics: %w", id, err)
	}
	o := &Origin{
		id:              id,
		policy:          cfg.ProtocolPolicy,
		prefix:          strings.TrimRight(u.Path, "/"),
		rawPrefix:       strings.TrimRight(u.EscapedPath(), "/"),
		via:             opts.Via,
		responseTimeout: cfg.ResponseTimeout,
		m:               m,
	}
	o.escaped = o.rawPrefix != (&url.URL{Path: o.prefix}).EscapedPath()
	if o.via == "" {
		o.via = DefaultVia
	}
	if cfg.MaxConns > 0 {
		o.queueTimeout = cfg.ConnectTimeout
	}
	o.plain, o.secure = cfg.endpoints(u)
	for k, v := range cfg.CustomHeaders {
		o.custom = append(o.custom, customHeader{key: http.CanonicalHeaderKey(k), value: []string{v}})
	}

	tlsConf := &tls.Config{ServerName: cfg.ServerName, MinVersion: tls.VersionTLS12}
	if cfg.CAFile != "" {
		if tlsConf.RootCAs, err = loadCA(cfg.CAFile); err != nil {
			return nil, fmt.Errorf("origin %q: %w", id, err)
		}
	}
	o.bufs = newBufferPool()
	dialer := &net.Dialer{Timeout: cfg.ConnectTimeout, KeepAlive: 30 * time.Second}
	o.transport = &http.Transport{
		Proxy:                  nil, // never an environment proxy
		DialContext:            dialer.DialContext,
		TLSClientConfig:        tlsConf,
		TLSHandshakeTimeout:    cfg.ConnectTimeout,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           cfg.MaxIdleConns,
		MaxIdleConnsPerHost:    cfg.MaxIdleConns,
		MaxConnsPerHost:        cfg.MaxConns,
		IdleConnTimeout:        cfg.IdleTimeout,
		ResponseHeaderTimeout:  cfg.ResponseTimeout,
		ExpectContinueTimeout:  time.Second,
		DisableCompression:     true, // encodings pass through untouched
		MaxResponseHeaderBytes: maxResponseHeaderBytes,
		WriteBufferSize:        16 << 10,
		ReadBufferSize:         16 << 10,
	}
	o.proxy = &httputil.ReverseProxy{
		Rewrite:        o.rewrite,
		Transport:      o.transport,
		ModifyResponse: o.modifyResponse,
		ErrorHandler:   captureError,
		BufferPool:     o.bufs,
		ErrorLog:       slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	if o.policy != HTTPSOnly && cfg.MaxConns == 0 {
		o.fast = newFastClient(o, dialer, cfg)
	}
	return o, nil
}

// ID returns the origin's id, as configured.
func (o *Origin) ID() string { return o.id }

// Close releases the origin's connections: idle ones at once, and every
// connection in use when its request ends, so that an origin replaced by a
// configuration reload keeps no socket or buffer open. Requests still in
// flight finish; a request started after Close (a background revalidation
// of the cache) still works, on a connection that is closed after it.
func (o *Origin) Close() {
	o.closed.Store(true)
	o.transport.CloseIdleConnections()
	if o.fast != nil {
		o.fast.pool.Close()
	}
}

// endpoint returns where a request from a viewer that used scheme goes.
func (o *Origin) endpoint(scheme string) *endpoint {
	switch o.policy {
	case HTTPOnly:
		return &o.plain
	case MatchViewer:
		if scheme != "https" {
			return &o.plain
		}
	}
	return &o.secure
}

// call is the state of one Forward call, reachable from the proxy's hooks
// through the request context.
type call struct {
	o      *Origin
	r      *edge.Request
	ep     *endpoint
	start  time.Time
	cancel context.CancelFunc
	err    error // captured by the ErrorHandler
	// timedOut is set when one of our own timers (body read, connection
	// queue) cancelled the request.
	timedOut atomic.Bool
	counted  bool
}

type callKey struct{}

func callOf(ctx context.Context) *call { return ctx.Value(callKey{}).(*call) }

// timeout cancels the origin request because a timer of ours fired.
func (c *call) timeout() {
	c.timedOut.Store(true)
	c.cancel()
}

// Forward implements edge.Origin: it sends r to the origin and streams the
// answer to w. It returns an *edge.Error, having written nothing, when the
// origin could not be reached (502), answered badly (502) or too slowly
// (504), or when the viewer went away first (StatusClientClosed, wrapping
// context.Canceled). A failure after the header was written aborts with
// panic(http.ErrAbortHandler).
func (o *Origin) Forward(w http.ResponseWriter, r *edge.Request) error {
	ep := o.endpoint(viewerScheme(r))
	if ep == &o.plain && o.fast != nil && !o.fastOff && fastEligible(r.HTTP) {
		o.m.requests[clientFast].Inc()
		return o.fast.forward(w, r, ep)
	}
	o.m.requests[clientProxy].Inc()
	c := &call{o: o, r: r, ep: ep, start: time.Now()}
	ctx, cancel := context.WithCancel(context.WithValue(r.HTTP.Context(), callKey{}, c))
	defer cancel()
	c.cancel = cancel
	if o.queueTimeout > 0 {
		t := time.AfterFunc(o.queueTimeout, c.timeout)
		defer t.Stop()
		ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
			GotConn: func(httptrace.GotConnInfo) { t.Stop() },
		})
	}
	var rw http.ResponseWriter = w
	var hw *hijackWatch
	if r.HTTP.Header["Upgrade"] != nil {
		hw = &hijackWatch{ResponseWriter: w}
		rw = hw
	}
	o.proxy.ServeHTTP(rw, r.HTTP.WithContext(ctx))
	if o.closed.Load() {
		// The transport pooled the connection again after Close.
		o.transport.CloseIdleConnections()
	}
	if c.err == nil {
		return nil
	}
	r.OriginTime = time.Since(c.start)
	k, e := o.classify(c.err, r.HTTP.Context(), c.timedOut.Load())
	o.m.errors[k].Inc()
	if hw != nil && hw.hijacked {
		// The 101 went out on a hijacked connection: nothing to render.
		panic(http.ErrAbortHandler)
	}
	return e
}

// viewerScheme is the scheme the viewer used to reach the edge.
func viewerScheme(r *edge.Request) string {
	if r.Scheme != "" {
		return r.Scheme
	}
	if r.HTTP.TLS != nil {
		return "https"
	}
	return "http"
}

// captureError is the proxy's ErrorHandler: it writes nothing, so that
// Forward can return the error and the edge can render it.
func captureError(_ http.ResponseWriter, req *http.Request, err error) {
	callOf(req.Context()).err = err
}

// rewrite builds the origin request (httputil.ReverseProxy.Rewrite). The
// proxy has already removed hop-by-hop headers and inbound forwarding
// headers from pr.Out.
func (o *Origin) rewrite(pr *httputil.ProxyRequest) {
	c := callOf(pr.In.Context())
	out, in := pr.Out, pr.In.URL
	u := out.URL
	u.Scheme, u.Host = c.ep.scheme, c.ep.addr
	u.Opaque, u.User, u.Fragment, u.RawFragment = "", nil, "", ""
	u.Path, u.RawPath = o.joinPath(in.Path, in.RawPath, in.EscapedPath)
	// The query goes as received (and as authorized), including what
	// the proxy's cleanQueryParams would drop.
	u.RawQuery, u.ForceQuery = in.RawQuery, in.ForceQuery
	out.Host = c.ep.host
	o.setHeaders(out.Header, c.r)
}

// joinPath joins the origin path and the request's canonical path, keeping
// the escaped form: it returns the URL's Path and RawPath (RawPath empty
// when the default escaping of Path gives the same string).
func (o *Origin) joinPath(path, rawPath string, escaped func() string) (string, string) {
	if path == "" || path[0] != '/' {
		path = "/" + path
	}
	joined := o.prefix + path
	if rawPath == "" && !o.escaped {
		return joined, ""
	}
	e := escaped()
	if e == "" || e[0] != '/' {
		e = "/" + e
	}
	return joined, o.rawPrefix + e
}

// setHeaders sets the headers the edge owns on the origin request h.
func (o *Origin) setHeaders(h http.Header, r *edge.Request) {
	xff, proto, host := forwarded(r)
	if xff != "" {
		h["X-Forwarded-For"] = []string{xff}
	}
	h["X-Forwarded-Proto"] = []string{proto}
	if host != "" {
		h["X-Forwarded-Host"] = []string{host}
	}
	appendVia(h, o.via)
	if r.ID != "" {
		h["X-Request-Id"] = []string{r.ID}
	}
	for _, ch := range o.custom {
		h[ch.key] = ch.value
	}
}

// forwarded returns the X-Forwarded-For, -Proto and -Host values for r:
// the trusted chain plus the peer, the viewer's scheme, and the host the
// viewer addressed.
func forwarded(r *edge.Request) (xff, proto, host string) {
	xff = r.ForwardedFor
	if ip := peerIP(r); ip != "" {
		if xff != "" {
			xff += ", " + ip
		} else {
			xff = ip
		}
	}
	host = r.Host
	if host == "" {
		host = r.HTTP.Host
	}
	return xff, viewerScheme(r), host
}

// peerIP is the address of the TCP peer as X-Forwarded-For writes it.
func peerIP(r *edge.Request) string {
	if r.Peer.IsValid() {
		return r.Peer.Addr().Unmap().String()
	}
	if host, _, err := net.SplitHostPort(r.HTTP.RemoteAddr); err == nil {
		return host
	}
	return ""
}

// appendVia appends via to the Via header of h (RFC 9110 section 7.6.3),
// as the last entry.
func appendVia(h http.Header, via string) {
	if v := h["Via"]; len(v) > 0 {
		h["Via"] = []string{strings.Join(v, ", ") + ", " + via}
		return
	}
	h["Via"] = []string{via}
}

// modifyResponse runs when the response header arrived, before it is
// written to the viewer (hop-by-hop headers are already removed).
func (o *Origin) modifyResponse(res *http.Response) error {
	if res.StatusCode < 100 || res.StatusCode > 599 {
		return errBadStatus // net/http would panic writing it
	}
	c := callOf(res.Request.Context())
	d := time.Since(c.start)
	c.r.OriginTime = d
	o.m.latency.Observe(d.Seconds())
	o.m.response(res.StatusCode)
	appendVia(res.Header, o.via)
	if res.StatusCode != http.StatusSwitchingProtocols && res.Body != nil && res.Body != http.NoBody {
		res.Body = &body{rc: res.Body, c: c}
	}
	return nil
}

// body bounds each read of the origin's response body by the response
// timeout (CloudFront's origin read timeout also applies between packets),
// so a stalled origin cannot hold a viewer forever. The clock runs only
// while waiting for the origin, not while a slow viewer is written to.
type body struct {
	rc io.ReadCloser
	c  *call
	t  *time.Timer
}

func (b *body) Read(p []byte) (int, error) {
	if b.t == nil {
		b.t = time.AfterFunc(b.c.o.responseTimeout, b.c.timeout)
	} else {
		b.t.Reset(b.c.o.responseTimeout)
	}
	n, err := b.rc.Read(p)
	b.t.Stop()
	if err != nil && err != io.EOF && !b.c.counted {
		b.c.counted = true
		b.c.o.m.errors[b.c.o.abortKind(b.c)].Inc()
	}
	return n, err
}

func (b *body) Close() error {
	if b.t != nil {
		b.t.Stop()
	}
	return b.rc.Close()
}

// abortKind is the error kind of a response that broke off mid-body.
func (o *Origin) abortKind(c *call) kind {
	switch {
	case c.timedOut.Load():
		return kindTimeout
	case c.r.HTTP.Context().Err() != nil:
		return kindCanceled
	}
	return kindBody
}

// hijackWatch records whether the proxy hijacked the viewer's connection
// for a protocol switch, after which no error can be rendered.
type hijackWatch struct {
	http.ResponseWriter
	hijacked bool
}

func (h *hijackWatch) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	h.hijacked = err == nil
	return conn, brw, err
}

// Unwrap lets http.ResponseController reach the viewer's writer.
func (h *hijackWatch) Unwrap() http.ResponseWriter { return h.ResponseWriter }

// bufferPool recycles the proxy's copy buffers without allocating per
// request.
type bufferPool chan []byte

func newBufferPool() bufferPool { return make(bufferPool, 256) }

func (p bufferPool) Get() []byte {
	select {
	case b := <-p:
		return b
	default:
		return make([]byte, 32<<10)
	}
}

func (p bufferPool) Put(b []byte) {
	select {
	case p <- b:
	default:
	}
}

var _ edge.Origin = (*Origin)(nil)
