package accesslog

import (
	"crypto/tls"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/edgeward/edgeward/internal/edge"
)

// Log is the access log: the edge's last stage, one line per finished
// request in the cloudfront or json format, written through a Sink.
type Log struct {
	sink     *Sink // nil when the log is off
	json     bool
	location string
	cookies  bool
	redact   []string
	now      func() time.Time
	trace    bool
}

// New builds the access log from cfg, after applying its defaults and
// validating it, and opens its sink. With opts.Writer set, cfg.Path is
// ignored. Close the log on shutdown to flush it.
func New(cfg LogConfig, opts Options) (*Log, error) {
	cfg.RedactQuery = slices.Clone(cfg.RedactQuery) // keeps nil (default) apart from empty (none)
	if opts.Writer != nil {
		cfg.Path = PathStdout
	}
	cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	l := &Log{
		json:     cfg.Format == FormatJSON,
		location: cfg.Location,
		cookies:  cfg.IncludeCookies,
		redact:   cfg.RedactQuery,
		now:      opts.Now,
		trace:    opts.TraceID,
	}
	if l.now == nil {
		l.now = time.Now
	}
	if cfg.Path == PathOff {
		return l, nil
	}
	if opts.Name == "" {
		opts.Name = "access"
	}
	if !l.json {
		opts.Header = []byte(w3cHeader)
		if l.trace {
			opts.Header = []byte(w3cTraceHeader)
		}
	}
	s, err := NewSink(cfg.SinkConfig, opts)
	if err != nil {
		return nil, err
	}
	l.sink = s
	return l, nil
}

// Log formats the record of one finished request and queues it. It never
// blocks; when the sink's queue is full the line is dropped and counted.
func (l *Log) Log(r *edge.Request, rec *edge.Record) {
	if l.sink == nil || r == nil || rec == nil {
		return
	}
	bp := l.sink.buffer()
	*bp = l.appendLine(*bp, r, rec)
	l.sink.submit(bp)
}

// Dropped returns how many lines were dropped because the sink was full.
func (l *Log) Dropped() uint64 {
	if l.sink == nil {
		return 0
	}
	return l.sink.Dropped()
}

// Close flushes and closes the log's sink.
func (l *Log) Close() error {
	if l.sink == nil {
		return nil
	}
	return l.sink.Close()
}

// appendLine appends the line for r and rec in l's format.
func (l *Log) appendLine(b []byte, r *edge.Request, rec *edge.Record) []byte {
	var e entry
	l.fill(&e, r, rec)
	fillResponse(&e, rec.Header)
	if l.json {
		return e.appendJSON(b)
	}
	return e.appendW3C(b)
}

// fill extracts the fields of one record from the request and the record.
func (l *Log) fill(e *entry, r *edge.Request, rec *edge.Record) {
	// date and time: when the response was finished, in UTC.
	if r.Start.IsZero() {
		e.when = l.now().UTC()
	} else {
		e.when = r.Start.Add(rec.TimeTaken).UTC()
	}
	e.location = l.location
	e.scBytes = nonNegative(rec.BytesOut)
	e.csBytes = nonNegative(rec.BytesIn)
	e.status = rec.Status
	e.timeTaken = rec.TimeTaken
	e.ttfb = rec.TimeToFirstB
	if rec.Status <= 0 {
		e.ttfb = -1 // nothing was written
	}

	// c-ip and c-port are the TCP peer; x-forwarded-for is the viewer a
	// trusted proxy reported, when it differs (CloudFront's meaning: c-ip
	// is the proxy or load balancer the viewer came through).
	peer := r.Peer
	if !peer.IsValid() {
		peer = r.Client
	}
	e.clientIP = peer.Addr()
	e.clientPort = int64(peer.Port())
	if e.clientPort == 0 {
		e.clientPort = -1
	}
	if c := r.Client.Addr(); c.IsValid() && c.Unmap() != e.clientIP.Unmap() {
		e.forwardedFor = c
	}

	e.requestID = r.ID
	e.trace, e.traceID = l.trace, r.TraceID
	e.hostHeader = r.Host
	e.protocol = r.Scheme
	if h := r.HTTP; h != nil {
		if e.hostHeader == "" {
			e.hostHeader = h.Host
		}
		e.method = h.Method
		e.uriStem, e.query = target(h)
		e.referer = first(h.Header, "Referer")
		e.userAgent = first(h.Header, "User-Agent")
		if l.cookies {
			e.cookies = h.Header["Cookie"]
		}
		e.protoVersion = protoVersion(h)
		if h.TLS != nil {
			e.sslProtocol = tlsVersion(h.TLS.Version)
			e.sslCipher = cipherName(h.TLS.CipherSuite)
			if e.protocol == "" {
				e.protocol = "https"
			}
		} else if e.protocol == "" {
			e.protocol = "http"
		}
	}
	e.host = hostname(e.hostHeader)
	e.redact = l.redact

	e.responseResult, e.result, e.detailedResult = results(r.Result, rec)
}

