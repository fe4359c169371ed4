package sideband

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/propagation"
	"golang.org/x/net/http/httpguts"
)

// Client defaults.
const (
	DefaultClientTimeout = 5 * time.Second
	// DefaultMaxIdleConns is the keep-alive pool per endpoint: at least
	// the number of decisions in flight at peak load, so that a burst
	// reuses connections instead of opening (and closing) new ones.
	DefaultMaxIdleConns = 256
	// maxErrorBody bounds what is read of a non-200 answer.
	maxErrorBody = 64 << 10
)

// ClientConfig configures a Client.
type ClientConfig struct {
	// ServiceURL is the sideband service's base URL, e.g.
	// https://http-access-api.pingone.com/v1/environments/<envId>. It may
	// carry a path and may end in "/"; it must not carry credentials, a
	// query or a fragment.
	ServiceURL string
	// ServiceURLs, when not empty, lists several services of one
	// deployment (ServiceURL is then ignored): calls are spread over them
	// round robin, a retry goes to another one, and one that keeps failing
	// leaves the rotation until a health probe finds it answering again.
	ServiceURLs []string
	// CredentialHeader is the header the gateway credential travels in
	// (DefaultCredentialHeader when empty).
	CredentialHeader string
	// Credential is the gateway credential, sent verbatim.
	Credential string
	// CAFile is a PEM file of the CAs that sign the service's certificate;
	// empty means the system roots. RootCAs, when set, takes precedence.
	CAFile  string
	RootCAs *x509.CertPool
	// Timeout bounds one call (DefaultClientTimeout when zero); the
	// caller's context may end it sooner.
	Timeout time.Duration
	// MaxReplyBytes bounds a reply body (DefaultMaxBody when zero): a
	// longer reply is malformed, not a decision.
	MaxReplyBytes int64
	// MaxIdleConns bounds the keep-alive pool of each endpoint
	// (DefaultMaxIdleConns when zero).
	MaxIdleConns int
	// Protocol is the HTTP version spoken to the services (ProtocolAuto
	// when empty).
	Protocol string
	// UnhealthyAfter is the number of consecutive failed calls that take
	// an endpoint out of rotation (DefaultUnhealthyAfter when zero); only
	// used with several endpoints.
	UnhealthyAfter int
	// ProbeInterval is how often an endpoint out of rotation is probed
	// (DefaultProbeInterval when zero).
	ProbeInterval time.Duration
}

// Protocols a Client speaks to a decision service.
const (
	// ProtocolAuto is HTTP/2 over TLS where the service offers it (ALPN),
	// HTTP/1.1 otherwise.
	ProtocolAuto = "auto"
	// ProtocolH2C is HTTP/2 without TLS, with prior knowledge (the service
	// must speak it: edgeward's decision service with h2c on, Envoy,
	// nginx's http2 on a plain listener); over https it is ProtocolAuto.
	ProtocolH2C = "h2c"
	// ProtocolHTTP1 is HTTP/1.1 only, TLS or not.
	ProtocolHTTP1 = "http1"
)

// Client calls a remote sideband service (PingOne Authorize, PingAuthorize
// or edgeward's own decision service) over HTTP. It makes exactly one
// attempt per call, never follows redirects, and returns either a decision
// or an error that wraps ErrTransport or ErrMalformedReply or is a
// *StatusError. Retries, breaking and fail-closed handling belong to the
// caller. A Client is safe for concurrent use.
type Client struct {
	endpoints      []*endpoint
	next           atomic.Uint64
	unhealthyAfter int
	probeInterval  time.Duration
	credHeader     string
	credential     string
	timeout        time.Duration
	maxReply       int64
	hc             *http.Client
	tr             *http.Transport
}

