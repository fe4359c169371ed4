package httpcache

import (
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/edgeward/edgeward/internal/size"
)

// Defaults of StoreConfig and PolicyConfig.
const (
	DefaultMaxSize            = 256 * size.MiB
	DefaultMaxObjectSize      = 10 * size.MiB
	DefaultDefaultTTL         = 24 * time.Hour // CloudFront's default TTL
	DefaultMaxTTL             = 365 * 24 * time.Hour
	DefaultErrorCachingMinTTL = 10 * time.Second // CloudFront's error caching minimum TTL
	DefaultKeepStale          = 10 * time.Minute
	// DefaultStaleIfUnreachable is how long past its freshness an object
	// is served when the origin cannot be reached (see
	// PolicyConfig.StaleIfUnreachable).
	DefaultStaleIfUnreachable = time.Hour
)

// maxDuration bounds every duration in a policy, so that sums of them
// cannot overflow.
const maxDuration = 100 * 365 * 24 * time.Hour

// MaxInvalidationPaths is the most paths one invalidation may list.
const MaxInvalidationPaths = 3000

// StoreConfig is the top-level cache: section: the memory shared by every
// behavior's cache.
type StoreConfig struct {
	// MaxSize bounds the bytes held (bodies plus headers); the least
	// valuable objects are evicted beyond it. Default 256MiB.
	MaxSize size.Bytes `yaml:"max_size"`
	// MaxObjectSize is the largest response body stored. Bigger responses
	// are streamed through to the viewer and never buffered whole.
	// Default 10MiB.
	MaxObjectSize size.Bytes `yaml:"max_object_size"`
}

// Defaults fills unset fields.
func (c *StoreConfig) Defaults() {
	if c.MaxSize == 0 {
		c.MaxSize = DefaultMaxSize
	}
	if c.MaxObjectSize == 0 {
		c.MaxObjectSize = DefaultMaxObjectSize
	}
}

// Validate reports every problem, each prefixed with its key.
func (c *StoreConfig) Validate() error {
	var errs []error
	if c.MaxSize <= 0 {
		errs = append(errs, errors.New("max_size: must be > 0"))
	}
	if c.MaxObjectSize <= 0 {
		errs = append(errs, errors.New("max_object_size: must be > 0"))
	}
	if c.MaxSize > 0 && c.MaxObjectSize > c.MaxSize {
		errs = append(errs, fmt.Errorf("max_object_size: %s is larger than max_size %s", c.MaxObjectSize, c.MaxSize))
	}
	if c.MaxObjectSize > size.Bytes(maxWeight) {
		errs = append(errs, fmt.Errorf("max_object_size: must be at most %s", size.Bytes(maxWeight)))
	}
	return errors.Join(errs...)
}