// fillResponse sets the fields CloudFront takes from the response header:
// sc-content-type, sc-content-len, and sc-range-start and sc-range-end
// from a Content-Range "bytes first-last/length".
func fillResponse(e *entry, h http.Header) {
	e.contentType = first(h, "Content-Type")
	e.contentLen, e.rangeStart, e.rangeEnd = -1, -1, -1
	if n, ok := parseCount(first(h, "Content-Length")); ok {
		e.contentLen = n
	}
	unit, spec, ok := strings.Cut(first(h, "Content-Range"), " ")
	if !ok || !strings.EqualFold(unit, "bytes") {
		return
	}
	span, _, _ := strings.Cut(spec, "/")
	from, to, ok := strings.Cut(span, "-")
	if !ok {
		return
	}
	start, ok1 := parseCount(from)
	end, ok2 := parseCount(to)
	if ok1 && ok2 && start <= end {
		e.rangeStart, e.rangeEnd = start, end
	}
}

// parseCount parses a non-negative decimal without allocating on bad
// input (strconv's errors allocate).
func parseCount(s string) (int64, bool) {
	if s == "" || len(s) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// results derives x-edge-response-result-type (how the response was
// classified before it was sent), x-edge-result-type (after the last byte)
// and x-edge-detailed-result-type. As in CloudFront, a 4xx or 5xx answer
// from the cache or the origin is an Error, a viewer gone before or during
// the response turns the final type into Error, and a response generated by
// a viewer-request function (a deny) keeps FunctionGeneratedResponse
// whatever its status.
func results(res edge.Result, rec *edge.Record) (response, final, detailed string) {
	switch res {
	case "", edge.ResultMiss, edge.ResultHit, edge.ResultRefreshHit:
		if res == "" {
			res = edge.ResultMiss
		}
		if rec.Status >= 400 {
			res = edge.ResultError
		}
	}
	response, final, detailed = string(res), string(res), string(res)
	switch {
	case rec.Status <= 0 || (rec.Err != nil && rec.Status < 400 && res != edge.ResultFunctionGeneratedResponse):
		// The viewer went away before the response started, or the
		// response was cut off after its header.
		final, detailed = string(edge.ResultError), "ClientCommError"
	case res == edge.ResultError:
		detailed = errorDetail(rec.Status)
	}
	return response, final, detailed
}

// errorDetail names the error types that the status alone identifies.
func errorDetail(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "InvalidRequest"
	case http.StatusMethodNotAllowed:
		return "InvalidRequestMethod"
	case http.StatusRequestHeaderFieldsTooLarge:
		return "InvalidRequestHeader"
	}
	return string(edge.ResultError)
}

// target returns the path and the query the viewer sent, from the raw
// request-target when the server kept it (CloudFront logs what the viewer
// asked for, not what a function rewrote it to), else from the URL.
func target(h *http.Request) (stem, query string) {
	uri := h.RequestURI
	if i := strings.Index(uri, "://"); i > 0 && uri[0] != '/' {
		// absolute-form: drop scheme and authority.
		rest := uri[i+3:]
		j := strings.IndexAny(rest, "/?")
		if j < 0 {
			return "/", ""
		}
		uri = rest[j:]
	}
	if uri != "" {
		stem, query, _ = strings.Cut(uri, "?")
		return stem, query
	}
	if h.URL == nil {
		return "", ""
	}
	return h.URL.EscapedPath(), h.URL.RawQuery
}

