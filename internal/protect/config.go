package protect

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/edgeward/edgeward/internal/accesslog"
	"github.com/edgeward/edgeward/internal/joinerr"
	"github.com/edgeward/edgeward/internal/size"
)

// Modes of WAFConfig.Mode.
const (
	ModeOff   = "off"
	ModeBlock = "block"
	ModeCount = "count"
)

// Actions of custom and rate-based rules, and of the WAF log.
const (
	ActionAllow = "allow"
	ActionBlock = "block"
	ActionCount = "count"
)

// Rate-based rule key parts (RateRule.Key); a header part is
// "header:<Name>".
const (
	KeyIP       = "ip"
	KeyIdentity = "identity"
	keyHeader   = "header:"
)

// Defaults.
const (
	DefaultParanoia         = 1
	DefaultInboundThreshold = 5
	DefaultMaxBodyBytes     = size.Bytes(1 << 20)
	DefaultIdentityHeader   = "X-User-Id"
	DefaultMaxKeys          = 100_000
)

// Config is the protections section of the edge file: named protection
// sets that behaviors reference, the IP sets their rules use, and the WAF
// log.
//
//	protections:
//	  log: {path: stdout}
//	  ip_sets: {office: {cidrs: [192.0.2.0/24, "2001:db8::/32"], file: /etc/edgeward/office.txt}}
//	  sets:
//	    api:
//	      waf: {mode: block, paranoia_level: 1}
//	      ip_deny: [blocked]
//	      rules: [{name: no-admin, action: block, match: {path: "/admin/*"}}]
//	      rate_rules: [{name: per-ip, key: [ip], limit: 100, window: 1m}]
type Config struct {
	// Log is the WAF log (AWS WAF's log format, one JSON object per
	// line); path off (the default) writes none.
	Log accesslog.SinkConfig `yaml:"log"`
	// LogAll logs every inspected request, not only those a rule matched.
	LogAll bool `yaml:"log_all"`
	// IPSets are named CIDR lists, inline and/or from a file that is
	// read again when it changes.
	IPSets map[string]IPSetConfig `yaml:"ip_sets"`
	// Sets are the protection sets behaviors name in their protection key.
	Sets map[string]SetConfig `yaml:"sets"`
}

// IPSetConfig is one IP set: CIDRs or single addresses, IPv4 or IPv6.
type IPSetConfig struct {
	CIDRs []string `yaml:"cidrs"`
	// File holds more entries, one a line; # starts a comment. A change to
	// the file is picked up without a reload; a file that no longer parses
	// keeps the last good list (and is logged).
	File string `yaml:"file"`
}

// SetConfig is one protection set, AWS WAF's web ACL: evaluated in this
// order, the first terminating action wins: ip_deny, ip_allow, rules (in
// order), rate_rules not keyed on identity, the WAF; after the
// viewer-request function, rate_rules keyed on identity.
type SetConfig struct {
	WAF WAFConfig `yaml:"waf"`
	// IPDeny names IP sets whose addresses are blocked.
	IPDeny []string `yaml:"ip_deny"`
	// IPAllow names IP sets whose addresses are allowed without further
	// inspection.
	IPAllow []string `yaml:"ip_allow"`
	// Rules are custom rules, in order.
	Rules []RuleConfig `yaml:"rules"`
	// RateRules are rate-based rules.
	RateRules []RateRuleConfig `yaml:"rate_rules"`
	// IdentityHeader is the header the viewer-request function sets to
	// the identity it established (a decision statement such as
	// x-user-id: "{{token.sub}}"); rate rules keyed on identity read it.
	// It must be a header the edge owns, so a viewer can never set it.
	// Default X-User-Id.
	IdentityHeader string `yaml:"identity_header"`
}