// PolicyConfig is a behavior's cache: section: CloudFront's cache policy
// (TTLs, cache key) and origin request policy (forward), plus the knobs of
// RFC 9111 that CloudFront fixes. Fields that are pointers default when
// absent, so that an explicit zero (default_ttl: 0s) is kept.
type PolicyConfig struct {
	// Enable turns caching on (YAML enabled; default true when the cache
	// block is present). With caching off the request is forwarded as is.
	Enable *bool `yaml:"enabled"`
	// MinTTL is the least time an object stays fresh. Above zero it also
	// overrides the origin's no-store, no-cache and private, as
	// CloudFront's minimum TTL does: set it only for content that is the
	// same for every viewer allowed on the behavior.
	MinTTL time.Duration `yaml:"min_ttl"`
	// DefaultTTL is the freshness lifetime of a response with no freshness
	// information (no s-maxage, max-age or Expires, and no Last-Modified
	// for a heuristic). Default 24h, as in CloudFront; 0 stores such
	// responses only for revalidation.
	DefaultTTL *time.Duration `yaml:"default_ttl"`
	// MaxTTL caps every freshness lifetime. Default 365 days when the key
	// is left out; an explicit 0s means zero, as in CloudFront: nothing is
	// stored (CachingDisabled is min, default and max TTL 0).
	MaxTTL *time.Duration `yaml:"max_ttl"`
	// CachedMethods is [GET, HEAD] (default) or [GET, HEAD, OPTIONS].
	CachedMethods []string `yaml:"cached_methods"`
	// Key selects what, besides the behavior, host and path, tells objects
	// apart.
	Key KeyConfig `yaml:"key"`
	// Compress puts the viewer's Accept-Encoding, normalised to br, gzip
	// or identity, in the key and forwards that normalised value.
	Compress bool `yaml:"compress"`
	// Forward lists what is forwarded to the origin without being part of
	// the key (CloudFront's origin request policy).
	Forward ForwardConfig `yaml:"forward"`
	// CacheSetCookie stores responses that carry Set-Cookie (and serves
	// the cookie to every viewer). Default false: such responses are
	// passed through.
	CacheSetCookie bool `yaml:"cache_set_cookie"`
	// ErrorCachingMinTTL is how long a 4xx or 5xx response without
	// freshness information is cached (CloudFront's error caching minimum
	// TTL). Default 10s; 0 caches errors only when the origin says so.
	ErrorCachingMinTTL *time.Duration `yaml:"error_caching_min_ttl"`
	// ErrorTTLs overrides ErrorCachingMinTTL per status code.
	ErrorTTLs map[int]time.Duration `yaml:"error_ttls"`
	// StaleIfError lets a stale object be served when the origin fails or
	// answers 500, 502, 503 or 504, for this long past its freshness, when
	// the response has no stale-if-error of its own. Default 0: the
	// origin's headers decide.
	StaleIfError time.Duration `yaml:"stale_if_error"`
	// StaleIfUnreachable lets a stale object be served, for this long
	// past its freshness, when the origin cannot be reached at all
	// (connection refused or reset, timeout: no response), unless the
	// response said must-revalidate, proxy-revalidate, no-cache or
	// s-maxage (RFC 9111 4.2.4 allows a disconnected cache to do so).
	// CloudFront documents that it keeps serving expired objects while a
	// custom origin is unavailable; edgeward does the same by default,
	// bounded to 1h so that stale objects do not fill memory; 0 turns it
	// off. An origin that answers (even 5xx) is governed by StaleIfError.
	StaleIfUnreachable *time.Duration `yaml:"stale_if_unreachable"`
	// StaleWhileRevalidate is the same for serving a stale object while it
	// is refreshed in the background (stale-while-revalidate).
	StaleWhileRevalidate time.Duration `yaml:"stale_while_revalidate"`
	// KeepStale is how long a stale object that has a validator (ETag or
	// Last-Modified) is kept so that it can be revalidated with a
	// conditional request instead of fetched again. Default 10m.
	KeepStale *time.Duration `yaml:"keep_stale"`
	// SurrogateControl honours Surrogate-Control response headers targeted
	// at edgeward, or at every surrogate (W3C Edge Architecture), ahead of
	// Cache-Control, and announces Surrogate-Capability to the origin.
	// Default true.
	SurrogateControl *bool `yaml:"surrogate_control"`
}

// Enabled reports whether caching is on.
func (c *PolicyConfig) Enabled() bool { return c.Enable == nil || *c.Enable }

// KeyConfig is the cache key beyond behavior, scheme, host and path.
type KeyConfig struct {
	// QueryStrings: none, all (default), {include: [...]} or
	// {exclude: [...]}. Parameters are sorted by name in the key.
	QueryStrings List `yaml:"query_strings"`
	// Headers lists request headers whose values are part of the key (and
	// so are forwarded).
	Headers []string `yaml:"headers"`
	// Cookies: none (default), all, {include: [...]} or {exclude: [...]}.
	Cookies List `yaml:"cookies"`
}

// ForwardConfig is what reaches the origin without being in the key.
type ForwardConfig struct {
	// Headers: none (default), all, {include: [...]} or {exclude: [...]}.
	Headers List `yaml:"headers"`
	// Cookies: none (default), all, {include: [...]} or {exclude: [...]}.
	Cookies List `yaml:"cookies"`
	// QueryStrings: none (default), all, {include: [...]} or
	// {exclude: [...]}.
	QueryStrings List `yaml:"query_strings"`
}

// List modes.
const (
	ListNone    = "none"
	ListAll     = "all"
	ListInclude = "include"
	ListExclude = "exclude"
)

// List selects names (query parameters, headers or cookies): none, all,
// only the Include ones, or all but the Exclude ones. In YAML it is the
// word none or all, a list of names (include), or a map with one of
// include or exclude.
type List struct {
	// Mode is none, all, include or exclude; empty means the default of
	// the field.
	Mode    string   `yaml:"-"`
	Include []string `yaml:"include"`
	Exclude []string `yaml:"exclude"`
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (l *List) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		switch v := strings.ToLower(n.Value); v {
		case ListNone, ListAll:
			*l = List{Mode: v}
			return nil
		}
		return fmt.Errorf("line %d: want none, all, a list of names, or {include: [...]} / {exclude: [...]}, got %q", n.Line, n.Value)
	case yaml.SequenceNode:
		var names []string
		if err := n.Decode(&names); err != nil {
			return err
		}
		if len(names) == 0 {
			*l = List{Mode: ListNone}
			return nil
		}
		*l = List{Mode: ListInclude, Include: names}
		return nil
	case yaml.MappingNode:
		var out List
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			var names []string
			if err := v.Decode(&names); err != nil {
				return err
			}
			switch k.Value {
			case ListInclude:
				out.Include = names
			case ListExclude:
				out.Exclude = names
			default:
				return fmt.Errorf("line %d: unknown key %q (known: exclude, include)", k.Line, k.Value)
			}
			out.Mode = k.Value
		}
		if out.Include != nil && out.Exclude != nil {
			return fmt.Errorf("line %d: include and exclude cannot both be set", n.Line)
		}
		*l = out
		return nil
	}
	return fmt.Errorf("line %d: want none, all, a list of names, or {include: [...]} / {exclude: [...]}", n.Line)
}

