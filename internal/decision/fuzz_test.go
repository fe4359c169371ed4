package decision

import (
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// patternRegexp is an independent reading of PingOne's grammar, used to
// check the trie: * is [^/]*, ** is .*, {name} is [^/]+.
func patternRegexp(p string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c == '\\' && i+1 < len(p):
			b.WriteString(regexp.QuoteMeta(p[i+1 : i+2]))
			i++
		case c == '*' && i+1 < len(p) && p[i+1] == '*':
			b.WriteString(".*")
			i++
		case c == '*':
			b.WriteString("[^/]*")
		case c == '{':
			b.WriteString("[^/]+")
			i += strings.IndexByte(p[i:], '}')
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

// FuzzParameterPattern checks that a pattern either fails to parse or
// matches exactly the paths its regular expression matches.
func FuzzParameterPattern(f *testing.F) {
	// Seeds: testdata/fuzz/<target>/.
	f.Fuzz(func(t *testing.T, pattern, path string) {
		p, err := parseParameter(pattern)
		if err != nil {
			return
		}
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		if _, why := canonicalPath(path); why != "" || strings.Contains(path, "%") {
			return
		}
		tb := newTable()
		r := &route{op: &operation{}, pattern: pattern, literals: p.literals, wildcards: p.wildcards}
		tb.addParameter(r, p)
		m := matcher{method: "GET"}
		var buf [maxInlineSegs]string
		tb.lookup(&m, path, splitSegments(path, buf[:0]))
		want := patternRegexp(pattern).MatchString(path)
		if (m.best != nil) != want {
			t.Errorf("pattern %q on %q: trie %v, regexp %v", pattern, path, m.best != nil, want)
		}
	})
}

// FuzzDecide feeds arbitrary URLs and methods through SetURL, the
// canonicaliser and the engine: nothing panics, and nothing is allowed
// that no operation matches.
func FuzzDecide(f *testing.F) {
	// Seeds: testdata/fuzz/<target>/.
	e := newTestEngine(f, `
api_services:
  - name: S
    base_urls: [https://api.example.com]
    access_control: {authentication: none}
    operations:
      - {name: read, methods: [GET], paths: [{type: PARAMETER, pattern: "/orders/{id}"}]}
`)
	f.Fuzz(func(t *testing.T, method, raw string) {
		var in Input
		if in.SetURL(raw) != nil {
			return
		}
		in.Method = method
		d := e.Decide(t.Context(), &in)
		if !d.Allowed {
			return
		}
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatalf("allowed %q, which net/url cannot parse: %v", raw, err)
		}
		ok := method == "GET" && strings.EqualFold(u.Scheme, "https") &&
			strings.EqualFold(u.Hostname(), "api.example.com") && (u.Port() == "" || u.Port() == "443") &&
			regexp.MustCompile(`^/orders/[^/]+$`).MatchString(u.Path) &&
			!strings.Contains(strings.ToLower(u.EscapedPath()), "%2f") && u.Path != "/orders/." && u.Path != "/orders/.."
		if !ok {
			t.Errorf("Decide(%s %q) allowed (path %q), which no operation matches", method, raw, u.Path)
		}
	})
}

// FuzzTemplate checks that a set_headers template either fails to parse
// or renders without panicking.
func FuzzTemplate(f *testing.F) {
	// Seeds: testdata/fuzz/<target>/.
	f.Fuzz(func(t *testing.T, s string) {
		parts, err := parseTemplate(s, map[string]bool{"id": true})
		if err != nil {
			return
		}
		h := headerTemplate{name: "x", parts: parts}
		_ = h.render(nil, []Param{{Name: "id", Value: "7"}})
	})
}