// WAFConfig is the managed rule group: Coraza with the OWASP Core Rule
// Set v4.
type WAFConfig struct {
	// Mode is block, count (log and pass, AWS WAF's Count) or off
	// (default).
	Mode string `yaml:"mode"`
	// ParanoiaLevel is CRS's blocking and detection paranoia level, 1-4
	// (default 1).
	ParanoiaLevel int `yaml:"paranoia_level"`
	// InboundAnomalyThreshold is the anomaly score at which a request is
	// blocked (default 5: one critical match).
	InboundAnomalyThreshold int `yaml:"inbound_anomaly_threshold"`
	// MaxBodyBytes bounds the body inspected; a larger body is refused
	// with 413 (never passed un-inspected). Default 1MiB.
	MaxBodyBytes size.Bytes `yaml:"max_body_bytes"`
	// Exclusions switch rules off, everywhere or for a path, or only for
	// some arguments.
	Exclusions []Exclusion `yaml:"exclusions"`
	// Directives are the operator's own SecLang directives, loaded after
	// the CRS.
	Directives string `yaml:"directives"`
}

// Exclusion removes CRS rules (by id or tag), optionally only under a path
// prefix and only for some arguments.
type Exclusion struct {
	RuleIDs    []int    `yaml:"rule_ids"`
	Tags       []string `yaml:"tags"`
	PathPrefix string   `yaml:"path_prefix"`
	// Args limits the exclusion to these arguments (query or body
	// parameter names): the rules still inspect everything else.
	// At most 1000 exclusions per set (their rule ids are 99000-99999).
	Args []string `yaml:"args"`
}

// RuleConfig is a custom rule.
type RuleConfig struct {
	Name   string      `yaml:"name"`
	Action string      `yaml:"action"`
	Match  MatchConfig `yaml:"match"`
}

// MatchConfig is a rule's statement: every condition given must hold.
type MatchConfig struct {
	Methods []string `yaml:"methods"`
	// Path is a path pattern in the behaviors' syntax (* and ?), matched
	// against the canonical path.
	Path    string       `yaml:"path"`
	Headers []FieldMatch `yaml:"headers"`
	Query   []FieldMatch `yaml:"query"`
	IPSet   string       `yaml:"ip_set"`
	// CEL is a boolean CEL expression over request (method, path, query,
	// headers, ip).
	CEL string `yaml:"cel"`
}

// FieldMatch matches a header or query parameter by name: present, equal
// to a value, or matching a regular expression (RE2).
type FieldMatch struct {
	Name    string `yaml:"name"`
	Equals  string `yaml:"equals"`
	Regex   string `yaml:"regex"`
	Present bool   `yaml:"present"`
	// Absent matches when the field is missing.
	Absent bool `yaml:"absent"`
}

// RateRuleConfig is a rate-based rule: at most Limit requests per Window
// per key.
type RateRuleConfig struct {
	Name string `yaml:"name"`
	// Key is the aggregation key: any of ip, identity, header:<Name>. A
	// request missing a part is not counted.
	Key    []string      `yaml:"key"`
	Limit  int           `yaml:"limit"`
	Window time.Duration `yaml:"window"`
	// Action is block (429 with Retry-After, the default) or count.
	Action string `yaml:"action"`
	// Match scopes the rule down to the requests it matches.
	Match *MatchConfig `yaml:"match"`
	// MaxKeys bounds the keys a node tracks (default 100000).
	MaxKeys int `yaml:"max_keys"`
}

// Defaults fills unset fields.
func (c *Config) Defaults() {
	if c.Log.Path == "" {
		c.Log.Path = accesslog.PathOff
	}
	c.Log.Defaults()
	for name, s := range c.Sets {
		s.Defaults()
		c.Sets[name] = s
	}
}

// Defaults fills unset fields of the set.
func (s *SetConfig) Defaults() {
	w := &s.WAF
	if w.Mode == "" {
		w.Mode = ModeOff
	}
	if w.ParanoiaLevel == 0 {
		w.ParanoiaLevel = DefaultParanoia
	}
	if w.InboundAnomalyThreshold == 0 {
		w.InboundAnomalyThreshold = DefaultInboundThreshold
	}
	if w.MaxBodyBytes == 0 {
		w.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if s.IdentityHeader == "" {
		s.IdentityHeader = DefaultIdentityHeader
	}
	s.IdentityHeader = http.CanonicalHeaderKey(s.IdentityHeader)
	for i := range s.RateRules {
		r := &s.RateRules[i]
		if r.Action == "" {
			r.Action = ActionBlock
		}
		if r.MaxKeys == 0 {
			r.MaxKeys = DefaultMaxKeys
		}
	}
}

// Empty reports whether the set does nothing: no behavior pays for it.
func (s *SetConfig) Empty() bool {
	return s.WAF.Mode == ModeOff && len(s.IPDeny) == 0 && len(s.IPAllow) == 0 &&
		len(s.Rules) == 0 && len(s.RateRules) == 0
}

var (
	namePattern  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*$`)
	tagPattern   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_./-]*$`)
	argPattern   = regexp.MustCompile(`^[A-Za-z0-9_.\[\]-]+$`)
	tokenPattern = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
)

