package edge

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// route is a behavior compiled for the hot path: its pattern, its allowed
// methods, and its resolved metric children.
type route struct {
	b       Behavior
	pat     pattern
	methods []string
	allow   string // the Allow header value for 405 answers
	m       *routeMetrics
}

// snapshot is one immutable generation of what the pipeline serves:
// behaviors, owned headers, the request rules of the viewer Config and the
// access log. Reload swaps it whole; a request keeps the snapshot it
// started with, and the snapshot counts its requests (see generation.go).
type snapshot struct {
	routes []route
	owned  *ownedSet
	// early carries the metrics of requests refused before a behavior
	// matched (bad framing, bad path, limits).
	early *routeMetrics

	cfg      *Config // the generation's viewer config (defaulted, validated)
	pathOpts PathOptions
	trusted  []netip.Prefix
	access   Logger           // nil: no access log
	cert     *tls.Certificate // the listener's certificate (HTTPS only)

	life lifetime
}

// match returns the first route whose pattern matches the canonical path.
// The last route's pattern is "*", so there always is one.
func (s *snapshot) match(path string) *route {
	for i := range s.routes {
		if s.routes[i].pat.match(path) {
			return &s.routes[i]
		}
	}
	return &s.routes[len(s.routes)-1]
}

// allows reports whether the route serves method.
func (rt *route) allows(method string) bool {
	for _, m := range rt.methods {
		if m == method {
			return true
		}
	}
	return false
}

// compileBehaviors checks and compiles behaviors. Errors carry the key path
// of the behavior in the edge file, e.g. "behaviors[2].path_pattern: ...".
func compileBehaviors(bs []Behavior) ([]route, error) {
	if len(bs) == 0 {
		return nil, errors.New(`behaviors: at least one is needed (the default behavior, path_pattern "*")`)
	}
	var errs []error
	add := func(i int, key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("behaviors[%d].%s: %s", i, key, fmt.Sprintf(format, args...)))
	}
	routes := make([]route, len(bs))
	seen := make(map[string]int, len(bs))
	for i, b := range bs {
		rt := &routes[i]
		rt.b = b
		pat, err := compilePattern(b.PathPattern)
		if err != nil {
			add(i, "path_pattern", "%q: %v", b.PathPattern, err)
		}
		rt.pat = pat
		if key := pat.String(); err == nil {
			if j, dup := seen[key]; dup {
				add(i, "path_pattern", "%q is the same pattern as behaviors[%d] (first match wins, so this one is never used)", b.PathPattern, j)
			} else {
				seen[key] = i
			}
		}
		if b.Origin == nil {
			add(i, "origin", "missing")
		}
		methods, err := allowedMethods(b.AllowedMethods)
		if err != nil {
			add(i, "allowed_methods", "%v", err)
		}
		rt.methods = methods
		rt.allow = strings.Join(methods, ", ")
	}
	if last := len(bs) - 1; bs[last].PathPattern != "*" {
		add(last, "path_pattern", "the last behavior is the default one and must be \"*\", got %q", bs[last].PathPattern)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return routes, nil
}

// allowedMethods validates a behavior's methods. Empty means GET and HEAD;
// GET implies HEAD, as in every CloudFront method set. CONNECT is never
// served.
func allowedMethods(ms []string) ([]string, error) {
	if len(ms) == 0 {
		return []string{http.MethodGet, http.MethodHead}, nil
	}
	var errs []error
	out := make([]string, 0, len(ms)+1)
	for _, m := range ms {
		switch {
		case m == http.MethodConnect:
			errs = append(errs, errors.New("CONNECT is never served by the edge"))
		case !validMethod(m):
			errs = append(errs, fmt.Errorf("%q is not an HTTP method (methods are upper-case tokens such as GET)", m))
		default:
			if !contains(out, m) {
				out = append(out, m)
			}
		}
	}
	if contains(out, http.MethodGet) && !contains(out, http.MethodHead) {
		out = append(out, http.MethodHead)
	}
	return out, errors.Join(errs...)
}

// Allows reports whether the behavior serves method, by the rules the edge
// applies to viewer requests (allowedMethods: empty AllowedMethods means GET
// and HEAD, GET implies HEAD, CONNECT is never served). A function that
// changes a request's method checks the new one with it.
func (b *Behavior) Allows(method string) bool {
	methods, _ := allowedMethods(b.AllowedMethods)
	return contains(methods, method)
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// validMethod accepts an upper-case token (RFC 9110 section 9.1).
func validMethod(m string) bool {
	if m == "" {
		return false
	}
	for i := 0; i < len(m); i++ {
		c := m[i]
		if !('A' <= c && c <= 'Z') && c != '-' && c != '_' {
			return false
		}
	}
	return true
}
