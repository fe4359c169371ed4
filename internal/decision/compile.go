package decision

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"cel.dev/cel-go/cel"

	"golang.org/x/net/http/httpguts"

	"github.com/edgeward/edgeward/internal/token"
)

// model is a compiled configuration: what Decide reads.
type model struct {
	services []*service
	byName   map[string]*service
	hosts    map[hostKey]*hostEntry
}

// hostKey is a base URL's origin, with the default port as 0.
type hostKey struct {
	scheme string
	host   string
	port   int
}

// hostEntry maps the base paths of one origin ("" for the root, never a
// trailing slash) to their services.
type hostEntry struct {
	paths map[string]*service
}

// service is a compiled API service.
type service struct {
	name        string
	index       int
	issuer      string // token_issuers key, "" for none
	audience    string
	rules       rules
	ops         []*operation
	table       *table
	set         []headerTemplate // sorted by name
	remove      []string         // remove_headers and every set name
	respSet     []Header
	respRemove  []string
	realm       string // quoted-string content for WWW-Authenticate
	paramsBound map[string]bool

	// Set by New: the issuer's verifier, iss and clock skew.
	verifier *token.Verifier
	iss      string
	skew     time.Duration
}

// operation is a compiled operation.
type operation struct {
	svc     *service
	name    string
	index   int
	methods []string // upper-case; nil means every method
	rules   rules
}

// allows reports whether the operation accepts method.
func (o *operation) allows(method string) bool {
	return o.methods == nil || slices.Contains(o.methods, method)
}

// addMethods adds the operation's methods to a sorted set.
func (o *operation) addMethods(set []string) []string {
	ms := o.methods
	if ms == nil {
		ms = allMethods
	}
	for _, m := range ms {
		if i, found := slices.BinarySearch(set, m); !found {
			set = slices.Insert(set, i, m)
		}
	}
	return set
}

// allMethods is what an operation without methods answers in Allow.
var allMethods = []string{"DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"}

// overlaps reports whether two operations share a method.
func (o *operation) overlaps(p *operation) bool {
	if o.methods == nil || p.methods == nil {
		return true
	}
	for _, m := range o.methods {
		if slices.Contains(p.methods, m) {
			return true
		}
	}
	return false
}

// rules is a compiled access_control block.
type rules struct {
	auth        string // required, optional, none; "" inherits (operations)
	scopes      []string
	scopeAll    bool
	groups      []string
	groupsClaim string
	cond        *condition
}