// Validate reports every problem in c, each as "key.path: message". It
// compiles nothing that needs the CRS: New does (and reports the rest).
func (c *Config) Validate() error {
	var errs []error
	add := func(path, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", path, fmt.Sprintf(format, args...)))
	}
	if err := c.Log.Validate(); err != nil {
		for _, e := range joinerr.Leaves(err) {
			errs = append(errs, fmt.Errorf("log.%w", e))
		}
	}
	for _, name := range sorted(c.IPSets) {
		p := "ip_sets." + name
		if !namePattern.MatchString(name) {
			add(p, "an IP set name is letters, digits, - and _")
		}
		ip := c.IPSets[name]
		if len(ip.CIDRs) == 0 && ip.File == "" {
			add(p, "needs cidrs, a file, or both")
		}
		for i, s := range ip.CIDRs {
			if _, err := parseCIDR(s); err != nil {
				add(fmt.Sprintf("%s.cidrs[%d]", p, i), "%v", err)
			}
		}
		if ip.File != "" {
			if _, err := readIPFile(ip.File); err != nil {
				add(p+".file", "%v", err)
			}
		}
	}
	for _, name := range sorted(c.Sets) {
		if !namePattern.MatchString(name) {
			add("sets."+name, "a protection set name is letters, digits, - and _")
		}
		s := c.Sets[name]
		for _, e := range joinerr.Leaves(s.validate(c.IPSets)) {
			errs = append(errs, fmt.Errorf("sets.%s.%w", name, e))
		}
	}
	return errors.Join(errs...)
}

