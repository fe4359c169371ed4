package edge

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// This file is the viewer-response stage's response headers policy
// (CloudFront's response headers policy): CORS headers, security headers,
// custom headers, removed headers and Server-Timing, applied to every
// answer that goes through the cache stage (from the cache or the origin)
// just before its header is written, and CORS preflights answered at the
// edge. Managed policies by name are in managedheaders.go.

// ResponseHeadersConfig is a custom response headers policy (a behavior's
// response_headers: block).
type ResponseHeadersConfig struct {
	// CORS adds the CORS response headers to CORS requests (those with an
	// Origin header) whose origin is allowed.
	CORS *CORSConfig `yaml:"cors,omitempty"`
	// Security sets the security headers.
	Security SecurityHeaders `yaml:"security,omitempty"`
	// Custom sets any other header.
	Custom []CustomHeader `yaml:"custom,omitempty"`
	// Remove lists headers taken out of every response (Server,
	// X-Powered-By, ...). The edge's own X-Request-Id, framing and
	// hop-by-hop headers cannot be removed.
	Remove []string `yaml:"remove,omitempty"`
	// ServerTiming adds a Server-Timing header with the cache result, the
	// request id and the time spent at the origin and in the decision.
	ServerTiming *ServerTimingConfig `yaml:"server_timing,omitempty"`
}

// CORSConfig is the CORS part of a response headers policy.
type CORSConfig struct {
	// AllowOrigins lists the allowed origins ("https://app.example.com"),
	// or "*" for any. Required.
	AllowOrigins []string `yaml:"allow_origins,omitempty"`
	// AllowMethods is Access-Control-Allow-Methods, or ["ALL"] for every
	// method the behavior serves.
	AllowMethods []string `yaml:"allow_methods,omitempty"`
	// AllowHeaders is Access-Control-Allow-Headers ("*" allowed).
	AllowHeaders []string `yaml:"allow_headers,omitempty"`
	// ExposeHeaders is Access-Control-Expose-Headers ("*" allowed).
	ExposeHeaders []string `yaml:"expose_headers,omitempty"`
	// AllowCredentials sends Access-Control-Allow-Credentials: true. It
	// cannot be used with the "*" origin.
	AllowCredentials bool `yaml:"allow_credentials,omitempty"`
	// MaxAge is Access-Control-Max-Age (whole seconds; 0 sends none).
	MaxAge time.Duration `yaml:"max_age,omitempty"`
	// OriginOverride replaces CORS headers the origin sent; by default the
	// origin's win (CloudFront's OriginOverride).
	OriginOverride bool `yaml:"origin_override,omitempty"`
	// Preflight is where a preflight request (OPTIONS with Origin and
	// Access-Control-Request-Method) is answered: "edge" (default for a
	// custom policy) answers it with 204 before the viewer-request
	// function runs, since a browser sends no credentials on a preflight;
	// "origin" lets it go on like any request and adds the headers to the
	// origin's answer, as CloudFront does (the managed policies' setting).
	// Either way the behavior must allow OPTIONS.
	Preflight string `yaml:"preflight,omitempty"`
}

// Preflight modes.
const (
	PreflightEdge   = "edge"
	PreflightOrigin = "origin"
)

// SecurityHeaders are the security headers of a policy, each a full
// header value.
type SecurityHeaders struct {
	StrictTransportSecurity *HeaderValue `yaml:"strict_transport_security,omitempty"`
	ContentTypeOptions      *HeaderValue `yaml:"content_type_options,omitempty"`
	FrameOptions            *HeaderValue `yaml:"frame_options,omitempty"`
	ReferrerPolicy          *HeaderValue `yaml:"referrer_policy,omitempty"`
	XSSProtection           *HeaderValue `yaml:"xss_protection,omitempty"`
	ContentSecurityPolicy   *HeaderValue `yaml:"content_security_policy,omitempty"`
}

// HeaderValue is one header value and whether it replaces the origin's.
type HeaderValue struct {
	Value string `yaml:"value,omitempty"`
	// Override replaces a value the origin sent; by default the origin's
	// value is kept and this one is added only when the origin sent none.
	Override bool `yaml:"override,omitempty"`
}

// CustomHeader is one custom response header.
type CustomHeader struct {
	Name     string `yaml:"name,omitempty"`
	Value    string `yaml:"value,omitempty"`
	Override bool   `yaml:"override,omitempty"`
}