// MarshalYAML implements yaml.Marshaler.
func (l List) MarshalYAML() (any, error) {
	switch l.Mode {
	case ListInclude:
		return map[string][]string{ListInclude: l.Include}, nil
	case ListExclude:
		return map[string][]string{ListExclude: l.Exclude}, nil
	}
	return l.Mode, nil
}

func (l *List) defaults(mode string) {
	if l.Mode == "" {
		switch {
		case l.Include != nil:
			l.Mode = ListInclude
		case l.Exclude != nil:
			l.Mode = ListExclude
		default:
			l.Mode = mode
		}
	}
}

func (l *List) validate(path string, header bool) []error {
	var errs []error
	switch l.Mode {
	case ListNone, ListAll:
		if len(l.Include) > 0 || len(l.Exclude) > 0 {
			errs = append(errs, fmt.Errorf("%s: %s takes no names", path, l.Mode))
		}
	case ListInclude, ListExclude:
		names := l.Include
		if l.Mode == ListExclude {
			names = l.Exclude
		}
		for i, name := range names {
			if name == "" || (header && !validHeaderName(name)) {
				errs = append(errs, fmt.Errorf("%s.%s[%d]: invalid name %q", path, l.Mode, i, name))
			}
			if header && hopByHop(textproto.CanonicalMIMEHeaderKey(name)) {
				errs = append(errs, fmt.Errorf("%s.%s[%d]: %s is hop-by-hop and never forwarded", path, l.Mode, i, name))
			}
		}
	default:
		errs = append(errs, fmt.Errorf("%s: unknown mode %q (want none, all, include or exclude)", path, l.Mode))
	}
	return errs
}

// Defaults fills unset fields. Absent pointer fields take their defaults;
// explicit values, zero included, are kept.
func (c *PolicyConfig) Defaults() {
	if c.Enable == nil {
		c.Enable = ptr(true)
	}
	if c.MaxTTL == nil {
		c.MaxTTL = ptr(DefaultMaxTTL)
	}
	if c.DefaultTTL == nil {
		// CloudFront's default TTL is a day, or min_ttl when that is
		// longer; a max_ttl below it lowers it (so max_ttl: 0s alone
		// means no caching, not an error).
		c.DefaultTTL = ptr(min(max(DefaultDefaultTTL, c.MinTTL), max(*c.MaxTTL, 0)))
	}
	if len(c.CachedMethods) == 0 {
		c.CachedMethods = []string{http.MethodGet, http.MethodHead}
	}
	c.Key.QueryStrings.defaults(ListAll)
	c.Key.Cookies.defaults(ListNone)
	c.Forward.Headers.defaults(ListNone)
	c.Forward.Cookies.defaults(ListNone)
	c.Forward.QueryStrings.defaults(ListNone)
	if c.ErrorCachingMinTTL == nil {
		c.ErrorCachingMinTTL = ptr(DefaultErrorCachingMinTTL)
	}
	if c.KeepStale == nil {
		c.KeepStale = ptr(DefaultKeepStale)
	}
	if c.SurrogateControl == nil {
		c.SurrogateControl = ptr(true)
	}
	if c.StaleIfUnreachable == nil {
		c.StaleIfUnreachable = ptr(DefaultStaleIfUnreachable)
	}
}