// first returns the first value of the header with canonical name key.
func first(h http.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// hostname strips the port from a Host value.
func hostname(hostport string) string {
	if i := strings.LastIndexByte(hostport, ':'); i >= 0 && !strings.Contains(hostport[i:], "]") {
		return hostport[:i]
	}
	return hostport
}

func protoVersion(h *http.Request) string {
	switch {
	case h.ProtoMajor == 1 && h.ProtoMinor == 1:
		return "HTTP/1.1"
	case h.ProtoMajor == 2:
		return "HTTP/2.0"
	case h.ProtoMajor == 1 && h.ProtoMinor == 0:
		return "HTTP/1.0"
	case h.ProtoMajor == 3:
		return "HTTP/3.0"
	}
	return h.Proto
}

func nonNegative(n int64) int64 {
	if n < 0 {
		return 0
	}
	return n
}

// tlsVersion names a TLS version as CloudFront's log does.
func tlsVersion(v uint16) string {
	switch v {
	case tls.VersionTLS13:
		return "TLSv1.3"
	case tls.VersionTLS12:
		return "TLSv1.2"
	case tls.VersionTLS11:
		return "TLSv1.1"
	case tls.VersionTLS10:
		return "TLSv1"
	case 0:
		return ""
	}
	return "unknown"
}

// cipherName names a cipher suite with its OpenSSL name, as CloudFront's
// log does (ECDHE-RSA-AES128-GCM-SHA256); TLS 1.3 suites keep their IANA
// names, which OpenSSL uses too.
func cipherName(id uint16) string {
	switch id {
	case tls.TLS_AES_128_GCM_SHA256:
		return "TLS_AES_128_GCM_SHA256"
	case tls.TLS_AES_256_GCM_SHA384:
		return "TLS_AES_256_GCM_SHA384"
	case tls.TLS_CHACHA20_POLY1305_SHA256:
		return "TLS_CHACHA20_POLY1305_SHA256"
	case tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256:
		return "ECDHE-RSA-AES128-GCM-SHA256"
	case tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256:
		return "ECDHE-ECDSA-AES128-GCM-SHA256"
	case tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384:
		return "ECDHE-RSA-AES256-GCM-SHA384"
	case tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384:
		return "ECDHE-ECDSA-AES256-GCM-SHA384"
	case tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256:
		return "ECDHE-RSA-CHACHA20-POLY1305"
	case tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256:
		return "ECDHE-ECDSA-CHACHA20-POLY1305"
	case tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA:
		return "ECDHE-RSA-AES128-SHA"
	case tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA:
		return "ECDHE-ECDSA-AES128-SHA"
	case tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA:
		return "ECDHE-RSA-AES256-SHA"
	case tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA:
		return "ECDHE-ECDSA-AES256-SHA"
	case tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256:
		return "ECDHE-RSA-AES128-SHA256"
	case tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256:
		return "ECDHE-ECDSA-AES128-SHA256"
	case tls.TLS_RSA_WITH_AES_128_GCM_SHA256:
		return "AES128-GCM-SHA256"
	case tls.TLS_RSA_WITH_AES_256_GCM_SHA384:
		return "AES256-GCM-SHA384"
	case tls.TLS_RSA_WITH_AES_128_CBC_SHA:
		return "AES128-SHA"
	case tls.TLS_RSA_WITH_AES_256_CBC_SHA:
		return "AES256-SHA"
	case tls.TLS_RSA_WITH_AES_128_CBC_SHA256:
		return "AES128-SHA256"
	case tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA:
		return "DES-CBC3-SHA"
	case tls.TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA:
		return "ECDHE-RSA-DES-CBC3-SHA"
	case 0:
		return ""
	}
	return tls.CipherSuiteName(id)
}

var _ edge.Logger = (*Log)(nil)