// ServerTimingConfig turns on the Server-Timing header.
type ServerTimingConfig struct {
	Enabled bool `yaml:"enabled,omitempty"`
	// SamplingRate is the percentage of responses that get the header
	// (0-100; default 100).
	SamplingRate *float64 `yaml:"sampling_rate,omitempty"`
}

// Validate reports every problem, each prefixed with its key.
func (c *ResponseHeadersConfig) Validate() error {
	var errs []error
	add := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if cors := c.CORS; cors != nil {
		if len(cors.AllowOrigins) == 0 {
			add("cors.allow_origins", "required (origins such as https://app.example.com, or \"*\")")
		}
		for i, o := range cors.AllowOrigins {
			if o != "*" && !strings.Contains(o, "://") {
				add(fmt.Sprintf("cors.allow_origins[%d]", i), "%q is not \"*\" or scheme://host[:port]", o)
			}
			if o == "*" && cors.AllowCredentials {
				add("cors.allow_credentials", "cannot be used with the \"*\" origin (browsers refuse it)")
			}
		}
		for i, m := range cors.AllowMethods {
			if m != "ALL" && !validHeaderName(m) {
				add(fmt.Sprintf("cors.allow_methods[%d]", i), "%q is not a method", m)
			}
		}
		for _, l := range []struct {
			key   string
			names []string
		}{{"cors.allow_headers", cors.AllowHeaders}, {"cors.expose_headers", cors.ExposeHeaders}} {
			for i, h := range l.names {
				if h != "*" && !validHeaderName(h) {
					add(fmt.Sprintf("%s[%d]", l.key, i), "%q is not a header name", h)
				}
			}
		}
		if cors.MaxAge < 0 {
			add("cors.max_age", "must be >= 0")
		}
		switch cors.Preflight {
		case "", PreflightEdge, PreflightOrigin:
		default:
			add("cors.preflight", "want edge or origin, got %q", cors.Preflight)
		}
	}
	for _, s := range c.Security.list() {
		if s.v != nil && (s.v.Value == "" || !validFieldValue(s.v.Value)) {
			add("security."+s.key+".value", "required, a header value without control characters")
		}
	}
	for i, h := range c.Custom {
		p := fmt.Sprintf("custom[%d]", i)
		if !validHeaderName(h.Name) {
			add(p+".name", "%q is not a header name", h.Name)
		} else if owned(http.CanonicalHeaderKey(h.Name)) {
			add(p+".name", "%s is set by the edge and cannot be set by a policy", h.Name)
		}
		if !validFieldValue(h.Value) {
			add(p+".value", "contains control characters")
		}
	}
	for i, h := range c.Remove {
		if !validHeaderName(h) {
			add(fmt.Sprintf("remove[%d]", i), "%q is not a header name", h)
		} else if owned(http.CanonicalHeaderKey(h)) {
			add(fmt.Sprintf("remove[%d]", i), "%s cannot be removed", h)
		}
	}
	if st := c.ServerTiming; st != nil && st.SamplingRate != nil && (*st.SamplingRate < 0 || *st.SamplingRate > 100) {
		add("server_timing.sampling_rate", "must be between 0 and 100")
	}
	return errors.Join(errs...)
}

// owned lists the response headers a policy may neither set nor remove.
func owned(name string) bool {
	switch name {
	case "X-Request-Id", "Content-Length", "Content-Type", "Date", "Age", "X-Cache":
		return true
	}
	return isHop(name)
}

func validFieldValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

type namedValue struct {
	key, name string
	v         *HeaderValue
}

func (s *SecurityHeaders) list() []namedValue {
	return []namedValue{
		{"strict_transport_security", "Strict-Transport-Security", s.StrictTransportSecurity},
		{"content_type_options", "X-Content-Type-Options", s.ContentTypeOptions},
		{"frame_options", "X-Frame-Options", s.FrameOptions},
		{"referrer_policy", "Referrer-Policy", s.ReferrerPolicy},
		{"xss_protection", "X-Xss-Protection", s.XSSProtection},
		{"content_security_policy", "Content-Security-Policy", s.ContentSecurityPolicy},
	}
}