// Validate reports every problem, each prefixed with its key. It expects
// Defaults to have run.
func (c *PolicyConfig) Validate() error {
	var errs []error
	for _, d := range []struct {
		key string
		v   *time.Duration
	}{
		{"min_ttl", &c.MinTTL}, {"default_ttl", c.DefaultTTL}, {"max_ttl", c.MaxTTL},
		{"error_caching_min_ttl", c.ErrorCachingMinTTL}, {"stale_if_error", &c.StaleIfError},
		{"stale_while_revalidate", &c.StaleWhileRevalidate}, {"keep_stale", c.KeepStale},
		{"stale_if_unreachable", c.StaleIfUnreachable},
	} {
		if d.v != nil && *d.v > maxDuration {
			errs = append(errs, fmt.Errorf("%s: at most %s (100 years)", d.key, maxDuration))
		}
	}
	if c.MinTTL < 0 {
		errs = append(errs, errors.New("min_ttl: must be >= 0"))
	}
	maxTTL := DefaultMaxTTL
	if c.MaxTTL != nil {
		maxTTL = *c.MaxTTL
	}
	if maxTTL < 0 {
		errs = append(errs, errors.New("max_ttl: must be >= 0"))
	} else if c.MinTTL > maxTTL {
		errs = append(errs, fmt.Errorf("min_ttl: %s is larger than max_ttl %s", c.MinTTL, maxTTL))
	}
	if c.DefaultTTL != nil {
		switch d := *c.DefaultTTL; {
		case d < 0:
			errs = append(errs, errors.New("default_ttl: must be >= 0"))
		case maxTTL >= 0 && c.MinTTL <= maxTTL && (d < c.MinTTL || d > maxTTL):
			errs = append(errs, fmt.Errorf("default_ttl: %s must be between min_ttl %s and max_ttl %s", d, c.MinTTL, maxTTL))
		}
	}
	errs = append(errs, validateMethods(c.CachedMethods)...)
	errs = append(errs, c.Key.QueryStrings.validate("key.query_strings", false)...)
	errs = append(errs, c.Key.Cookies.validate("key.cookies", false)...)
	for i, h := range c.Key.Headers {
		switch {
		case !validHeaderName(h):
			errs = append(errs, fmt.Errorf("key.headers[%d]: invalid header name %q", i, h))
		case hopByHop(textproto.CanonicalMIMEHeaderKey(h)):
			errs = append(errs, fmt.Errorf("key.headers[%d]: %s is hop-by-hop and never forwarded", i, h))
		case strings.EqualFold(h, "Cookie"):
			errs = append(errs, fmt.Errorf("key.headers[%d]: use key.cookies for cookies", i))
		}
	}
	errs = append(errs, c.Forward.Headers.validate("forward.headers", true)...)
	errs = append(errs, c.Forward.Cookies.validate("forward.cookies", false)...)
	errs = append(errs, c.Forward.QueryStrings.validate("forward.query_strings", false)...)
	if c.ErrorCachingMinTTL != nil && *c.ErrorCachingMinTTL < 0 {
		errs = append(errs, errors.New("error_caching_min_ttl: must be >= 0"))
	}
	codes := make([]int, 0, len(c.ErrorTTLs))
	for code := range c.ErrorTTLs {
		codes = append(codes, code)
	}
	slices.Sort(codes)
	for _, code := range codes {
		p := "error_ttls." + strconv.Itoa(code)
		if code < 400 || code > 599 {
			errs = append(errs, fmt.Errorf("%s: not an error status (want 400-599)", p))
		}
		if d := c.ErrorTTLs[code]; d < 0 {
			errs = append(errs, fmt.Errorf("%s: must be >= 0", p))
		} else if d > maxDuration {
			errs = append(errs, fmt.Errorf("%s: at most %s (100 years)", p, maxDuration))
		}
	}
	if c.StaleIfError < 0 {
		errs = append(errs, errors.New("stale_if_error: must be >= 0"))
	}
	if c.StaleWhileRevalidate < 0 {
		errs = append(errs, errors.New("stale_while_revalidate: must be >= 0"))
	}
	if c.StaleIfUnreachable != nil && *c.StaleIfUnreachable < 0 {
		errs = append(errs, errors.New("stale_if_unreachable: must be >= 0"))
	}
	if c.KeepStale != nil && *c.KeepStale < 0 {
		errs = append(errs, errors.New("keep_stale: must be >= 0"))
	}
	return errors.Join(errs...)
}

func validateMethods(ms []string) []error {
	var get, head, options bool
	var errs []error
	for i, m := range ms {
		switch m {
		case http.MethodGet:
			get = true
		case http.MethodHead:
			head = true
		case http.MethodOptions:
			options = true
		default:
			errs = append(errs, fmt.Errorf("cached_methods[%d]: %q cannot be cached (want GET, HEAD and optionally OPTIONS)", i, m))
		}
	}
	if len(errs) == 0 && !(get && head) {
		errs = append(errs, errors.New("cached_methods: want [GET, HEAD] or [GET, HEAD, OPTIONS]"))
	}
	_ = options
	return errs
}

func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return false
		}
	}
	return true
}

func ptr[T any](v T) *T { return &v }
