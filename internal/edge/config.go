package edge

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/edgeward/edgeward/internal/size"
)

// Config is the viewer side of the edge file: the listener, its limits and
// the request hygiene rules. The zero value plus Defaults is a safe plain
// HTTP listener on loopback.
type Config struct {
	// Listen is the viewer listener's host:port (default 127.0.0.1:8080).
	Listen string `yaml:"listen"`
	// TLS turns the listener into HTTPS with HTTP/2 when both files are set.
	TLS TLSConfig `yaml:"tls"`
	// H2C serves HTTP/2 with prior knowledge on the plain-text listener.
	H2C bool `yaml:"h2c"`
	// TrustedProxies lists the addresses (CIDRs or single IPs) whose
	// X-Forwarded-For/-Proto/-Host and X-Request-Id the edge believes.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// Limits bound what a viewer can send and how long it can take.
	Limits Limits `yaml:"limits"`
	// Paths tunes path canonicalisation.
	Paths PathConfig `yaml:"paths"`
	// OwnedHeaders are extra header names the edge owns: inbound copies are
	// stripped on every behavior.
	OwnedHeaders []string `yaml:"owned_headers"`
	// StripOverrideHeaders strips X-HTTP-Method-Override, X-HTTP-Method,
	// X-Method-Override, X-Original-URL and X-Rewrite-URL (default true):
	// origins that honour them would see another method or path than the
	// one that was authorized.
	StripOverrideHeaders *bool `yaml:"strip_override_headers"`
	// ShutdownGrace bounds how long in-flight requests may take to finish
	// once shutdown begins (default 30s).
	ShutdownGrace time.Duration `yaml:"shutdown_grace"`
	// DrainDelay keeps the listener accepting and serving for this long
	// after a shutdown begins, while /readyz already answers 503, so that
	// load balancers and Kubernetes endpoints stop sending first (default
	// 0: stop accepting at once). The shutdown grace starts after it.
	DrainDelay time.Duration `yaml:"drain_delay"`
	// HTTP1FastLane serves plain bodiless GET and HEAD requests over
	// HTTP/1.1 with the edge's own lean reader and writer, under the
	// framing guard, and hands any other request (and its connection) to
	// net/http (default true). false serves everything with net/http.
	HTTP1FastLane *bool `yaml:"http1_fast_lane"`
	// ResponseBufferMax bounds the response a viewer-response function can
	// see; a larger one is answered with 502 (default 1MiB).
	ResponseBufferMax size.Bytes `yaml:"response_buffer_max"`
}

