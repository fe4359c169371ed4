package decision

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"golang.org/x/net/http/httpguts"

	"github.com/edgeward/edgeward/internal/joinerr"
	"github.com/edgeward/edgeward/internal/size"
	"github.com/edgeward/edgeward/internal/token"
)

// Defaults of the decision: section.
const (
	DefaultCredentialHeader = "CLIENT-TOKEN"
	DefaultLogBuffer        = 4096
	DefaultMaxBodyBytes     = size.MiB
	DefaultGroupsClaim      = "groups"
)

// Authentication modes of an access_control block.
const (
	AuthRequired = "required"
	AuthOptional = "optional"
	AuthNone     = "none"
)

// Scope match modes.
const (
	MatchAny = "ANY"
	MatchAll = "ALL"
)

// Path pattern types.
const (
	PathExact     = "EXACT"
	PathParameter = "PARAMETER"
)

// Config is the decision: section: the gateways allowed to call, the
// trusted token issuers and the API services. See DECISION.md.
type Config struct {
	// CredentialHeader is the header the gateway credential travels in
	// (default CLIENT-TOKEN; older deployments use PDG-TOKEN).
	CredentialHeader string `yaml:"credential_header"`
	// GatewayCredentials are the valid gateway credentials; several at once
	// allow rotation. Required to serve the sideband API over HTTP (see
	// RequireCredentials); may be empty when the service is only embedded.
	GatewayCredentials []string `yaml:"gateway_credentials"`
	// TokenIssuers are the trusted access-token issuers, by name.
	TokenIssuers map[string]token.IssuerConfig `yaml:"token_issuers"`
	// TokenCache bounds the verified-token cache shared by every issuer.
	TokenCache token.CacheConfig `yaml:"token_cache"`
	// APIServices is the model: what is protected, and how.
	APIServices []APIService `yaml:"api_services"`
	// DecisionLog is where every decision is recorded.
	DecisionLog LogConfig `yaml:"decision_log"`
	// MaxBodyBytes bounds a sideband request body (default 1MiB; larger is
	// answered 413).
	MaxBodyBytes size.Bytes `yaml:"max_body_bytes"`
}

// LogConfig is decision.decision_log.
type LogConfig struct {
	// Path is stdout, stderr, a file path, or empty for no decision log.
	Path string `yaml:"path"`
	// Buffer is how many decisions may wait to be written (default 4096);
	// past it decisions are dropped from the log (and counted), never
	// delaying a request.
	Buffer int `yaml:"buffer"`
	// MaxSize is the size at which a decision log file is rotated, as
	// logging.access_log.max_size (unset means 100MiB).
	MaxSize size.Bytes `yaml:"max_size"`
	// MaxBackups is how many rotated files are kept, as
	// logging.access_log.max_backups (unset means 5; -1 keeps none).
	MaxBackups int `yaml:"max_backups"`
}

// APIService is one protected API: where it lives, which tokens it trusts
// and what each of its operations requires.
type APIService struct {
	Name string `yaml:"name"`
	// BaseURLs are absolute http(s) URLs; a request belongs to the service
	// whose base URL is its longest prefix.
	BaseURLs []string `yaml:"base_urls"`
	// TokenIssuer names an entry of token_issuers. Without one, only access
	// tokens that the gateway validated (the sideband access_token object)
	// are accepted.
	TokenIssuer string `yaml:"token_issuer"`
	// Audience must be one of a token's aud values. Required unless the
	// service's authentication is none.
	Audience string `yaml:"audience"`
	// AccessControl applies to every operation of the service.
	AccessControl AccessControl `yaml:"access_control"`
	// Operations are matched by method and path; a request that matches
	// none is denied.
	Operations []Operation `yaml:"operations"`
	// Statements change the forwarded request on allow.
	Statements Statements `yaml:"statements"`
	// ResponseStatements change the response in the sideband response
	// phase. Templates are not available there.
	ResponseStatements Statements `yaml:"response_statements"`
}

// AccessControl is a set of rules, checked in order: authentication,
// scopes, groups, condition. A service's rules and its matched operation's
// rules must both pass.
type AccessControl struct {
	// Authentication is required (default for a service), optional or
	// none. On an operation, empty inherits the service's.
	Authentication string `yaml:"authentication"`
	// Scopes required of the token.
	Scopes *ScopeRule `yaml:"scopes"`
	// Groups: the token's groups claim must hold at least one of them.
	Groups []string `yaml:"groups"`
	// GroupsClaim names the claim holding the groups (default "groups").
	GroupsClaim string `yaml:"groups_claim"`
	// Condition is a CEL expression over request and claims that must be
	// true.
	Condition string `yaml:"condition"`
}

// ScopeRule is a scope requirement.
type ScopeRule struct {
	// Match is ANY (default) or ALL.
	Match  string   `yaml:"match"`
	Values []string `yaml:"values"`
}

// Operation is a set of paths and methods with its own access control.
type Operation struct {
	Name string `yaml:"name"`
	// Methods the operation accepts; empty means every method.
	Methods       []string      `yaml:"methods"`
	Paths         []Path        `yaml:"paths"`
	AccessControl AccessControl `yaml:"access_control"`
}

