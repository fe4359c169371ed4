package authorizer

import (
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
	"golang.org/x/net/http/httpguts"

	"github.com/edgeward/edgeward/internal/sideband"
	"github.com/edgeward/edgeward/internal/size"
)

// Defaults and bounds of Config.
const (
	DefaultType           = "sideband"
	DefaultMaxRetries     = 1
	MaxMaxRetries         = 10
	DefaultTimeout        = 5 * time.Second
	MaxTimeout            = time.Minute
	DefaultBodyMaxBytes   = 40 * size.KiB
	MaxBodyMaxBytes       = 10 * size.MiB
	DefaultOnError        = OnErrorDeny
	DefaultBreakerFails   = 5
	DefaultBreakerOpenFor = 10 * time.Second
	// Embedded is the service_url that calls the embedded decision service
	// in-process (as does an empty service_url).
	Embedded = "embedded"
)

// on_error values.
const (
	OnErrorDeny  = "deny"
	OnErrorAllow = "allow"
)

// Config is one named function under functions: in the edge's YAML: the
// Ping AWS integration kit's config.js, one key to one key.
type Config struct {
	// Type is the function type; only "sideband" exists.
	Type string `yaml:"type"`
	// ServiceURL is the sideband service (SERVICE_URL), e.g.
	// https://http-access-api.pingone.com/v1/environments/<envId>; empty or
	// "embedded" means the embedded decision service, in-process. A list
	// of URLs names several services of one deployment: calls are spread
	// over them, a retry goes to another one, and one that keeps failing
	// leaves the rotation until a health probe finds it up.
	ServiceURL URLs `yaml:"service_url"`
	// SecretHeaderValue is the gateway credential (SECRET_HEADER_VALUE);
	// required for a remote service_url.
	SecretHeaderValue string `yaml:"secret_header_value"`
	// SecretHeaderName is the header the credential travels in
	// (CLIENT-TOKEN by default).
	SecretHeaderName string `yaml:"secret_header_name"`
	// Debug logs every attempt at debug level, secrets redacted
	// (IS_DEBUG_ENABLED).
	Debug Flag `yaml:"debug"`
	// MaxRetries is the number of extra attempts after a transport error
	// or a 5xx (MAX_RETRIES, default 1, at most 10).
	MaxRetries *int `yaml:"max_retries"`
	// Timeout is the whole budget of one decision, all attempts included.
	Timeout time.Duration `yaml:"timeout"`
	// IncludeBody says which request bodies are sent to the service.
	IncludeBody IncludeBody `yaml:"include_body"`
	// ResponsePhase calls /sideband/response with the origin's answer and
	// sends the client what the service returns.
	ResponsePhase Flag `yaml:"response_phase"`
	// OnError is what happens when there is no decision: "deny" (502, the
	// default) or "allow" (forward, with a warning logged every time).
	OnError string `yaml:"on_error"`
	// CAFile is a PEM bundle of the CAs that sign an https service's
	// certificate (default: the system roots).
	CAFile string `yaml:"ca_file"`
	// Breaker stops calling a failing service for a while.
	Breaker Breaker `yaml:"breaker"`
	// Pool tunes the connections to a remote service.
	Pool Pool `yaml:"pool"`
	// HealthCheck takes failing services out of rotation (several
	// service URLs only).
	HealthCheck HealthCheck `yaml:"health_check"`
	// DecisionCache keeps decisions at the edge (off by default).
	DecisionCache CacheConfig `yaml:"decision_cache"`
}

// IncludeBody selects the bodies sent in sideband calls (request bodies in
// the request phase, origin bodies in the response phase).
type IncludeBody struct {
	// ContentTypes lists media types ("application/json", or "text/*");
	// an explicit empty list sends no bodies.
	ContentTypes []string `yaml:"content_types"`
	// MaxBytes is the largest body sent; a larger one is not sent (the
	// request still goes on).
	MaxBytes size.Bytes `yaml:"max_bytes"`
}

// Breaker configures the circuit breaker in front of the service.
type Breaker struct {
	// Failures is the number of consecutive decisions without an answer
	// (after retries) that opens the breaker.
	Failures int `yaml:"failures"`
	// OpenFor is how long the breaker stays open (requests get 502 at
	// once) before one trial call is let through.
	OpenFor time.Duration `yaml:"open_for"`
}

// Flag is a boolean that YAML must spell true or false, unquoted. A quoted
// "false" is a string (and truthy in the JavaScript the kit's config.js was
// written in), and yes/no/on/off are YAML 1.1 relics: each is an error, not
// a guess.
type Flag bool

// UnmarshalYAML implements yaml.Unmarshaler.
func (f *Flag) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: want true or false (unquoted), got %q", n.Line, n.Value)}}
	}
	var b bool
	if err := n.Decode(&b); err != nil {
		return err
	}
	*f = Flag(b)
	return nil
}

