package origin

import (
	"crypto/x509"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"
)

// Protocol policies (CloudFront's origin protocol policy).
const (
	// HTTPSOnly always talks TLS to the origin (default for https URLs).
	HTTPSOnly = "https-only"
	// HTTPOnly always talks plain HTTP to the origin (default for http URLs).
	HTTPOnly = "http-only"
	// MatchViewer uses the scheme the viewer used to reach the edge.
	MatchViewer = "match-viewer"
)

// Defaults, as CloudFront documents them for custom origins where it has one.
const (
	DefaultConnectTimeout  = 10 * time.Second
	DefaultResponseTimeout = 30 * time.Second
	DefaultIdleTimeout     = 5 * time.Second
	// DefaultMaxIdleConns is the idle keep-alive pool per origin: large
	// enough that tens of thousands of requests per second reuse
	// connections instead of dialling (net/http's default is 2 per host).
	DefaultMaxIdleConns = 1024
)

// Config is one origin, an entry of the origins: map.
type Config struct {
	// URL is scheme://host[:port][/origin-path]. The path is the origin
	// path (an API Gateway stage such as /prod), prefixed to every
	// forwarded path. No query, fragment or userinfo.
	URL string `yaml:"url"`
	// ProtocolPolicy is https-only, http-only or match-viewer. Default:
	// https-only for https URLs, http-only for http URLs.
	ProtocolPolicy string `yaml:"protocol_policy"`
	// HTTPPort and HTTPSPort are the ports used for each scheme; default
	// the URL's port when the URL has that scheme, else 80 and 443.
	HTTPPort  int `yaml:"http_port"`
	HTTPSPort int `yaml:"https_port"`
	// ConnectTimeout bounds the TCP connect and the TLS handshake (10s).
	ConnectTimeout time.Duration `yaml:"connect_timeout"`
	// ResponseTimeout is CloudFront's origin response (read) timeout: the
	// longest wait for the response headers, and for each read of the
	// body after that (30s).
	ResponseTimeout time.Duration `yaml:"response_timeout"`
	// IdleTimeout closes a pooled keep-alive connection unused this long:
	// CloudFront's origin keep-alive timeout (5s, its default). It must be
	// shorter than the origin's own (Node.js closes after 5s, nginx 75s):
	// a request sent on a connection the origin is closing fails, and one
	// with a body cannot be sent again.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// MaxIdleConns is the size of the idle keep-alive pool (1024).
	MaxIdleConns int `yaml:"max_idle_conns"`
	// MaxConns limits connections to the origin, idle or busy; requests
	// beyond it wait for a connection. 0 means no limit.
	MaxConns int `yaml:"max_conns"`
	// CAFile is a PEM file of CA certificates trusted, besides the system
	// roots, for HTTPS origins with a private CA.
	CAFile string `yaml:"ca_file"`
	// ServerName overrides the TLS server name (SNI and certificate
	// verification); default the URL's host.
	ServerName string `yaml:"server_name"`
	// CustomHeaders are set on every origin request (CloudFront's origin
	// custom headers), replacing any copy the viewer sent.
	CustomHeaders map[string]string `yaml:"custom_headers"`
}