// Path is one path pattern of an operation.
type Path struct {
	// Type is EXACT (verbatim comparison) or PARAMETER (PingOne's pattern
	// grammar: *, **, {name}, backslash escapes).
	Type    string `yaml:"type"`
	Pattern string `yaml:"pattern"`
}

// Statements change headers. In set_headers, values may hold templates:
// {{claims.NAME}} (dotted for nested claims) and {{params.NAME}} (a path
// parameter of the matched pattern).
type Statements struct {
	SetHeaders    map[string]string `yaml:"set_headers"`
	RemoveHeaders []string          `yaml:"remove_headers"`
}

// Defaults applies the documented defaults in place.
func (c *Config) Defaults() {
	if c.CredentialHeader == "" {
		c.CredentialHeader = DefaultCredentialHeader
	}
	if c.DecisionLog.Buffer == 0 {
		c.DecisionLog.Buffer = DefaultLogBuffer
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	for name, ic := range c.TokenIssuers {
		ic.Defaults()
		c.TokenIssuers[name] = ic
	}
	c.TokenCache.Defaults()
	for i := range c.APIServices {
		s := &c.APIServices[i]
		if s.AccessControl.Authentication == "" {
			s.AccessControl.Authentication = AuthRequired
		}
		s.AccessControl.defaults()
		for j := range s.Operations {
			s.Operations[j].AccessControl.defaults()
		}
	}
}

func (a *AccessControl) defaults() {
	if a.Scopes != nil && a.Scopes.Match == "" {
		a.Scopes.Match = MatchAny
	}
	if a.GroupsClaim == "" {
		a.GroupsClaim = DefaultGroupsClaim
	}
}

// Validate reports every problem of the section at once (errors.Join),
// each starting with its key path: invalid patterns, precedence ties,
// unknown issuers, CEL conditions that do not compile, unknown template
// variables, and the like. It compiles the model as New would, so that a
// configuration that validates also loads.
func (c *Config) Validate() error {
	_, err := compile(c)
	return err
}

// RequireCredentials reports an error when the section cannot serve the
// sideband API over HTTP: at least one gateway credential is needed there.
func (c *Config) RequireCredentials() error {
	if len(c.GatewayCredentials) == 0 {
		return errors.New("gateway_credentials: at least one is required to serve the sideband API")
	}
	return nil
}

// HeaderNames returns, lower-case and sorted, every request header name
// that a statement can set. The edge owns these headers: it strips inbound
// copies on every request, so that a client can never pose as the
// decision.
func (c *Config) HeaderNames() []string {
	var names []string
	for _, s := range c.APIServices {
		for n := range s.Statements.SetHeaders {
			names = append(names, strings.ToLower(n))
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// validateTop checks what does not need compiling: credentials, header
// names, issuers, sizes.
func (c *Config) validateTop() []error {
	var errs []error
	if !httpguts.ValidHeaderFieldName(c.CredentialHeader) {
		errs = append(errs, fmt.Errorf("credential_header: %q is not a valid header name", c.CredentialHeader))
	}
	for i, v := range c.GatewayCredentials {
		switch {
		case v == "":
			errs = append(errs, fmt.Errorf("gateway_credentials[%d]: empty (is its environment variable set?)", i))
		case !httpguts.ValidHeaderFieldValue(v) || strings.TrimSpace(v) != v:
			errs = append(errs, fmt.Errorf("gateway_credentials[%d]: must be printable without leading or trailing spaces", i))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(c.TokenIssuers)) {
		if name == "" || strings.ContainsAny(name, " \t\"'.[]") {
			errs = append(errs, fmt.Errorf("token_issuers: name %q must be a plain word", name))
			continue
		}
		ic := c.TokenIssuers[name]
		errs = append(errs, prefixed("token_issuers."+name, ic.Validate())...)
	}
	errs = append(errs, prefixed("token_cache", c.TokenCache.Validate())...)
	if c.DecisionLog.Buffer < 0 {
		errs = append(errs, errors.New("decision_log.buffer: must be > 0"))
	}
	if c.DecisionLog.MaxSize < 0 {
		errs = append(errs, errors.New("decision_log.max_size: must be > 0"))
	}
	if c.DecisionLog.MaxBackups < -1 {
		errs = append(errs, errors.New("decision_log.max_backups: must be >= -1 (-1 keeps no backup)"))
	}
	if c.MaxBodyBytes < 0 {
		errs = append(errs, errors.New("max_body_bytes: must be > 0"))
	}
	if len(c.APIServices) == 0 {
		errs = append(errs, errors.New("api_services: at least one API service is required"))
	}
	return errs
}

// prefixed returns the leaves of err (an errors.Join tree of "key:
// message" errors) with prefix added to each key.
func prefixed(prefix string, err error) []error {
	var out []error
	for _, e := range joinerr.Leaves(err) {
		out = append(out, fmt.Errorf("%s.%w", prefix, e))
	}
	return out
}