// TLSConfig names the certificate and key of an HTTPS listener.
type TLSConfig struct {
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

// Enabled reports whether a certificate is configured.
func (t TLSConfig) Enabled() bool { return t.CertFile != "" || t.KeyFile != "" }

// Limits bound a viewer's requests. A limit of zero after Defaults means
// "none" only for ReadTimeout and WriteTimeout.
type Limits struct {
	// ReadHeaderTimeout bounds reading the request line and headers, and
	// the TLS handshake (default 10s).
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	// ReadTimeout bounds reading the whole request (default none).
	ReadTimeout time.Duration `yaml:"read_timeout"`
	// WriteTimeout bounds writing the response (default none: streaming
	// responses and WebSockets would be cut).
	WriteTimeout time.Duration `yaml:"write_timeout"`
	// IdleTimeout closes keep-alive connections idle this long (default 60s).
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// MaxHeaderBytes bounds the request line plus headers (default 32KiB);
	// more is answered with 431.
	MaxHeaderBytes size.Bytes `yaml:"max_header_bytes"`
	// MaxBodyBytes bounds a request body (default 10MiB); more is answered
	// with 413.
	MaxBodyBytes size.Bytes `yaml:"max_body_bytes"`
	// MaxURIBytes bounds the request target (default 8KiB); longer is
	// answered with 414.
	MaxURIBytes size.Bytes `yaml:"max_uri_bytes"`
	// MaxConnections bounds concurrent viewer connections (default 10000);
	// further connections wait in the kernel's accept queue.
	MaxConnections int `yaml:"max_connections"`
}

// PathConfig tunes Canonicalize for the listener.
type PathConfig struct {
	// MergeSlashes merges empty segments ("//") into one (default true).
	MergeSlashes *bool `yaml:"merge_slashes"`
	// RejectEncodedSlash answers %2F and %5C in a path with 400 (default
	// true); false keeps them encoded inside their segment.
	RejectEncodedSlash *bool `yaml:"reject_encoded_slash"`
	// RejectDoubleEncoding answers "%25" followed by two hex digits with
	// 400 (default true): an origin that decodes twice would see another
	// path than the one that was authorized.
	RejectDoubleEncoding *bool `yaml:"reject_double_encoding"`
}

// Defaults for Config.
const (
	DefaultListen            = "127.0.0.1:8080"
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultIdleTimeout       = 60 * time.Second
	DefaultMaxHeaderBytes    = 32 * size.KiB
	DefaultMaxBodyBytes      = 10 * size.MiB
	DefaultMaxURIBytes       = 8 * size.KiB
	DefaultMaxConnections    = 10000
	DefaultShutdownGrace     = 30 * time.Second
	DefaultResponseBufferMax = 1 * size.MiB
)

// Defaults fills every unset field with its documented default. It can be
// called before or after decoding, any number of times.
func (c *Config) Defaults() {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	c.Limits.Defaults()
	setBool(&c.Paths.MergeSlashes, true)
	setBool(&c.Paths.RejectEncodedSlash, true)
	setBool(&c.Paths.RejectDoubleEncoding, true)
	setBool(&c.StripOverrideHeaders, true)
	setBool(&c.HTTP1FastLane, true)
	setDuration(&c.ShutdownGrace, DefaultShutdownGrace)
	setSize(&c.ResponseBufferMax, DefaultResponseBufferMax)
}

// Defaults fills every unset limit with its documented default.
func (l *Limits) Defaults() {
	setDuration(&l.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	setDuration(&l.IdleTimeout, DefaultIdleTimeout)
	setSize(&l.MaxHeaderBytes, DefaultMaxHeaderBytes)
	setSize(&l.MaxBodyBytes, DefaultMaxBodyBytes)
	setSize(&l.MaxURIBytes, DefaultMaxURIBytes)
	if l.MaxConnections == 0 {
		l.MaxConnections = DefaultMaxConnections
	}
}

func setDuration(d *time.Duration, v time.Duration) {
	if *d == 0 {
		*d = v
	}
}

func setSize(b *size.Bytes, v size.Bytes) {
	if *b == 0 {
		*b = v
	}
}

func setBool(b **bool, v bool) {
	if *b == nil {
		*b = &v
	}
}

// PathOptions returns the canonicalisation options the listener uses.
func (c *Config) PathOptions() PathOptions {
	return PathOptions{
		KeepEmptySegments:   !isTrue(c.Paths.MergeSlashes, true),
		AllowEncodedSlash:   !isTrue(c.Paths.RejectEncodedSlash, true),
		AllowDoubleEncoding: !isTrue(c.Paths.RejectDoubleEncoding, true),
	}
}

func isTrue(b *bool, def bool) bool {
	if b == nil {
		return def
	}
	return *b
}

// Validate reports every problem in c (after Defaults), each as
// "key.path: message".
func (c *Config) Validate() error {
	var errs []error
	add := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if _, port, err := net.SplitHostPort(c.Listen); err != nil {
		add("listen", "%q is not host:port (e.g. 127.0.0.1:8080)", c.Listen)
	} else if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		add("listen", "port %q is not a number from 0 to 65535", port)
	}
	if c.TLS.CertFile == "" && c.TLS.KeyFile != "" {
		add("tls.cert_file", "missing (tls.key_file is set)")
	}
	if c.TLS.KeyFile == "" && c.TLS.CertFile != "" {
		add("tls.key_file", "missing (tls.cert_file is set)")
	}
	if c.H2C && c.TLS.Enabled() {
		add("h2c", "applies to a plain-text listener only (tls is set; HTTPS already serves HTTP/2)")
	}
	for i, s := range c.TrustedProxies {
		if _, err := parsePrefix(s); err != nil {
			add(fmt.Sprintf("trusted_proxies[%d]", i), "%q is not an IP address or CIDR (e.g. 10.0.0.0/8)", s)
		}
	}
	c.Limits.validate(add)
	for i, h := range c.OwnedHeaders {
		if !validHeaderName(h) {
			add(fmt.Sprintf("owned_headers[%d]", i), "%q is not a header name", h)
		}
	}
	if c.ShutdownGrace < 0 {
		add("shutdown_grace", "must be >= 0, got %s", c.ShutdownGrace)
	}
	if c.DrainDelay < 0 {
		add("drain_delay", "must be >= 0, got %s", c.DrainDelay)
	}
	if c.ResponseBufferMax <= 0 {
		add("response_buffer_max", "must be > 0, got %s", c.ResponseBufferMax)
	}
	return errors.Join(errs...)
}

func (l *Limits) validate(add func(key, format string, args ...any)) {
	for _, d := range []struct {
		key string
		v   time.Duration
		min time.Duration
	}{
		{"limits.read_header_timeout", l.ReadHeaderTimeout, 1},
		{"limits.read_timeout", l.ReadTimeout, 0},
		{"limits.write_timeout", l.WriteTimeout, 0},
		{"limits.idle_timeout", l.IdleTimeout, 1},
	} {
		if d.v < d.min {
			op := ">="
			if d.min > 0 {
				op = ">"
			}
			add(d.key, "must be %s 0, got %s", op, d.v)
		}
	}
	if l.ReadTimeout > 0 && l.ReadTimeout < l.ReadHeaderTimeout {
		add("limits.read_timeout", "%s is shorter than limits.read_header_timeout (%s)", l.ReadTimeout, l.ReadHeaderTimeout)
	}
	for _, s := range []struct {
		key string
		v   size.Bytes
		min size.Bytes
	}{
		{"limits.max_header_bytes", l.MaxHeaderBytes, 1 * size.KiB},
		{"limits.max_body_bytes", l.MaxBodyBytes, 1},
		{"limits.max_uri_bytes", l.MaxURIBytes, 16},
	} {
		if s.v < s.min {
			add(s.key, "must be at least %s, got %s", s.min, s.v)
		}
	}
	if l.MaxURIBytes > l.MaxHeaderBytes && l.MaxHeaderBytes > 0 {
		add("limits.max_uri_bytes", "%s exceeds limits.max_header_bytes (%s), which bounds the request line too", l.MaxURIBytes, l.MaxHeaderBytes)
	}
	if l.MaxConnections < 0 {
		add("limits.max_connections", "must be > 0, got %d", l.MaxConnections)
	}
}

// parsePrefix reads a CIDR or a single address as a prefix.
func parsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}
