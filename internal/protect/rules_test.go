package protect

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestIPSet_IPv4IPv6AndMapped(t *testing.T) {
	s, err := newIPSet("x", IPSetConfig{CIDRs: []string{"192.0.2.0/24", "2001:db8:abcd::/48", "198.51.100.7", "::ffff:203.0.113.0/120"}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		ip   string
		want bool
	}{
		{"192.0.2.200", true},
		{"192.0.3.1", false},
		{"::ffff:192.0.2.9", true}, // IPv4-mapped is the IPv4 address
		{"2001:db8:abcd:12::1", true},
		{"2001:db8:abce::1", false},
		{"198.51.100.7", true},
		{"198.51.100.8", false},
		{"203.0.113.44", true},
		{"::1", false},
	}
	for _, tt := range tests {
		if got := s.contains(netip.MustParseAddr(tt.ip)); got != tt.want {
			t.Errorf("contains(%s) = %v, want %v", tt.ip, got, tt.want)
		}
	}
}

func TestIPSet_FileErrorsNameTheLine(t *testing.T) {
	_, err := parseIPList("deny.txt", []byte("192.0.2.0/24\n# ok\n\n10.0.0.0/33\nnot-an-ip\n"))
	if err == nil || !strings.Contains(err.Error(), "deny.txt:4:") || !strings.Contains(err.Error(), "deny.txt:5:") {
		t.Errorf("parseIPList = %v, want errors at deny.txt:4 and :5", err)
	}
}

func TestIPSet_AllowAndDenyAndFileReload(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "deny.txt")
	if err := os.WriteFile(file, []byte("2001:db8:bad::/48\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		IPSets: map[string]IPSetConfig{"deny": {File: file}, "office": {CIDRs: []string{"192.0.2.0/24"}}},
		Sets: map[string]SetConfig{"s": {IPDeny: []string{"deny"}, IPAllow: []string{"office"},
			Rules: []RuleConfig{{Name: "everything-else", Action: ActionBlock, Match: MatchConfig{Path: "*"}}}}},
	}
	s := build(t, cfg, Options{})
	if got := inspect(s, from(req("GET", "/", ""), "2001:db8:bad::1")); got != 403 {
		t.Errorf("denied IPv6 = %d, want 403", got)
	}
	if got := inspect(s, from(req("GET", "/", ""), "192.0.2.5")); got != 200 {
		t.Errorf("allowed office address = %d, want 200 (allow is terminating)", got)
	}
	if got := inspect(s, from(req("GET", "/", ""), "198.51.100.1")); got != 403 {
		t.Errorf("other address = %d, want 403 from the last rule", got)
	}
	// A broken file keeps the last good list; a good one replaces it.
	d, err := newIPSet("deny", IPSetConfig{File: file})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte("garbage\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := d.reload(); err == nil {
		t.Error("reload of a broken file: no error")
	}
	if !d.contains(netip.MustParseAddr("2001:db8:bad::1")) {
		t.Error("a broken file dropped the last good list")
	}
	if err := os.WriteFile(file, []byte("203.0.113.0/24\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := d.reload(); err != nil {
		t.Fatal(err)
	}
	if d.contains(netip.MustParseAddr("2001:db8:bad::1")) || !d.contains(netip.MustParseAddr("203.0.113.9")) {
		t.Error("reload did not replace the list")
	}
}

func TestCustomRules_OrderedFirstTerminatingWins(t *testing.T) {
	l := &lines{}
	cfg := Config{
		IPSets: map[string]IPSetConfig{"partners": {CIDRs: []string{"2001:db8:1::/48"}}},
		Sets: map[string]SetConfig{"s": {Rules: []RuleConfig{
			{Name: "count-admin", Action: ActionCount, Match: MatchConfig{Path: "/admin/*"}},
			{Name: "partners", Action: ActionAllow, Match: MatchConfig{IPSet: "partners"}},
			{Name: "no-delete", Action: ActionBlock, Match: MatchConfig{Methods: []string{"DELETE"}, Path: "/admin/*"}},
			{Name: "debug-param", Action: ActionBlock, Match: MatchConfig{Query: []FieldMatch{{Name: "debug", Equals: "1"}}}},
			{Name: "cel", Action: ActionBlock, Match: MatchConfig{CEL: `request.headers["x-tenant"] == "evil" || request.query["tenant"] == "evil"`}},
			{Name: "need-key", Action: ActionBlock, Match: MatchConfig{Path: "/api/*", Headers: []FieldMatch{{Name: "x-api-key", Absent: true}}}},
		}}},
	}
	s := build(t, cfg, Options{Log: l})
	cases := []struct {
		name, method, target, ip string
		hdr                      []string
		want                     int
	}{
		{"count then pass", "GET", "/admin/users", "", nil, 200},
		{"block on method and path", "DELETE", "/admin/users", "", nil, 403},
		{"partner allowed before the block", "DELETE", "/admin/users", "2001:db8:1::9", nil, 200},
		{"query equals", "GET", "/x?debug=1", "", nil, 403},
		{"query other value", "GET", "/x?debug=0", "", nil, 200},
		{"cel on header", "GET", "/x", "", []string{"X-Tenant", "evil"}, 403},
		{"cel on query", "GET", "/x?tenant=evil", "", nil, 403},
		{"header absent", "GET", "/api/a", "", nil, 403},
		{"header present", "GET", "/api/a", "", []string{"X-Api-Key", "k"}, 200},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := req(c.method, c.target, "", c.hdr...)
			r.ID = c.name
			if c.ip != "" {
				from(r, c.ip)
			}
			if got := inspect(s, r); got != c.want {
				t.Errorf("status %d, want %d", got, c.want)
			}
		})
	}
	if m := findLog(t, l, "count then pass"); m == nil || m["action"] != "ALLOW" || len(m["nonTerminatingMatchingRules"].([]any)) != 1 {
		t.Errorf("count rule log = %v, want ALLOW with one non-terminating match", m)
	}
	if m := findLog(t, l, "block on method and path"); m == nil || m["terminatingRuleId"] != "no-delete" || m["action"] != "BLOCK" {
		t.Errorf("block log = %v, want terminatingRuleId no-delete", m)
	}
}