// ResponseHeaders is a compiled response headers policy: every header
// name canonical and every value a ready slice, so that applying it
// allocates only what varies per request.
type ResponseHeaders struct {
	set          []setHeader
	remove       []string
	cors         *cors
	serverTiming bool
	sampling     float64 // 0-1
}

type setHeader struct {
	name     string
	values   []string
	override bool
}

type cors struct {
	anyOrigin   bool
	origins     []string
	methods     []string // nil with allMethods
	allMethods  bool
	allow       []string // Access-Control-Allow-Methods value
	headers     []string // Access-Control-Allow-Headers value, or nil
	expose      []string // Access-Control-Expose-Headers value, or nil
	credentials bool
	maxAge      []string // Access-Control-Max-Age value, or nil
	override    bool
	edge        bool // preflights answered at the edge
}

// NewResponseHeaders compiles a validated policy.
func NewResponseHeaders(c ResponseHeadersConfig) (*ResponseHeaders, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	p := &ResponseHeaders{}
	for _, s := range c.Security.list() {
		if s.v != nil {
			p.set = append(p.set, setHeader{s.name, []string{s.v.Value}, s.v.Override})
		}
	}
	for _, h := range c.Custom {
		p.set = append(p.set, setHeader{http.CanonicalHeaderKey(h.Name), []string{h.Value}, h.Override})
	}
	for _, h := range c.Remove {
		p.remove = append(p.remove, http.CanonicalHeaderKey(h))
	}
	if st := c.ServerTiming; st != nil && st.Enabled {
		p.serverTiming, p.sampling = true, 1
		if st.SamplingRate != nil {
			p.sampling = *st.SamplingRate / 100
		}
	}
	if cc := c.CORS; cc != nil {
		k := &cors{
			anyOrigin:   slices.Contains(cc.AllowOrigins, "*"),
			origins:     cc.AllowOrigins,
			allMethods:  slices.Contains(cc.AllowMethods, "ALL"),
			credentials: cc.AllowCredentials,
			override:    cc.OriginOverride,
			edge:        cc.Preflight != PreflightOrigin,
		}
		if !k.allMethods {
			k.methods = cc.AllowMethods
		}
		methods := cc.AllowMethods
		if k.allMethods {
			methods = []string{"DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"}
		}
		if len(methods) > 0 {
			k.allow = []string{strings.Join(methods, ", ")}
		}
		if len(cc.AllowHeaders) > 0 {
			k.headers = []string{strings.Join(cc.AllowHeaders, ", ")}
		}
		if len(cc.ExposeHeaders) > 0 {
			k.expose = []string{strings.Join(cc.ExposeHeaders, ", ")}
		}
		if s := int64(cc.MaxAge / time.Second); s > 0 {
			k.maxAge = []string{strconv.FormatInt(s, 10)}
		}
		p.cors = k
	}
	return p, nil
}

// preflight reports whether r is a CORS preflight request.
func preflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && len(r.Header["Origin"]) == 1 &&
		len(r.Header["Access-Control-Request-Method"]) == 1
}

// allowOrigin returns the Access-Control-Allow-Origin value for a
// request's Origin, or "" when the origin is not allowed.
func (k *cors) allowOrigin(origin string) string {
	if k.anyOrigin && !k.credentials {
		return "*"
	}
	for _, o := range k.origins {
		if o == origin || o == "*" {
			return origin
		}
	}
	return ""
}

// apply sets the policy's headers on h, the header of the response to r,
// just before it is written.
func (p *ResponseHeaders) apply(h http.Header, r *Request) {
	for _, name := range p.remove {
		delete(h, name)
	}
	for _, s := range p.set {
		if _, ok := h[s.name]; ok && !s.override {
			continue
		}
		h[s.name] = s.values
	}
	if p.cors != nil {
		p.cors.apply(h, r.HTTP)
	}
	if p.serverTiming && (p.sampling >= 1 || rand.Float64() < p.sampling) {
		h["Server-Timing"] = append(h["Server-Timing"], serverTiming(r))
	}
}

