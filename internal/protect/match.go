package protect

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"regexp"
	"slices"
	"strings"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/ext"

	"github.com/edgeward/edgeward/internal/pct"
)

// celCostLimit bounds the work one condition may do per request; past it
// the evaluation fails, which counts as a match for block rules (fail
// closed) and as no match for allow rules. Reading a header or query
// parameter the request does not have is no match, not a failure.
const celCostLimit = 100_000

// view is what rules see of one request: the canonical path and the query
// the origin will get, the headers after the edge's hygiene, and the
// client address after trusted_proxies.
type view struct {
	method string
	path   string
	query  string
	header http.Header
	ip     netip.Addr
	// parsed lazily
	q   map[string][]string
	cel map[string]any
}

func (v *view) queryValues() map[string][]string {
	if v.q == nil {
		v.q = parseQuery(v.query)
	}
	return v.q
}

// parseQuery is url.ParseQuery that keeps what it can of a malformed
// query: a rule never sees less than was sent.
func parseQuery(q string) map[string][]string {
	m := map[string][]string{}
	for q != "" {
		var kv string
		kv, q, _ = strings.Cut(q, "&")
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		m[unescape(k)] = append(m[unescape(k)], unescape(v))
	}
	return m
}

// match is a compiled MatchConfig.
type match struct {
	methods []string
	path    *regexp.Regexp
	headers []fieldMatch
	query   []fieldMatch
	ipSet   *ipSet
	cel     cel.Program
}

type fieldMatch struct {
	name    string
	equals  string
	re      *regexp.Regexp
	present bool
	absent  bool
}

// compileMatch compiles m; ipSets resolves ip_set (nil: not resolved, for
// Validate).
func compileMatch(m *MatchConfig, ipSets map[string]*ipSet) (*match, error) {
	var errs []error
	out := &match{methods: m.Methods}
	for i, meth := range m.Methods {
		if !tokenPattern.MatchString(meth) || strings.ToUpper(meth) != meth {
			errs = append(errs, fmt.Errorf("methods[%d]: %q is not an upper-case method", i, meth))
		}
	}
	if m.Path != "" {
		if !strings.HasPrefix(m.Path, "/") && !strings.HasPrefix(m.Path, "*") {
			errs = append(errs, fmt.Errorf("path: a pattern starts with / or *, got %q", m.Path))
		} else {
			out.path = compileGlob(m.Path)
		}
	}
	fields := func(key string, in []FieldMatch, header bool) []fieldMatch {
		var fs []fieldMatch
		for i, f := range in {
			p := fmt.Sprintf("%s[%d]", key, i)
			fm := fieldMatch{name: f.Name, equals: f.Equals, present: f.Present, absent: f.Absent}
			if header {
				fm.name = http.CanonicalHeaderKey(f.Name)
				if !tokenPattern.MatchString(f.Name) {
					errs = append(errs, fmt.Errorf("%s.name: %q is not a header name", p, f.Name))
				}
			} else if f.Name == "" {
				errs = append(errs, fmt.Errorf("%s.name: required", p))
			}
			n := 0
			for _, set := range []bool{f.Equals != "", f.Regex != "", f.Present, f.Absent} {
				if set {
					n++
				}
			}
			if n != 1 {
				errs = append(errs, fmt.Errorf("%s: give exactly one of equals, regex, present, absent", p))
			}
			if f.Regex != "" {
				re, err := regexp.Compile(f.Regex)
				if err != nil {
					errs = append(errs, fmt.Errorf("%s.regex: %v", p, err))
				}
				fm.re = re
			}
			fs = append(fs, fm)
		}
		return fs
	}
	out.headers = fields("headers", m.Headers, true)
	out.query = fields("query", m.Query, false)
	if m.CEL != "" {
		prg, err := compileCEL(m.CEL)
		if err != nil {
			errs = append(errs, fmt.Errorf("cel: %v", err))
		}
		out.cel = prg
	}
	if m.IPSet != "" && ipSets != nil {
		out.ipSet = ipSets[m.IPSet]
		if out.ipSet == nil {
			errs = append(errs, fmt.Errorf("ip_set: unknown IP set %q", m.IPSet))
		}
	}
	return out, errors.Join(errs...)
}