// NewClient validates cfg and returns a Client with its own keep-alive
// pool.
func NewClient(cfg ClientConfig) (*Client, error) {
	urls := cfg.ServiceURLs
	if len(urls) == 0 {
		urls = []string{cfg.ServiceURL}
	}
	c := &Client{
		credHeader:     cfg.CredentialHeader,
		credential:     cfg.Credential,
		timeout:        cfg.Timeout,
		maxReply:       cfg.MaxReplyBytes,
		unhealthyAfter: cfg.UnhealthyAfter,
		probeInterval:  cfg.ProbeInterval,
	}
	for _, u := range urls {
		base, err := serviceBase(u)
		if err != nil {
			return nil, err
		}
		c.endpoints = append(c.endpoints, &endpoint{base: base, requestURL: base + RequestPath, responseURL: base + ResponsePath})
	}
	if c.unhealthyAfter <= 0 {
		c.unhealthyAfter = DefaultUnhealthyAfter
	}
	if c.probeInterval <= 0 {
		c.probeInterval = DefaultProbeInterval
	}
	if c.credHeader == "" {
		c.credHeader = DefaultCredentialHeader
	}
	if !httpguts.ValidHeaderFieldName(c.credHeader) {
		return nil, fmt.Errorf("credential header: invalid header name %q", c.credHeader)
	}
	if !httpguts.ValidHeaderFieldValue(c.credential) {
		return nil, errors.New("credential: contains characters a header value cannot carry")
	}
	if c.timeout <= 0 {
		c.timeout = DefaultClientTimeout
	}
	if c.maxReply <= 0 {
		c.maxReply = DefaultMaxBody
	}
	idle := cfg.MaxIdleConns
	if idle <= 0 {
		idle = DefaultMaxIdleConns
	}
	roots := cfg.RootCAs
	if roots == nil && cfg.CAFile != "" {
		var err error
		if roots, err = loadCAs(cfg.CAFile); err != nil {
			return nil, err
		}
	}
	protocols, err := protocolsOf(cfg.Protocol)
	if err != nil {
		return nil, err
	}
	c.tr = &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   c.timeout,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		TLSClientConfig:        &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2:      true,
		Protocols:              protocols,
		MaxIdleConns:           idle * len(c.endpoints),
		MaxIdleConnsPerHost:    idle,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    c.timeout,
		MaxResponseHeaderBytes: maxErrorBody,
		// The replies are small JSON; compression would only hide their
		// real size from the reply limit.
		DisableCompression: true,
	}
	for _, e := range c.endpoints {
		e.h1 = c.newH1Hop(e, cfg.Protocol, idle)
	}
	c.hc = &http.Client{
		Transport: c.tr,
		// A redirect is not a decision (and following one would send the
		// credential to wherever it points).
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return c, nil
}

// serviceBase checks the service URL and returns it without trailing
// slashes, so that appending "/sideband/..." joins with exactly one "/".
func serviceBase(s string) (string, error) {
	u, err := url.Parse(s)
	switch {
	case err != nil || s == "":
		return "", fmt.Errorf("service URL: want an absolute http or https URL, got %q", s)
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("service URL: want an http or https URL, got scheme %q", u.Scheme)
	case u.Host == "":
		return "", fmt.Errorf("service URL: no host in %q", s)
	case u.User != nil:
		return "", errors.New("service URL: must not carry credentials (use the credential header)")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.ContainsAny(s, "?#"):
		return "", fmt.Errorf("service URL: must not have a query or fragment, got %q", s)
	}
	return strings.TrimRight(s, "/"), nil
}

func loadCAs(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("CA file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("CA file %s: no PEM certificates found", file)
	}
	return pool, nil
}

// protocolsOf maps a ClientConfig.Protocol to the transport's protocols.
func protocolsOf(p string) (*http.Protocols, error) {
	var ps http.Protocols
	switch p {
	case "", ProtocolAuto:
		ps.SetHTTP1(true)
		ps.SetHTTP2(true)
	case ProtocolH2C:
		// HTTP/2 over TLS stays on for https endpoints; a plain http one
		// gets HTTP/2 with prior knowledge, never HTTP/1.1.
		ps.SetHTTP2(true)
		ps.SetUnencryptedHTTP2(true)
	case ProtocolHTTP1:
		ps.SetHTTP1(true)
	default:
		return nil, fmt.Errorf("protocol: want %s, %s or %s, got %q", ProtocolAuto, ProtocolH2C, ProtocolHTTP1, p)
	}
	return &ps, nil
}

// URL returns the request-phase endpoint of the first service, for logs.
func (c *Client) URL() string { return c.endpoints[0].requestURL }

// Close releases the idle connections of the pool.
func (c *Client) Close() {
	c.tr.CloseIdleConnections()
	for _, e := range c.endpoints {
		if e.h1 != nil {
			e.h1.pool.Close()
		}
	}
}

// Request POSTs the request-phase body to <service_url>/sideband/request
// and returns the decision (see DecodeReply).
func (c *Client) Request(ctx context.Context, req *Request) (*Reply, error) {
	body, err := EncodeRequest(req)
	if err != nil {
		return nil, fmt.Errorf("sideband request: %w", err)
	}
	data, hdr, err := c.post(ctx, false, body)
	if err != nil {
		return nil, err
	}
	rep, err := DecodeReply(data)
	if err != nil {
		return nil, err
	}
	rep.CacheControl = hdr.Get("Cache-Control")
	return rep, nil
}

// Response POSTs the response-phase body to <service_url>/sideband/response
// (its state copied byte for byte) and returns the response to send.
func (c *Client) Response(ctx context.Context, req *ResponseRequest) (*Response, error) {
	body, err := EncodeResponseRequest(req)
	if err != nil {
		return nil, fmt.Errorf("sideband response request: %w", err)
	}
	data, _, err := c.post(ctx, true, body)
	if err != nil {
		return nil, err
	}
	return DecodeResponse(data)
}

