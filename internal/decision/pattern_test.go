package decision

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseParameter_Grammar(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		pattern   string
		wantErr   string // substring; "" means valid
		literals  int
		wildcards int
		params    []string
	}{
		{name: "param", pattern: "/orders/{id}", literals: 1, wildcards: 1, params: []string{"id"}},
		{name: "two params", pattern: "/u/{uid}/o/{oid}", literals: 2, wildcards: 2, params: []string{"uid", "oid"}},
		{name: "star segment", pattern: "/orders/*", literals: 1, wildcards: 1},
		{name: "star within segment", pattern: "/files/*.json", literals: 1, wildcards: 1},
		{name: "two stars in a segment", pattern: "/files/a*b*c", literals: 1, wildcards: 2},
		{name: "rest", pattern: "/orders/**", literals: 1, wildcards: 1},
		{name: "rest after prefix", pattern: "/files/ab**", literals: 1, wildcards: 1},
		{name: "root rest", pattern: "/**", wildcards: 1},
		{name: "trailing slash kept", pattern: "/orders/*/", literals: 2, wildcards: 1},
		{name: "escaped brace is literal", pattern: `/a/\{x\}/*`, literals: 2, wildcards: 1},
		{name: "escaped star is literal", pattern: `/a/\*/{id}`, literals: 2, wildcards: 1, params: []string{"id"}},
		{name: "escaped backslash", pattern: `/a\\b/*`, literals: 1, wildcards: 1},
		{name: "no leading slash", pattern: "orders/*", wantErr: `must start with "/"`},
		{name: "no wildcard", pattern: "/orders/7", wantErr: "must contain a wildcard"},
		{name: "only escaped wildcard", pattern: `/orders/\*`, wantErr: "must contain a wildcard"},
		{name: "rest not last", pattern: "/a/**/b", wantErr: `"**" must be last`},
		{name: "rest then star", pattern: "/a/***", wantErr: `"**" must be last`},
		{name: "rest then text", pattern: "/a/**x", wantErr: `"**" must be last`},
		{name: "partial param before", pattern: "/a/x{id}", wantErr: "whole segment"},
		{name: "partial param after", pattern: "/a/{id}x", wantErr: "whole segment"},
		{name: "nested param", pattern: "/a/{x{y}}", wantErr: "may not contain"},
		{name: "empty param", pattern: "/a/{}", wantErr: "empty parameter"},
		{name: "unclosed param", pattern: "/a/{id", wantErr: "whole segment"},
		{name: "duplicate param", pattern: "/{id}/x/{id}", wantErr: "appears twice"},
		{name: "unbalanced close", pattern: "/a}/*", wantErr: "unbalanced"},
		{name: "bad escape", pattern: `/a/\x/*`, wantErr: "invalid escape"},
		{name: "trailing backslash", pattern: `/a/*\`, wantErr: "invalid escape"},
		{name: "double slash", pattern: "/a//*", wantErr: `"//"`},
		{name: "dot segment", pattern: "/a/./*", wantErr: "dot segments"},
		{name: "dot dot segment", pattern: "/a/../*", wantErr: "dot segments"},
		{name: "control character", pattern: "/a/\x01*", wantErr: "control character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := parseParameter(tt.pattern)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseParameter(%q) error = %v, want containing %q", tt.pattern, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseParameter(%q) error = %v, want nil", tt.pattern, err)
			}
			got := [2]int{p.literals, p.wildcards}
			if want := [2]int{tt.literals, tt.wildcards}; got != want {
				t.Errorf("parseParameter(%q) literals, wildcards = %v, want %v", tt.pattern, got, want)
			}
			if diff := cmp.Diff(tt.params, p.params); diff != "" {
				t.Errorf("parseParameter(%q) params (-want +got):\n%s", tt.pattern, diff)
			}
		})
	}
}

func TestCheckExact(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pattern string
		wantErr string
	}{
		{"/orders", ""},
		{"/", ""},
		{"/orders/", ""},
		{"/orders/{id}", ""}, // verbatim: braces are just text
		{"orders", `must start with "/"`},
		{"/a//b", `"//"`},
		{"/a/./b", "dot segments"},
		{"/a/..", "dot segments"},
		{"/a\x7f", "control character"},
	}
	for _, tt := range tests {
		err := checkExact(tt.pattern)
		if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("checkExact(%q) = %v, want %q", tt.pattern, err, tt.wantErr)
		}
	}
}

func TestParameterPattern_Matches(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pattern string
		path    string
		want    bool
		params  []Param
	}{
		{"/orders/{id}", "/orders/7", true, []Param{{"id", "7"}}},
		{"/orders/{id}", "/orders/7/items", false, nil},
		{"/orders/{id}", "/orders/", false, nil}, // a parameter is never empty
		{"/orders/{id}", "/orders", false, nil},
		{"/orders/*", "/orders/7", true, nil},
		{"/orders/*", "/orders/7/x", false, nil},
		{"/files/*.json", "/files/a.json", true, nil},
		{"/files/*.json", "/files/a.xml", false, nil},
		{"/files/a*b*c", "/files/aXbYc", true, nil},
		{"/files/a*b*c", "/files/abc", true, nil},
		{"/files/a*b*c", "/files/acb", false, nil},
		{"/orders/**", "/orders/7", true, nil},
		{"/orders/**", "/orders/7/items/3", true, nil},
		{"/orders/**", "/orders/", true, nil},
		{"/orders/**", "/orders", false, nil},
		{"/orders/**", "/ordersX/1", false, nil},
		{"/files/ab**", "/files/abc/d", true, nil},
		{"/files/ab**", "/files/xab/d", false, nil},
		{"/**", "/", true, nil},
		{"/**", "/anything/at/all", true, nil},
		{`/a/\{x\}/*`, "/a/{x}/1", true, nil},
		{`/a/\{x\}/*`, "/a/x/1", false, nil},
		{`/a/\*/{id}`, "/a/*/9", true, []Param{{"id", "9"}}},
		{`/a/\*/{id}`, "/a/b/9", false, nil},
		{"/u/{uid}/o/{oid}", "/u/ann/o/42", true, []Param{{"uid", "ann"}, {"oid", "42"}}},
		{"/Orders/*", "/orders/1", false, nil}, // case-sensitive
	}
	for _, tt := range tests {
		t.Run(tt.pattern+" "+tt.path, func(t *testing.T) {
			t.Parallel()
			e := newTestEngine(t, `
api_services:
  - name: S
    base_urls: [https://api.example.com]
    access_control: {authentication: none}
    operations:
      - name: op
        paths: [{type: PARAMETER, pattern: '`+tt.pattern+`'}]
`)
			d := e.Decide(t.Context(), get("https://api.example.com"+tt.path))
			if d.Allowed != tt.want {
				t.Fatalf("Decide(%s) against %q allowed = %v (%s), want %v", tt.path, tt.pattern, d.Allowed, d.Reason, tt.want)
			}
			if tt.want {
				if diff := cmp.Diff(tt.params, d.Params, cmpEmpty); diff != "" {
					t.Errorf("Decide(%s) params (-want +got):\n%s", tt.path, diff)
				}
			}
		})
	}
}

func TestGlob_Intersects(t *testing.T) {
	t.Parallel()
	g := func(s string) glob { return glob{parts: strings.Split(s, "*")} }
	tests := []struct {
		a, b string
		want bool
	}{
		{"*", "abc", true},
		{"*.json", "*.xml", false},
		{"*.json", "a*", true},
		{"a*", "b*", false},
		{"a*c", "*b*", true},
		{"abc", "abc", true},
		{"abc", "abd", false},
		{"*x*", "*y*", true},
	}
	for _, tt := range tests {
		if got := g(tt.a).intersects(g(tt.b)); got != tt.want {
			t.Errorf("glob(%q).intersects(%q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
		if got := g(tt.b).intersects(g(tt.a)); got != tt.want {
			t.Errorf("glob(%q).intersects(%q) = %v, want %v", tt.b, tt.a, got, tt.want)
		}
	}
}