// compile validates c and builds its model, reporting every problem.
func compile(c *Config) (*model, error) {
	errs := c.validateTop()
	env, err := newCELEnv()
	if err != nil {
		return nil, fmt.Errorf("condition: %w", err)
	}
	m := &model{byName: map[string]*service{}, hosts: map[hostKey]*hostEntry{}}
	bases := map[string]string{} // normalised base URL -> where it was declared
	for i := range c.APIServices {
		s, serr := compileService(c, i, env, m, bases)
		errs = append(errs, serr...)
		if s != nil {
			m.services = append(m.services, s)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return m, nil
}

func compileService(c *Config, i int, env *cel.Env, m *model, bases map[string]string) (*service, []error) {
	sc := &c.APIServices[i]
	p := fmt.Sprintf("api_services[%d]", i)
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	s := &service{
		name: sc.Name, index: i, issuer: sc.TokenIssuer, audience: sc.Audience,
		table: newTable(), paramsBound: map[string]bool{},
	}
	switch {
	case sc.Name == "":
		add("%s.name: required", p)
	case !httpguts.ValidHeaderFieldValue(sc.Name):
		add("%s.name: control characters are not allowed", p)
	case m.byName[sc.Name] != nil:
		add("%s.name: %q is also the name of api_services[%d]", p, sc.Name, m.byName[sc.Name].index)
	default:
		m.byName[sc.Name] = s
	}
	s.realm = quoteContent(sc.Name)
	if len(sc.BaseURLs) == 0 {
		add("%s.base_urls: at least one base URL is required", p)
	}
	for j, raw := range sc.BaseURLs {
		key, base, err := parseBaseURL(raw)
		if err != nil {
			add("%s.base_urls[%d]: %q: %v", p, j, raw, err)
			continue
		}
		where := fmt.Sprintf("%s.base_urls[%d]", p, j)
		norm := key.scheme + "://" + key.host + ":" + strconv.Itoa(key.port) + base
		if prev, dup := bases[norm]; dup {
			add("%s: %q is also %s", where, raw, prev)
			continue
		}
		bases[norm] = where
		he := m.hosts[key]
		if he == nil {
			he = &hostEntry{paths: map[string]*service{}}
			m.hosts[key] = he
		}
		he.paths[base] = s
	}
	if sc.TokenIssuer != "" {
		if _, ok := c.TokenIssuers[sc.TokenIssuer]; !ok {
			add("%s.token_issuer: unknown token issuer %q (known: %s)", p, sc.TokenIssuer, knownIssuers(c))
		}
	}
	var rerr []error
	s.rules, rerr = compileRules(&sc.AccessControl, p+".access_control", env, false)
	errs = append(errs, rerr...)
	if (s.rules.auth == AuthRequired || s.rules.auth == AuthOptional) && sc.Audience == "" {
		add("%s.audience: required when authentication is %s (tokens whose aud lacks it are rejected)", p, s.rules.auth)
	}
	if len(sc.Operations) == 0 {
		add("%s.operations: at least one operation is required (requests matching none are denied)", p)
	}
	for j := range sc.Operations {
		errs = append(errs, compileOperation(s, sc, j, p, env)...)
	}
	errs = append(errs, s.findTies(p)...)
	errs = append(errs, s.compileStatements(sc, p)...)
	return s, errs
}

func knownIssuers(c *Config) string {
	var names []string
	for n := range c.TokenIssuers {
		names = append(names, n)
	}
	slices.Sort(names)
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

func compileOperation(s *service, sc *APIService, j int, sp string, env *cel.Env) []error {
	oc := &sc.Operations[j]
	p := fmt.Sprintf("%s.operations[%d]", sp, j)
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	o := &operation{svc: s, name: oc.Name, index: j}
	if oc.Name == "" {
		add("%s.name: required", p)
	}
	for k, meth := range oc.Methods {
		up := strings.ToUpper(meth)
		switch {
		case !httpguts.ValidHeaderFieldName(meth):
			add("%s.methods[%d]: %q is not a method name", p, k, meth)
		case slices.Contains(o.methods, up):
			add("%s.methods[%d]: %s is listed twice", p, k, up)
		default:
			o.methods = append(o.methods, up)
		}
	}
	var rerr []error
	o.rules, rerr = compileRules(&oc.AccessControl, p+".access_control", env, true)
	errs = append(errs, rerr...)
	auth := o.rules.auth
	if auth == "" {
		auth = s.rules.auth
	}
	if auth == AuthNone && (len(o.rules.scopes) > 0 || len(o.rules.groups) > 0 || len(s.rules.scopes) > 0 || len(s.rules.groups) > 0) {
		add("%s.access_control: scopes and groups need a token, but authentication is none", p)
	}
	if auth != AuthNone && s.rules.auth == AuthNone && sc.Audience == "" {
		add("%s.access_control.authentication: %s needs the service's audience", p, auth)
	}
	if len(oc.Paths) == 0 {
		add("%s.paths: at least one path is required", p)
	}
	seen := map[string]bool{}
	for k, pc := range oc.Paths {
		pp := fmt.Sprintf("%s.paths[%d]", p, k)
		r := &route{op: o, path: k, pattern: pc.Pattern}
		switch pc.Type {
		case PathExact:
			if err := checkExact(pc.Pattern); err != nil {
				add("%s.pattern: %v", pp, err)
				continue
			}
			r.exact = true
			s.table.addExact(r)
		case PathParameter:
			pat, err := parseParameter(pc.Pattern)
			if err != nil {
				add("%s.pattern: %v", pp, err)
				continue
			}
			r.literals, r.wildcards = pat.literals, pat.wildcards
			s.table.addParameter(r, pat)
			for _, n := range pat.params {
				s.paramsBound[n] = true
			}
		case "":
			add("%s.type: required (EXACT or PARAMETER)", pp)
			continue
		default:
			add("%s.type: %q is not EXACT or PARAMETER", pp, pc.Type)
			continue
		}
		if k := pc.Type + " " + pc.Pattern; seen[k] {
			add("%s.pattern: %q is listed twice in this operation", pp, pc.Pattern)
		} else {
			seen[k] = true
		}
	}
	s.ops = append(s.ops, o)
	return errs
}

// findTies reports routes of different operations with a method in common,
// the same precedence and a path that both match: which one decides would
// be arbitrary.
func (s *service) findTies(p string) []error {
	var errs []error
	report := func(a, b *route) {
		if a.op == b.op || !a.sameRank(b) || !a.op.overlaps(b.op) {
			return
		}
		if a.op.index > b.op.index {
			a, b = b, a // one message per pair, at the later operation
		}
		errs = append(errs, fmt.Errorf("%s.operations[%d].paths[%d].pattern: %q ties with operations[%d].paths[%d] %q (same precedence, a path and a method in common); make one more specific or split the methods",
			p, b.op.index, b.path, b.pattern, a.op.index, a.path, a.pattern))
	}
	exacts := make([]string, 0, len(s.table.exact))
	for k := range s.table.exact {
		exacts = append(exacts, k)
	}
	slices.Sort(exacts)
	for _, k := range exacts {
		rs := s.table.exact[k]
		for x := range rs {
			for y := range rs {
				report(rs[x], rs[y])
			}
		}
	}
	var walk func(n *node)
	walk = func(n *node) {
		check := func(r *route) {
			pat, _ := parseParameter(r.pattern) // parsed before, cannot fail
			s.table.coMatches(pat.segs, func(o *route) { report(r, o) })
		}
		for _, r := range n.ends {
			check(r)
		}
		for _, rr := range n.rests {
			check(rr.r)
		}
		for _, k := range slices.Sorted(maps.Keys(n.lits)) {
			walk(n.lits[k])
		}
		if n.param != nil {
			walk(n.param)
		}
		for _, e := range n.globs {
			walk(e.next)
		}
	}
	walk(&s.table.root)
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return slices.CompactFunc(errs, func(a, b error) bool { return a.Error() == b.Error() })
}

func compileRules(ac *AccessControl, p string, env *cel.Env, inherit bool) (rules, []error) {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	r := rules{auth: ac.Authentication, groups: ac.Groups, groupsClaim: ac.GroupsClaim}
	switch ac.Authentication {
	case AuthRequired, AuthOptional, AuthNone:
	case "":
		if !inherit {
			r.auth = AuthRequired
		}
	default:
		add("%s.authentication: %q is not required, optional or none", p, ac.Authentication)
	}
	if r.groupsClaim == "" {
		r.groupsClaim = DefaultGroupsClaim
	}
	if sr := ac.Scopes; sr != nil {
		switch sr.Match {
		case MatchAny, "":
		case MatchAll:
			r.scopeAll = true
		default:
			add("%s.scopes.match: %q is not ANY or ALL", p, sr.Match)
		}
		if len(sr.Values) == 0 {
			add("%s.scopes.values: at least one scope is required", p)
		}
		for k, v := range sr.Values {
			if v == "" || strings.ContainsAny(v, " \"\\") || !httpguts.ValidHeaderFieldValue(v) {
				add("%s.scopes.values[%d]: %q is not a scope token", p, k, v)
			}
		}
		r.scopes = sr.Values
	}
	for k, g := range ac.Groups {
		if g == "" {
			add("%s.groups[%d]: empty", p, k)
		}
	}
	if ac.Condition != "" {
		cond, err := compileCondition(env, ac.Condition)
		if err != nil {
			add("%s.condition: %v", p, err)
		}
		r.cond = cond
	}
	return r, errs
}

// parseBaseURL normalises a base URL: lower-case scheme and host, default
// port as 0, decoded path without a trailing slash ("" for the root).
func parseBaseURL(raw string) (hostKey, string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return hostKey{}, "", errors.New("not a URL")
	}
	var k hostKey
	k.scheme = strings.ToLower(u.Scheme)
	switch {
	case k.scheme != "http" && k.scheme != "https":
		return k, "", errors.New("scheme must be http or https")
	case u.Host == "" || u.Hostname() == "":
		return k, "", errors.New("host is required")
	case u.User != nil:
		return k, "", errors.New("user information is not allowed")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return k, "", errors.New("query and fragment are not allowed")
	}
	k.host = strings.ToLower(u.Hostname())
	if ps := u.Port(); ps != "" {
		n, err := strconv.Atoi(ps)
		if err != nil || n < 1 || n > 65535 {
			return k, "", fmt.Errorf("port %q is out of range", ps)
		}
		k.port = normalPort(k.scheme, n)
	} else if strings.HasSuffix(u.Host, ":") {
		return k, "", errors.New("empty port")
	}
	base := strings.TrimSuffix(u.Path, "/")
	if base != "" {
		if err := checkExact(base); err != nil {
			return k, "", fmt.Errorf("path: %v", err)
		}
		if strings.ContainsAny(base, `\`) {
			return k, "", errors.New(`path: "\" is not allowed`)
		}
	}
	return k, base, nil
}

// normalPort returns 0 for a scheme's default port.
func normalPort(scheme string, port int) int {
	if (scheme == "https" && port == 443) || (scheme == "http" && port == 80) {
		return 0
	}
	return port
}

// quoteContent escapes s for an RFC 9110 quoted-string.
func quoteContent(s string) string {
	if !strings.ContainsAny(s, `"\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