// Defaults fills in the documented defaults for unset fields.
func (c *Config) Defaults() {
	if c.ProtocolPolicy == "" {
		if u, err := url.Parse(c.URL); err == nil {
			switch strings.ToLower(u.Scheme) {
			case "https":
				c.ProtocolPolicy = HTTPSOnly
			case "http":
				c.ProtocolPolicy = HTTPOnly
			}
		}
	}
	if c.ConnectTimeout == 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	if c.ResponseTimeout == 0 {
		c.ResponseTimeout = DefaultResponseTimeout
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.MaxIdleConns == 0 {
		c.MaxIdleConns = DefaultMaxIdleConns
	}
}

// reserved reports whether the header with canonical name k may not be a
// custom header: hop-by-hop headers, framing, and the headers the edge
// itself sets on origin requests.
func reserved(k string) bool {
	switch k {
	case "Host", "Content-Length", "Via", "Forwarded",
		"X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Request-Id":
		return true
	}
	return hopByHop(k)
}

// Validate reports every problem in c, each prefixed with its key path.
// It expects Defaults to have run.
func (c *Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	u, err := parseURL(c.URL)
	if err != nil {
		errs = append(errs, err)
	}
	switch c.ProtocolPolicy {
	case HTTPSOnly, HTTPOnly, MatchViewer:
		if u != nil && c.ProtocolPolicy != MatchViewer && c.ProtocolPolicy != u.Scheme+"-only" {
			add("protocol_policy: %s conflicts with the %s url (use a %s url, or match-viewer)",
				c.ProtocolPolicy, u.Scheme, strings.TrimSuffix(c.ProtocolPolicy, "-only"))
		}
	case "":
		if u != nil {
			add("protocol_policy: must be set (https-only, http-only or match-viewer)")
		}
	default:
		add("protocol_policy: unknown policy %q (known: https-only, http-only, match-viewer)", c.ProtocolPolicy)
	}
	for _, p := range []struct {
		key string
		v   int
	}{{"http_port", c.HTTPPort}, {"https_port", c.HTTPSPort}} {
		if p.v < 0 || p.v > 65535 {
			add("%s: %d is not a port (1-65535, or 0 for the default)", p.key, p.v)
		}
	}
	for _, d := range []struct {
		key string
		v   time.Duration
	}{{"connect_timeout", c.ConnectTimeout}, {"response_timeout", c.ResponseTimeout}, {"idle_timeout", c.IdleTimeout}} {
		if d.v <= 0 {
			add("%s: must be > 0, got %s", d.key, d.v)
		}
	}
	if c.MaxIdleConns < 0 {
		add("max_idle_conns: must be >= 0, got %d", c.MaxIdleConns)
	}
	if c.MaxConns < 0 {
		add("max_conns: must be >= 0 (0 = no limit), got %d", c.MaxConns)
	}
	if c.CAFile != "" || c.ServerName != "" {
		if c.ProtocolPolicy == HTTPOnly {
			if c.CAFile != "" {
				add("ca_file: set, but protocol_policy http-only never uses TLS")
			}
			if c.ServerName != "" {
				add("server_name: set, but protocol_policy http-only never uses TLS")
			}
		}
		if c.CAFile != "" {
			if _, err := loadCA(c.CAFile); err != nil {
				errs = append(errs, err)
			}
		}
		if c.ServerName != "" && (strings.ContainsAny(c.ServerName, ":/ ") || c.ServerName != strings.TrimSpace(c.ServerName)) {
			add("server_name: %q is not a host name", c.ServerName)
		}
	}
	seen := map[string]bool{}
	for _, name := range slices.Sorted(maps.Keys(c.CustomHeaders)) {
		v, key := c.CustomHeaders[name], http.CanonicalHeaderKey(name)
		switch {
		case seen[key]:
			add("custom_headers: %s is set twice (header names are case-insensitive)", key)
		case !httpguts.ValidHeaderFieldName(name):
			add("custom_headers: %q is not a valid header name", name)
		case reserved(key):
			add("custom_headers: %s is set by the edge and cannot be a custom header", key)
		case !httpguts.ValidHeaderFieldValue(v):
			add("custom_headers.%s: value has characters not allowed in a header", name)
		}
		seen[key] = true
	}
	return errors.Join(errs...)
}

// parseURL parses and checks an origin URL. Its errors start with "url: ".
func parseURL(s string) (*url.URL, error) {
	if s == "" {
		return nil, errors.New("url: must be set (e.g. https://api.example.com/prod)")
	}
	u, err := url.Parse(s)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("url: %q is not a URL: %v", s, err)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	var errs []error
	if u.Scheme != "http" && u.Scheme != "https" {
		errs = append(errs, errors.New("url: scheme must be http or https"))
	}
	if u.Opaque != "" || u.Host == "" || u.Hostname() == "" {
		errs = append(errs, fmt.Errorf("url: %q has no host (want scheme://host[:port][/path])", s))
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			errs = append(errs, fmt.Errorf("url: port %q is not a port (1-65535)", p))
		}
	} else if strings.HasSuffix(u.Host, ":") {
		errs = append(errs, fmt.Errorf("url: %q has an empty port", s))
	}
	if u.User != nil {
		errs = append(errs, errors.New("url: must not carry userinfo (use custom_headers for origin credentials)"))
	}
	if u.RawQuery != "" || u.ForceQuery {
		errs = append(errs, errors.New("url: must not have a query"))
	}
	if u.Fragment != "" || strings.Contains(s, "#") {
		errs = append(errs, errors.New("url: must not have a fragment"))
	}
	for seg := range strings.SplitSeq(u.Path, "/") {
		if seg == "." || seg == ".." {
			errs = append(errs, fmt.Errorf("url: origin path %q has a dot segment", u.Path))
			break
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return u, nil
}

// loadCA reads a PEM bundle of CA certificates.
func loadCA(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("ca_file: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("ca_file: no PEM certificate in %s", file)
	}
	return pool, nil
}

// endpoint is where one scheme's requests go.
type endpoint struct {
	scheme string
	// addr is host:port for the URL and the dialer.
	addr string
	// host is the Host header: the host, with the port unless it is the
	// scheme's default.
	host string
}

func newEndpoint(scheme, hostname string, port int) endpoint {
	p := strconv.Itoa(port)
	e := endpoint{scheme: scheme, addr: net.JoinHostPort(hostname, p), host: hostname}
	if strings.Contains(hostname, ":") {
		e.host = "[" + hostname + "]"
	}
	if (scheme == "http" && port != 80) || (scheme == "https" && port != 443) {
		e.host = e.addr
	}
	return e
}

// endpoints returns the HTTP and HTTPS endpoints of a valid URL.
func (c *Config) endpoints(u *url.URL) (plain, tls endpoint) {
	urlPort, _ := strconv.Atoi(u.Port())
	pick := func(set int, scheme string, def int) int {
		switch {
		case set != 0:
			return set
		case u.Scheme == scheme && urlPort != 0:
			return urlPort
		}
		return def
	}
	host := strings.ToLower(u.Hostname())
	return newEndpoint("http", host, pick(c.HTTPPort, "http", 80)),
		newEndpoint("https", host, pick(c.HTTPSPort, "https", 443))
}