// post makes the one attempt, to the request endpoint or (response) the
// response endpoint of the service pick chooses, and returns the body and
// header of a 200 answer.
func (c *Client) post(ctx context.Context, response bool, body []byte) ([]byte, http.Header, error) {
	e := c.pick(ctx)
	target := e.requestURL
	if response {
		target = e.responseURL
	}
	var data []byte
	var hdr http.Header
	var err error
	if e.h1 != nil {
		data, hdr, err = c.postH1(ctx, e.h1, response, body)
	} else {
		data, hdr, err = c.postTo(ctx, target, body)
	}
	var se *StatusError
	c.report(e, err != nil && (!errors.As(err, &se) || se.Status >= 500) && !errors.Is(err, context.Canceled))
	return data, hdr, err
}

func (c *Client) postTo(ctx context.Context, target string, body []byte) ([]byte, http.Header, error) {
	// The caller's deadline (the authorize function's budget) is usually
	// the sooner one: a second timer per call would never fire.
	if dl, ok := ctx.Deadline(); !ok || time.Until(dl) > c.timeout {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrTransport, err)
	}
	hreq.Header = http.Header{
		"Content-Type": {"application/json"},
		"Accept":       {"application/json"},
	}
	hreq.Header[c.credHeader] = []string{c.credential} // verbatim spelling, as Ping's plugins send it
	// The caller's trace, if any, goes along (W3C traceparent); without a
	// span in ctx this adds nothing.
	propagation.TraceContext{}.Inject(ctx, propagation.HeaderCarrier(hreq.Header))
	resp, err := c.hc.Do(hreq)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrTransport, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		se := statusError(resp)
		drain(resp)
		return nil, nil, se
	}
	data, err := c.readOK(resp)
	if err != nil {
		return nil, nil, err
	}
	return data, resp.Header, nil
}

// readOK checks a 200 answer and reads its body: a decision is JSON within
// the reply limit.
func (c *Client) readOK(resp *http.Response) ([]byte, error) {
	// An allow is the request echoed back, so any endpoint that reflects
	// what is POSTed to it would look like a service that allows
	// everything. A decision is JSON and says so.
	if ct := resp.Header.Get("Content-Type"); !jsonMediaType(ct) {
		return nil, fmt.Errorf("%w: Content-Type %q, want application/json", ErrMalformedReply, ct)
	}
	if resp.ContentLength > c.maxReply {
		return nil, fmt.Errorf("%w: reply of %d bytes is over the %d-byte limit", ErrMalformedReply, resp.ContentLength, c.maxReply)
	}
	data, err := readReply(resp, c.maxReply)
	if err != nil {
		return nil, fmt.Errorf("%w: reading the reply: %w", ErrTransport, err)
	}
	if int64(len(data)) > c.maxReply {
		return nil, fmt.Errorf("%w: reply over the %d-byte limit", ErrMalformedReply, c.maxReply)
	}
	return data, nil
}

// readReply reads a reply body of at most limit+1 bytes: in one buffer of
// the declared length when there is one (every Go and nginx service sends
// it for a small JSON body), else growing.
func readReply(resp *http.Response, limit int64) ([]byte, error) {
	if n := resp.ContentLength; n >= 0 && n <= limit {
		data := make([]byte, n)
		if _, err := io.ReadFull(resp.Body, data); err != nil {
			return nil, err
		}
		return data, nil
	}
	return io.ReadAll(io.LimitReader(resp.Body, limit+1))
}

// jsonMediaType reports whether a Content-Type is application/json or a
// +json type (RFC 6839), parameters allowed.
func jsonMediaType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	return mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))
}

// statusError builds the *StatusError for a non-200 answer, reading a
// bounded part of its body.
func statusError(resp *http.Response) *StatusError {
	se := &StatusError{Status: resp.StatusCode}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		se.RetryAfter = ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	}
	data, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '{' {
		_ = json.Unmarshal(t, &se.Body) // best effort: the status is the answer
	}
	return se
}

// drain reads what is left of a bounded part of resp's body, so that the
// connection goes back to the pool.
func drain(resp *http.Response) {
	_, _ = io.CopyN(io.Discard, resp.Body, maxErrorBody)
	resp.Body.Close()
}

// ParseRetryAfter reads a Retry-After value (RFC 9110 section 10.2.3):
// delay-seconds or an HTTP-date, relative to now. It returns 0 for an
// absent, invalid or past value.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		if n > int64(24*time.Hour/time.Second) {
			n = int64(24 * time.Hour / time.Second)
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