// Defaults applies the documented defaults. ServiceURL is left alone: the
// caller decides whether an empty one means the embedded service.
func (c *Config) Defaults() {
	if c.Type == "" {
		c.Type = DefaultType
	}
	if c.SecretHeaderName == "" {
		c.SecretHeaderName = sideband.DefaultCredentialHeader
	}
	if c.MaxRetries == nil {
		n := DefaultMaxRetries
		c.MaxRetries = &n
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.IncludeBody.ContentTypes == nil {
		c.IncludeBody.ContentTypes = []string{"application/json"}
	}
	if c.IncludeBody.MaxBytes == 0 {
		c.IncludeBody.MaxBytes = DefaultBodyMaxBytes
	}
	if c.OnError == "" {
		c.OnError = DefaultOnError
	}
	if c.Breaker.Failures == 0 {
		c.Breaker.Failures = DefaultBreakerFails
	}
	if c.Breaker.OpenFor == 0 {
		c.Breaker.OpenFor = DefaultBreakerOpenFor
	}
	c.Pool.defaults()
	c.HealthCheck.defaults()
	c.DecisionCache.defaults()
}

// Remote reports whether ServiceURL names a remote service (not the
// embedded one).
func (c *Config) Remote() bool { return c.ServiceURL.remote() }

// OwnedHeaders returns the headers the edge must strip from every inbound
// request for this function: the credential header.
func (c *Config) OwnedHeaders() []string {
	name := c.SecretHeaderName
	if name == "" {
		name = sideband.DefaultCredentialHeader
	}
	return []string{http.CanonicalHeaderKey(name)}
}

// Validate reports every problem in c (after Defaults), each error starting
// with its key path: "service_url: ...", "include_body.max_bytes: ...".
func (c *Config) Validate() error {
	var errs []error
	add := func(path, format string, args ...any) {
		errs = append(errs, fmt.Errorf(path+": "+format, args...))
	}
	if c.Type != DefaultType {
		add("type", "unknown function type %q (want sideband)", c.Type)
	}
	if c.Remote() {
		c.validateURLs(add)
		if c.SecretHeaderValue == "" {
			add("secret_header_value", "required for a remote service_url (the gateway credential, e.g. ${EDGEWARD_GATEWAY_CREDENTIAL})")
		}
	} else if c.CAFile != "" {
		add("ca_file", "only used with an https service_url")
	}
	if !httpguts.ValidHeaderFieldValue(c.SecretHeaderValue) {
		add("secret_header_value", "contains characters a header value cannot carry")
	}
	if !httpguts.ValidHeaderFieldName(c.SecretHeaderName) {
		add("secret_header_name", "invalid header name %q", c.SecretHeaderName)
	}
	if c.MaxRetries == nil || *c.MaxRetries < 0 || *c.MaxRetries > MaxMaxRetries {
		add("max_retries", "want 0 to %d", MaxMaxRetries)
	}
	if c.Timeout <= 0 || c.Timeout > MaxTimeout {
		add("timeout", "want more than 0s and at most %s, got %s", MaxTimeout, c.Timeout)
	}
	for i, ct := range c.IncludeBody.ContentTypes {
		if _, _, err := mime.ParseMediaType(ct); err != nil || !strings.Contains(ct, "/") {
			add(fmt.Sprintf("include_body.content_types[%d]", i), "want a media type such as application/json, got %q", ct)
		}
	}
	if c.IncludeBody.MaxBytes <= 0 || c.IncludeBody.MaxBytes > MaxBodyMaxBytes {
		add("include_body.max_bytes", "want more than 0 and at most %s", MaxBodyMaxBytes)
	}
	if c.OnError != OnErrorDeny && c.OnError != OnErrorAllow {
		add("on_error", "want deny or allow, got %q", c.OnError)
	}
	if c.Breaker.Failures < 1 {
		add("breaker.failures", "must be at least 1")
	}
	if c.Breaker.OpenFor <= 0 {
		add("breaker.open_for", "must be > 0")
	}
	c.Pool.validate(add)
	c.HealthCheck.validate(add)
	c.DecisionCache.validate(c, add)
	return errors.Join(errs...)
}

// clientConfig is the sideband client configuration for a remote
// service_url.
func (c *Config) clientConfig() sideband.ClientConfig {
	return sideband.ClientConfig{
		ServiceURLs:      c.ServiceURL,
		CredentialHeader: c.SecretHeaderName,
		Credential:       c.SecretHeaderValue,
		CAFile:           c.CAFile,
		Timeout:          c.Timeout,
		MaxIdleConns:     c.Pool.MaxIdlePerService,
		Protocol:         c.Pool.Protocol,
		UnhealthyAfter:   c.HealthCheck.UnhealthyAfter,
		ProbeInterval:    c.HealthCheck.Interval,
	}
}

// NewDecider builds the sideband HTTP client for a remote service_url
// (the embedded service's Decider comes from the decision service). cfg
// gets its defaults applied first.
func NewDecider(cfg Config) (*sideband.Client, error) {
	cfg.Defaults()
	if !cfg.Remote() {
		return nil, fmt.Errorf("service_url: %q has no remote client (use the embedded decision service's Decider)", cfg.ServiceURL.String())
	}
	c, err := sideband.NewClient(cfg.clientConfig())
	if err != nil {
		return nil, fmt.Errorf("service_url: %w", err)
	}
	return c, nil
}