func (s *SetConfig) validate(ipSets map[string]IPSetConfig) error {
	var errs []error
	add := func(path, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", path, fmt.Sprintf(format, args...)))
	}
	w := s.WAF
	switch w.Mode {
	case ModeOff, ModeBlock, ModeCount:
	default:
		add("waf.mode", "want block, count or off, got %q", w.Mode)
	}
	if w.ParanoiaLevel < 1 || w.ParanoiaLevel > 4 {
		add("waf.paranoia_level", "want 1 to 4, got %d", w.ParanoiaLevel)
	}
	if w.InboundAnomalyThreshold < 1 {
		add("waf.inbound_anomaly_threshold", "want a score >= 1, got %d", w.InboundAnomalyThreshold)
	}
	if w.MaxBodyBytes < 1 || w.MaxBodyBytes > 64<<20 {
		add("waf.max_body_bytes", "want 1 byte to 64MiB, got %s", w.MaxBodyBytes)
	}
	if len(w.Exclusions) > 1000 {
		add("waf.exclusions", "at most 1000, got %d", len(w.Exclusions))
	}
	for i, e := range w.Exclusions {
		p := fmt.Sprintf("waf.exclusions[%d]", i)
		if len(e.RuleIDs) == 0 && len(e.Tags) == 0 {
			add(p, "names no rule: set rule_ids, tags, or both")
		}
		for j, id := range e.RuleIDs {
			if id < 1 || id > 9_999_999 {
				add(fmt.Sprintf("%s.rule_ids[%d]", p, j), "%d is not a rule id", id)
			}
		}
		for j, t := range e.Tags {
			if !tagPattern.MatchString(t) {
				add(fmt.Sprintf("%s.tags[%d]", p, j), "%q is not a tag (letters, digits, _ . / -)", t)
			}
		}
		if e.PathPrefix != "" && (!strings.HasPrefix(e.PathPrefix, "/") || strings.ContainsAny(e.PathPrefix, "\"'\\ \t\n")) {
			add(p+".path_prefix", "want a path starting with / without quotes, backslashes or spaces, got %q", e.PathPrefix)
		}
		for j, a := range e.Args {
			if !argPattern.MatchString(a) {
				add(fmt.Sprintf("%s.args[%d]", p, j), "%q is not an argument name (letters, digits, _ . [ ] -)", a)
			}
		}
	}
	for _, list := range []struct {
		key   string
		names []string
	}{{"ip_deny", s.IPDeny}, {"ip_allow", s.IPAllow}} {
		for j, n := range list.names {
			if _, ok := ipSets[n]; !ok {
				add(fmt.Sprintf("%s[%d]", list.key, j), "unknown IP set %q (known: %s)", n, strings.Join(sorted(ipSets), ", "))
			}
		}
	}
	if !tokenPattern.MatchString(s.IdentityHeader) {
		add("identity_header", "%q is not a header name", s.IdentityHeader)
	}
	names := map[string]string{}
	seen := func(p, name string) {
		if !namePattern.MatchString(name) {
			add(p+".name", "required: letters, digits, - and _ (it names the rule in logs and metrics), got %q", name)
		} else if q, dup := names[name]; dup {
			add(p+".name", "%q is already the name of %s", name, q)
		} else {
			names[name] = p
		}
	}
	for i, r := range s.Rules {
		p := fmt.Sprintf("rules[%d]", i)
		seen(p, r.Name)
		switch r.Action {
		case ActionAllow, ActionBlock, ActionCount:
		default:
			add(p+".action", "want allow, block or count, got %q", r.Action)
		}
		for _, e := range joinerr.Leaves(r.Match.validate(ipSets)) {
			errs = append(errs, fmt.Errorf("%s.match.%w", p, e))
		}
		if r.Match.empty() {
			add(p+".match", "matches nothing: give at least one condition")
		}
	}
	for i, r := range s.RateRules {
		p := fmt.Sprintf("rate_rules[%d]", i)
		seen(p, r.Name)
		if len(r.Key) == 0 {
			add(p+".key", "required: any of ip, identity, header:<Name>")
		}
		for j, k := range r.Key {
			name, isHeader := strings.CutPrefix(k, keyHeader)
			switch {
			case k == KeyIP, k == KeyIdentity:
			case isHeader && tokenPattern.MatchString(name):
			default:
				add(fmt.Sprintf("%s.key[%d]", p, j), "want ip, identity or header:<Name>, got %q", k)
			}
		}
		if r.Limit < 1 {
			add(p+".limit", "want >= 1, got %d", r.Limit)
		}
		if r.Window < time.Second || r.Window > 24*time.Hour {
			add(p+".window", "want 1s to 24h, got %s", r.Window)
		}
		if r.Action != ActionBlock && r.Action != ActionCount {
			add(p+".action", "want block or count, got %q", r.Action)
		}
		if r.MaxKeys < 1 {
			add(p+".max_keys", "want >= 1, got %d", r.MaxKeys)
		}
		if r.Match != nil {
			for _, e := range joinerr.Leaves(r.Match.validate(ipSets)) {
				errs = append(errs, fmt.Errorf("%s.match.%w", p, e))
			}
		}
	}
	return errors.Join(errs...)
}

func (m *MatchConfig) empty() bool {
	return len(m.Methods) == 0 && m.Path == "" && len(m.Headers) == 0 && len(m.Query) == 0 &&
		m.IPSet == "" && m.CEL == ""
}

// validate checks the match; compiling the pattern, the regular
// expressions and the CEL is what proves them.
func (m *MatchConfig) validate(ipSets map[string]IPSetConfig) error {
	_, err := compileMatch(m, nil)
	if err != nil {
		return err
	}
	if m.IPSet != "" {
		if _, ok := ipSets[m.IPSet]; !ok {
			return fmt.Errorf("ip_set: unknown IP set %q (known: %s)", m.IPSet, strings.Join(sorted(ipSets), ", "))
		}
	}
	return nil
}

// sorted returns m's keys in order.
func sorted[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
