package deploy

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// selector is one vector selector of a PromQL expression: a metric name
// and the label names its matchers use, with the values of the matchers
// that name literal values (= and =~ over a plain alternation).
type selector struct {
	Metric string
	Labels []string
	Values map[string][]string
}

// query is what a dashboard expression asks of the metrics: its selectors
// and the labels it groups or matches by.
type query struct {
	Selectors []selector
	Grouping  []string
}

// promqlKeywords are identifiers that are not metric names.
var promqlKeywords = map[string]bool{
	"and": true, "or": true, "unless": true, "bool": true, "offset": true, "atan2": true,
	"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
	"inf": true, "nan": true,
	// aggregation operators, which may come before their by/without clause
	"sum": true, "min": true, "max": true, "avg": true, "group": true, "stddev": true, "stdvar": true,
	"count": true, "count_values": true, "bottomk": true, "topk": true, "quantile": true,
	"limitk": true, "limit_ratio": true,
}

// groupingKeywords take a parenthesised list of label names.
var groupingKeywords = map[string]bool{
	"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
}

// parseQuery reads the metric names and label names out of a PromQL
// expression as Grafana stores it ($variables allowed). It is a lexer, not
// a PromQL parser: enough to name every series a dashboard depends on,
// which is all the dashboard test needs, without the Prometheus server
// module as a dependency. Grafana's label_values(selector, label) is
// understood too.
func parseQuery(expr string) query {
	var q query
	l := lexer{s: expr}
	for {
		tok, kind := l.next()
		switch kind {
		case tokEOF:
			return q
		case tokIdent:
			next := l.peekByte()
			switch {
			case tok == "label_values" && next == '(':
				l.pos++
				inner := l.until(')')
				i := strings.LastIndexByte(inner, ',')
				if i < 0 { // label_values(label)
					q.Grouping = append(q.Grouping, strings.TrimSpace(inner))
					continue
				}
				sel, label := inner[:i], inner[i+1:]
				sub := parseQuery(sel)
				q.Selectors = append(q.Selectors, sub.Selectors...)
				q.Grouping = append(q.Grouping, strings.TrimSpace(label))
			case groupingKeywords[strings.ToLower(tok)] && next == '(':
				l.pos++
				for _, name := range strings.Split(l.until(')'), ",") {
					if name = strings.TrimSpace(name); name != "" {
						q.Grouping = append(q.Grouping, name)
					}
				}
			case promqlKeywords[strings.ToLower(tok)], next == '(':
				// an operator keyword, or a function name
			default:
				sel := selector{Metric: tok}
				if next == '{' {
					l.pos++
					sel.Labels, sel.Values = l.matchers()
				}
				q.Selectors = append(q.Selectors, sel)
			}
		case tokOpenBrace: // a selector without a metric name: {__name__=...}
			labels, values := l.matchers()
			q.Selectors = append(q.Selectors, selector{Labels: labels, Values: values})
		}
	}
}

type tokKind int

const (
	tokEOF tokKind = iota
	tokIdent
	tokOpenBrace
	tokOther
)

type lexer struct {
	s   string
	pos int
}

func (l *lexer) skipSpace() {
	for l.pos < len(l.s) && strings.IndexByte(" \t\r\n", l.s[l.pos]) >= 0 {
		l.pos++
	}
}

func (l *lexer) peekByte() byte {
	l.skipSpace()
	if l.pos < len(l.s) {
		return l.s[l.pos]
	}
	return 0
}