// compileGlob compiles a behaviors-style path pattern: * is any run of
// characters (including /), ? exactly one; case-sensitive.
func compileGlob(p string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`^`)
	for _, r := range p {
		switch r {
		case '*':
			b.WriteString(`.*`)
		case '?':
			b.WriteString(`.`)
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString(`$`)
	return regexp.MustCompile(b.String())
}

// compileCEL compiles a boolean condition over request.
func compileCEL(src string) (cel.Program, error) {
	env, err := cel.NewEnv(cel.Variable("request", cel.MapType(cel.StringType, cel.DynType)), ext.Strings())
	if err != nil {
		return nil, err
	}
	ast, iss := env.Compile(src)
	if iss.Err() != nil {
		return nil, fmt.Errorf("does not compile: %s", strings.ReplaceAll(iss.Err().Error(), "\n", " "))
	}
	if t := ast.OutputType(); !t.IsExactType(cel.BoolType) && !t.IsExactType(cel.DynType) {
		return nil, fmt.Errorf("must be a boolean expression, not %s", t)
	}
	return env.Program(ast, cel.CostLimit(celCostLimit), cel.InterruptCheckFrequency(100))
}

// matches reports whether every condition holds. An error (a CEL
// evaluation that failed) is returned with false.
func (m *match) matches(ctx context.Context, v *view) (bool, error) {
	if len(m.methods) > 0 && !slices.Contains(m.methods, v.method) {
		return false, nil
	}
	if m.path != nil && !m.path.MatchString(v.path) {
		return false, nil
	}
	for i := range m.headers {
		if !m.headers[i].matches(v.header[m.headers[i].name]) {
			return false, nil
		}
	}
	if len(m.query) > 0 {
		q := v.queryValues()
		for i := range m.query {
			if !m.query[i].matches(q[m.query[i].name]) {
				return false, nil
			}
		}
	}
	if m.ipSet != nil && !m.ipSet.contains(v.ip) {
		return false, nil
	}
	if m.cel != nil {
		out, _, err := m.cel.ContextEval(ctx, map[string]any{"request": v.celRequest()})
		if err != nil {
			if strings.HasPrefix(err.Error(), "no such key") {
				return false, nil // a header or parameter the request does not have
			}
			return false, err
		}
		b, ok := out.(types.Bool)
		if !ok {
			return false, fmt.Errorf("condition returned %s, not a boolean", out.Type())
		}
		return bool(b), nil
	}
	return true, nil
}

func (f *fieldMatch) matches(values []string) bool {
	switch {
	case f.absent:
		return len(values) == 0
	case f.present:
		return len(values) > 0
	}
	for _, v := range values {
		if (f.re != nil && f.re.MatchString(v)) || (f.re == nil && v == f.equals) {
			return true
		}
	}
	return false
}

// celRequest is the request variable of a CEL condition: method, path,
// query (first value per name), headers (lower-case names, values joined
// with ", ") and ip.
func (v *view) celRequest() map[string]any {
	if v.cel != nil {
		return v.cel
	}
	headers := make(map[string]string, len(v.header))
	for k, vv := range v.header {
		headers[strings.ToLower(k)] = strings.Join(vv, ", ")
	}
	query := map[string]string{}
	for k, vv := range v.queryValues() {
		query[k] = vv[0]
	}
	ip := ""
	if v.ip.IsValid() {
		ip = v.ip.String()
	}
	v.cel = map[string]any{"method": v.method, "path": v.path, "query": query, "headers": headers, "ip": ip}
	return v.cel
}

// unescape percent-decodes s as a query component, keeping a malformed
// escape as it is.
func unescape(s string) string {
	if !strings.ContainsAny(s, "%+") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if d, ok := pct.At(s, i); ok {
			c = d
			i += 2
		} else if c == '+' {
			c = ' '
		}
		b.WriteByte(c)
	}
	return b.String()
}