// apply adds the CORS headers for a CORS request (one with Origin).
func (k *cors) apply(h http.Header, req *http.Request) {
	origins := req.Header["Origin"]
	if len(origins) != 1 {
		return
	}
	allow := k.allowOrigin(origins[0])
	if allow == "" {
		return
	}
	set := func(name string, v []string) {
		if v == nil {
			return
		}
		if _, ok := h[name]; ok && !k.override {
			return
		}
		h[name] = v
	}
	set("Access-Control-Allow-Origin", []string{allow})
	if allow != "*" {
		if !slices.Contains(h["Vary"], "Origin") {
			h["Vary"] = append(h["Vary"], "Origin")
		}
	}
	if k.credentials {
		set("Access-Control-Allow-Credentials", []string{"true"})
	}
	if preflight(req) {
		set("Access-Control-Allow-Methods", k.allow)
		set("Access-Control-Allow-Headers", k.headers)
		set("Access-Control-Max-Age", k.maxAge)
		return
	}
	set("Access-Control-Expose-Headers", k.expose)
}

// answerPreflight is the response to a preflight answered at the edge:
// 204 with the CORS headers when the origin and the requested method are
// allowed, 403 without them otherwise (the browser then refuses the
// request it was about to send).
func (p *ResponseHeaders) answerPreflight(r *Request) *Response {
	k := p.cors
	h := http.Header{"Cache-Control": {"no-store"}}
	method := r.HTTP.Header["Access-Control-Request-Method"][0]
	if k.allowOrigin(r.HTTP.Header["Origin"][0]) == "" || (!k.allMethods && !slices.Contains(k.methods, method)) {
		return &Response{Status: http.StatusForbidden, Header: h}
	}
	k.apply(h, r.HTTP)
	return &Response{Status: http.StatusNoContent, Header: h}
}

// serverTiming is the Server-Timing value for r (CloudFront's cdn-*
// metrics, edgeward's names where CloudFront has none).
func serverTiming(r *Request) string {
	var b strings.Builder
	switch r.Result {
	case ResultHit:
		b.WriteString("cdn-cache-hit")
	case ResultRefreshHit:
		b.WriteString("cdn-cache-refresh")
	default:
		b.WriteString("cdn-cache-miss")
	}
	b.WriteString(`, cdn-rid;desc="`)
	b.WriteString(r.ID)
	b.WriteByte('"')
	if r.OriginTime > 0 {
		fmt.Fprintf(&b, ", cdn-upstream-dur;dur=%.1f", float64(r.OriginTime)/float64(time.Millisecond))
	}
	if r.DecisionTime > 0 {
		fmt.Fprintf(&b, ", edge-decision;dur=%.1f", float64(r.DecisionTime)/float64(time.Millisecond))
	}
	fmt.Fprintf(&b, ", edge-total;dur=%.1f", float64(time.Since(r.Start))/float64(time.Millisecond))
	return b.String()
}

// headersWriter applies a response headers policy when the final status
// is written.
type headersWriter struct {
	http.ResponseWriter
	p       *ResponseHeaders
	r       *Request
	applied bool
}

// WriteHeader implements http.ResponseWriter.
func (w *headersWriter) WriteHeader(code int) {
	if code >= 200 && !w.applied {
		w.applied = true
		w.p.apply(w.ResponseWriter.Header(), w.r)
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write implements http.ResponseWriter.
func (w *headersWriter) Write(b []byte) (int, error) {
	if !w.applied {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Flush implements http.Flusher.
func (w *headersWriter) Flush() { _ = http.NewResponseController(w.ResponseWriter).Flush() }

// Unwrap lets http.ResponseController reach the viewer's writer.
func (w *headersWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// viewerResponseHeaders is the pipeline hook of the response headers
// policy: it answers a preflight at the edge (done true), or wraps w so
// that the policy applies to the answer.
func (s *Server) viewerResponseHeaders(x *exchange, rt *route) (done bool) {
	p := rt.b.ResponseHeaders
	if p.cors != nil && p.cors.edge && preflight(&x.out) {
		x.req.Result = ResultFunctionGeneratedResponse
		if err := s.writeResponse(x, p.answerPreflight(&x.req)); err != nil {
			s.renderError(x, err)
		}
		return true
	}
	return false
}

// wrapResponseHeaders returns w with the behavior's policy applied, or w.
func wrapResponseHeaders(w http.ResponseWriter, rt *route, r *Request) http.ResponseWriter {
	if p := rt.b.ResponseHeaders; p != nil {
		return &headersWriter{ResponseWriter: w, p: p, r: r}
	}
	return w
}