func isIdentStart(c byte) bool {
	return c == '_' || c == ':' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func isIdent(c byte) bool { return isIdentStart(c) || '0' <= c && c <= '9' }

// next returns the next identifier or brace; strings, numbers, durations,
// $variables and [ranges] are skipped.
func (l *lexer) next() (string, tokKind) {
	for {
		l.skipSpace()
		if l.pos >= len(l.s) {
			return "", tokEOF
		}
		c := l.s[l.pos]
		switch {
		case c == '"' || c == '\'' || c == '`':
			l.str()
		case c == '$':
			l.pos++
			if l.pos < len(l.s) && l.s[l.pos] == '{' {
				l.until('}')
				continue
			}
			for l.pos < len(l.s) && isIdent(l.s[l.pos]) {
				l.pos++
			}
		case c == '[':
			l.pos++
			l.until(']')
		case c == '{':
			l.pos++
			return "{", tokOpenBrace
		case '0' <= c && c <= '9' || c == '.':
			for l.pos < len(l.s) && (isIdent(l.s[l.pos]) || l.s[l.pos] == '.' ||
				(l.s[l.pos] == '-' || l.s[l.pos] == '+') && (l.s[l.pos-1] == 'e' || l.s[l.pos-1] == 'E')) {
				l.pos++
			}
		case isIdentStart(c):
			start := l.pos
			for l.pos < len(l.s) && isIdent(l.s[l.pos]) {
				l.pos++
			}
			return l.s[start:l.pos], tokIdent
		default:
			l.pos++
		}
	}
}

// str skips a quoted string starting at pos and returns its content.
func (l *lexer) str() string {
	quote := l.s[l.pos]
	l.pos++
	var b strings.Builder
	for l.pos < len(l.s) {
		c := l.s[l.pos]
		l.pos++
		switch {
		case c == quote:
			return b.String()
		case c == '\\' && quote != '`' && l.pos < len(l.s):
			b.WriteByte(l.s[l.pos])
			l.pos++
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// until returns the text up to the closing byte (nesting of ( [ { and
// quoted strings respected) and moves past it.
func (l *lexer) until(closing byte) string {
	start, depth := l.pos, 0
	for l.pos < len(l.s) {
		c := l.s[l.pos]
		switch {
		case c == '"' || c == '\'' || c == '`':
			l.str()
			continue
		case c == closing && depth == 0:
			l.pos++
			return l.s[start : l.pos-1]
		case c == '(' || c == '[' || c == '{':
			depth++
		case c == ')' || c == ']' || c == '}':
			depth--
		}
		l.pos++
	}
	return l.s[start:]
}

// matchers reads label matchers up to the closing brace.
func (l *lexer) matchers() ([]string, map[string][]string) {
	var labels []string
	values := map[string][]string{}
	for {
		if l.peekByte() == '}' {
			l.pos++
			return labels, values
		}
		tok, kind := l.next()
		if kind != tokIdent {
			return labels, values
		}
		labels = append(labels, tok)
		l.skipSpace()
		op := ""
		for l.pos < len(l.s) && strings.IndexByte("=!~", l.s[l.pos]) >= 0 {
			op += string(l.s[l.pos])
			l.pos++
		}
		l.skipSpace()
		if l.pos >= len(l.s) || strings.IndexByte("\"'`", l.s[l.pos]) < 0 {
			return labels, values
		}
		v := l.str()
		if literalValues(op, v) {
			values[tok] = append(values[tok], strings.Split(v, "|")...)
		}
		if l.peekByte() == ',' {
			l.pos++
		}
	}
}

// literalValues reports whether a matcher names values that must exist:
// = with a value, or =~ over a plain alternation (a|b), no $variables.
func literalValues(op, v string) bool {
	if v == "" || strings.Contains(v, "$") {
		return false
	}
	switch op {
	case "=":
		return true
	case "=~":
		return strings.Trim(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-|") == ""
	}
	return false
}

func TestParseQuery(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, expr string
		want       query
	}{
		{
			name: "rate with grouping and variables",
			expr: `sum by (behavior) (rate(edgeward_edge_requests_total{job=~"$job", instance=~"$instance"}[$__rate_interval]))`,
			want: query{Selectors: []selector{{Metric: "edgeward_edge_requests_total", Labels: []string{"job", "instance"}, Values: map[string][]string{}}}, Grouping: []string{"behavior"}},
		},
		{
			name: "ratio with literal matchers",
			expr: `sum(rate(a_total{result=~"Hit|RefreshHit", class="5xx"}[5m])) / sum(rate(a_total[1h30m])) > 1e-9`,
			want: query{Selectors: []selector{
				{Metric: "a_total", Labels: []string{"result", "class"}, Values: map[string][]string{"result": {"Hit", "RefreshHit"}, "class": {"5xx"}}},
				{Metric: "a_total"},
			}},
		},
		{
			name: "histogram quantile",
			expr: `histogram_quantile(0.99, sum by (le, origin) (rate(x_seconds_bucket{o!="a,b}"}[${__rate_interval}])))`,
			want: query{Selectors: []selector{{Metric: "x_seconds_bucket", Labels: []string{"o"}, Values: map[string][]string{}}}, Grouping: []string{"le", "origin"}},
		},
		{
			name: "operators and on",
			expr: `a and on(instance) b offset 5m or max without (x) (c) unless bool d`,
			want: query{Selectors: []selector{{Metric: "a"}, {Metric: "b"}, {Metric: "c"}, {Metric: "d"}}, Grouping: []string{"instance", "x"}},
		},
		{
			name: "grafana label_values",
			expr: `label_values(edgeward_edge_requests_total{job=~"$job"}, instance)`,
			want: query{Selectors: []selector{{Metric: "edgeward_edge_requests_total", Labels: []string{"job"}, Values: map[string][]string{}}}, Grouping: []string{"instance"}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := parseQuery(tc.expr)
			if diff := cmp.Diff(tc.want, got, cmpEmpty); diff != "" {
				t.Errorf("parseQuery(%q) (-want +got):\n%s", tc.expr, diff)
			}
		})
	}
}

// cmpEmpty treats nil and empty maps and slices alike.
var cmpEmpty = cmp.FilterValues(func(x, y any) bool {
	return isEmpty(x) && isEmpty(y)
}, cmp.Ignore())

func isEmpty(v any) bool {
	switch v := v.(type) {
	case map[string][]string:
		return len(v) == 0
	case []string:
		return len(v) == 0
	}
	return false
}

// FuzzParseQuery: any text, however malformed, is read without a panic or
// a hang, and every metric name found is an identifier.
func FuzzParseQuery(f *testing.F) {
	f.Add(`sum by (behavior) (rate(edgeward_edge_requests_total{job=~"$job"}[$__rate_interval]))`)
	f.Add(`label_values(m{a="b"}, c)`)
	f.Add(`{__name__=~"x|y"} / on() group_left(a, b) z`)
	f.Fuzz(func(t *testing.T, expr string) {
		for _, s := range parseQuery(expr).Selectors {
			for i := 0; i < len(s.Metric); i++ {
				if !isIdent(s.Metric[i]) {
					t.Fatalf("parseQuery(%q) found metric %q", expr, s.Metric)
				}
			}
		}
	})
}
