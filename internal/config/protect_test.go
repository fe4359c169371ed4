package config

import (
	"strings"
	"testing"
)

func TestParseEdge_ProtectionsProblemsHaveLinesAndKeys(t *testing.T) {
	t.Parallel()
	doc := `
origins:
  o: {url: "http://127.0.0.1:9"}
owned_headers: [x-tenant]
behaviors:
  - path_pattern: "/a/*"
    origin: o
    protection: nope
  - path_pattern: "*"
    origin: o
    protection: api
protections:
  ip_sets:
    bad: {cidrs: ["10.0.0.0/33"]}
  sets:
    api:
      waf: {mode: monitor}
      rate_rules:
        - {name: per-user, key: [identity], limit: 10, window: 1m}
        - {name: per-tenant, key: [identity], limit: 10, window: 1m}
      identity_header: x-user-id
`
	_, err := ParseEdge("edgeward.yaml", []byte(doc), nil)
	if err == nil {
		t.Fatal("ParseEdge() = nil, want problems")
	}
	for _, want := range []string{
		`edgeward.yaml:8: behaviors[0].protection: unknown protection set "nope"`,
		`edgeward.yaml:14: protections.ip_sets.bad.cidrs[0]:`,
		`edgeward.yaml:17: protections.sets.api.waf.mode: want block, count or off`,
		`edgeward.yaml:19: protections.sets.api.rate_rules[0].key: identity is read from X-User-Id, which the edge does not own`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("ParseEdge() problems:\n%v\nwant one containing %q", err, want)
		}
	}
}

func TestParseEdge_ProtectionsValid(t *testing.T) {
	t.Parallel()
	doc := `
origins:
  o: {url: "http://127.0.0.1:9"}
owned_headers: [x-user-id]
behaviors:
  - path_pattern: "*"
    origin: o
    protection: api
protections:
  sets:
    api:
      waf: {mode: count, paranoia_level: 2}
      rate_rules: [{name: per-user, key: [identity, ip], limit: 10, window: 1m}]
`
	f, err := ParseEdge("edgeward.yaml", []byte(doc), nil)
	if err != nil {
		t.Fatalf("ParseEdge() = %v", err)
	}
	s := f.Protections.Sets["api"]
	if s.WAF.InboundAnomalyThreshold != 5 || s.RateRules[0].Action != "block" || f.Protections.Log.Path != "off" {
		t.Errorf("defaults not applied: %+v, log %q", s, f.Protections.Log.Path)
	}
}