func TestWAF_Exclusions(t *testing.T) {
	attack := "/search?q=1%27%20UNION%20SELECT%20password%20FROM%20users--"
	cases := []struct {
		name  string
		excl  []Exclusion
		paths map[string]int // target -> want
	}{
		{"none", nil, map[string]int{attack: 403}},
		{"by tag everywhere", []Exclusion{{Tags: []string{"attack-sqli"}}}, map[string]int{attack: 200}},
		{"by tag under a path", []Exclusion{{Tags: []string{"attack-sqli"}, PathPrefix: "/search"}},
			map[string]int{attack: 200, strings.Replace(attack, "/search", "/orders", 1): 403}},
		{"by id", []Exclusion{{RuleIDs: []int{942100, 942190, 942270, 942360, 942361}}}, map[string]int{attack: 200}},
		{"by tag for an argument", []Exclusion{{Tags: []string{"attack-sqli"}, Args: []string{"q"}}},
			map[string]int{attack: 200, strings.Replace(attack, "?q=", "?r=", 1): 403}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := build(t, one(SetConfig{WAF: WAFConfig{Mode: ModeBlock, Exclusions: c.excl}}), Options{})
			for target, want := range c.paths {
				if got := inspect(s, req("GET", target, "")); got != want {
					t.Errorf("GET %s = %d, want %d", target, got, want)
				}
			}
		})
	}
}

func TestConfig_ValidateNamesEveryProblem(t *testing.T) {
	cfg := Config{
		IPSets: map[string]IPSetConfig{"bad": {CIDRs: []string{"10.0.0.0/33"}}},
		Sets: map[string]SetConfig{"s": {
			WAF:       WAFConfig{Mode: "monitor", ParanoiaLevel: 5, Exclusions: []Exclusion{{Tags: []string{"a b"}}}},
			IPDeny:    []string{"nope"},
			Rules:     []RuleConfig{{Name: "r", Action: "drop", Match: MatchConfig{CEL: "request.method +"}}},
			RateRules: []RateRuleConfig{{Name: "r", Key: []string{"cookie"}, Limit: 0, Window: time.Millisecond}},
		}},
	}
	cfg.Defaults()
	err := cfg.Validate()
	for _, want := range []string{
		"ip_sets.bad.cidrs[0]:", "sets.s.waf.mode:", "sets.s.waf.paranoia_level:", "sets.s.waf.exclusions[0].tags[0]:",
		"sets.s.ip_deny[0]:", "sets.s.rules[0].action:", "sets.s.rules[0].match.cel:", "sets.s.rate_rules[0].name:",
		"sets.s.rate_rules[0].key[0]:", "sets.s.rate_rules[0].limit:", "sets.s.rate_rules[0].window:",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want a problem at %s", err, want)
		}
	}
}

func TestNew_ReloadCompilesAFreshSet(t *testing.T) {
	cfg := one(SetConfig{Rules: []RuleConfig{{Name: "a", Action: ActionBlock, Match: MatchConfig{Path: "/a"}}}})
	s1 := build(t, cfg, Options{})
	cfg2 := one(SetConfig{Rules: []RuleConfig{{Name: "b", Action: ActionBlock, Match: MatchConfig{Path: "/b"}}}})
	s2 := build(t, cfg2, Options{})
	ctx := context.Background()
	for _, c := range []struct {
		s    *Set
		path string
		want int
	}{{s1, "/a", 403}, {s1, "/b", 200}, {s2, "/a", 200}, {s2, "/b", 403}} {
		_, err := c.s.Inspect(ctx, req("GET", c.path, ""))
		if status(err) != c.want {
			t.Errorf("GET %s = %d, want %d", c.path, status(err), c.want)
		}
	}
}

func TestLog_RedactsCredentials(t *testing.T) {
	l := &lines{}
	s := build(t, one(SetConfig{Rules: []RuleConfig{{Name: "all", Action: ActionCount, Match: MatchConfig{Path: "*"}}}}), Options{Log: l})
	r := req("GET", "/x?a=1&access_token=s3cret&b=2", "", "Authorization", "Bearer s3cret", "Cookie", "sid=s3cret")
	inspect(s, r)
	got := l.all()
	if len(got) != 1 || strings.Contains(got[0], "s3cret") || !strings.Contains(got[0], `"args":"a=1\u0026access_token=REDACTED\u0026b=2"`) {
		t.Errorf("log = %v, want one line with credentials redacted", got)
	}
}
