package protect

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgeward/edgeward/internal/edge"
)

// Options are the protections' collaborators.
type Options struct {
	// Logger receives diagnostics (nil: discarded).
	Logger *slog.Logger
	// Registerer receives the metrics (nil: none).
	Registerer prometheus.Registerer
	// Log receives the WAF log lines (nil: none).
	Log Sink
	// Counter is the fleet-wide rate counter (nil: each node counts on
	// its own).
	Counter Counter
	// Clock replaces time.Now (tests).
	Clock func() time.Time
}

// Protections is every protection set of one configuration, compiled:
// the CRS once per distinct WAF configuration, the IP sets (whose files
// are watched until ctx ends), the rules and the rate limiters.
type Protections struct {
	sets  map[string]*Set
	rates []*rateRule
}

// New compiles cfg (Defaults is applied to a copy of each set). The IP
// set files are watched until ctx is done.
func New(ctx context.Context, cfg Config, opts Options) (*Protections, error) {
	cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := opts.Clock
	if now == nil {
		now = time.Now
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	p := &Protections{sets: map[string]*Set{}}
	ipSets := map[string]*ipSet{}
	var all []*ipSet
	for _, name := range sorted(cfg.IPSets) {
		s, err := newIPSet(name, cfg.IPSets[name])
		if err != nil {
			return nil, err
		}
		ipSets[name] = s
		all = append(all, s)
	}
	wafs := map[string]*waf{}
	var errs []error
	for _, name := range sorted(cfg.Sets) {
		sc := cfg.Sets[name]
		if sc.Empty() {
			continue
		}
		s, err := p.compileSet(name, sc, ipSets, wafs)
		if err != nil {
			errs = append(errs, fmt.Errorf("sets.%s.%w", name, err))
			continue
		}
		s.m, s.log, s.counter, s.now, s.logAll = m, opts.Log, opts.Counter, now, cfg.LogAll
		s.diag = log
		s.resolve()
		p.sets[name] = s
	}
	if err := errors.Join(errs...); err != nil {
		p.Close()
		return nil, err
	}
	if err := watchIPSets(ctx, all, log); err != nil {
		log.Warn("IP set files are not watched; they change on reload only", "err", err.Error())
	}
	return p, nil
}

// Set returns the compiled set name, or nil when it does nothing (or
// does not exist): a behavior without protections pays nothing.
func (p *Protections) Set(name string) *Set {
	if s, ok := p.sets[name]; ok {
		return s
	}
	return nil
}

// Close stops the limiters' housekeeping.
func (p *Protections) Close() {
	for _, r := range p.rates {
		r.close()
	}
}

// Set is one compiled protection set: AWS WAF's web ACL, applied to the
// behaviors that name it.
type Set struct {
	name           string
	deny, allow    []*ipSet
	rules          []*customRule
	pre, post      []*rateRule
	waf            *waf
	identityHeader string

	m       *metrics
	log     Sink
	logAll  bool
	diag    *slog.Logger
	counter Counter
	now     func() time.Time
	allowed prometheus.Counter
	blocked prometheus.Counter
	counted prometheus.Counter
}

// customRule is a compiled custom rule.
type customRule struct {
	name   string
	action string
	match  *match
}

func (p *Protections) compileSet(name string, sc SetConfig, ipSets map[string]*ipSet, wafs map[string]*waf) (*Set, error) {
	s := &Set{name: name, identityHeader: sc.IdentityHeader}
	for _, n := range sc.IPDeny {
		s.deny = append(s.deny, ipSets[n])
	}
	for _, n := range sc.IPAllow {
		s.allow = append(s.allow, ipSets[n])
	}
	for i, rc := range sc.Rules {
		m, err := compileMatch(&rc.Match, ipSets)
		if err != nil {
			return nil, fmt.Errorf("rules[%d].match.%w", i, err)
		}
		s.rules = append(s.rules, &customRule{name: rc.Name, action: rc.Action, match: m})
	}
	for i, rc := range sc.RateRules {
		var scope *match
		if rc.Match != nil {
			var err error
			if scope, err = compileMatch(rc.Match, ipSets); err != nil {
				return nil, fmt.Errorf("rate_rules[%d].match.%w", i, err)
			}
		}
		r, err := newRateRule(name, rc, scope, sc.IdentityHeader)
		if err != nil {
			return nil, fmt.Errorf("rate_rules[%d]: %w", i, err)
		}
		p.rates = append(p.rates, r)
		if r.identity {
			s.post = append(s.post, r)
		} else {
			s.pre = append(s.pre, r)
		}
	}
	if sc.WAF.Mode != ModeOff {
		key := directives(sc.WAF) + "\x00" + sc.WAF.Mode
		w := wafs[key]
		if w == nil {
			var err error
			if w, err = newWAF(sc.WAF); err != nil {
				return nil, fmt.Errorf("waf: %w", err)
			}
			wafs[key] = w
		}
		s.waf = w
	}
	return s, nil
}

func (s *Set) resolve() {
	s.allowed = s.m.requests.WithLabelValues(s.name, ActionAllow)
	s.blocked = s.m.requests.WithLabelValues(s.name, ActionBlock)
	s.counted = s.m.requests.WithLabelValues(s.name, ActionCount)
}

// Blocks. The viewer learns nothing about which rule matched.
func forbidden(cause string) error {
	return &edge.Error{Status: http.StatusForbidden, Msg: "forbidden", Err: errors.New(cause)}
}

func tooMany(cause string, wait time.Duration) error {
	return &edge.Error{Status: http.StatusTooManyRequests, Msg: "too many requests",
		Header: http.Header{"Retry-After": {strconv.FormatInt(retryAfterSeconds(wait), 10)}},
		Err:    errors.New(cause)}
}

func newView(r *edge.Request) view {
	hr := r.HTTP
	return view{method: hr.Method, path: hr.URL.EscapedPath(), query: hr.URL.RawQuery, header: hr.Header, ip: r.Client.Addr().Unmap()}
}

// Inspect implements edge.Protection: IP sets, custom rules, rate rules
// not keyed on identity, then the WAF. The first terminating match wins;
// count matches are recorded and the request goes on.
func (s *Set) Inspect(ctx context.Context, r *edge.Request) (allowed bool, err error) {
	v := newView(r)
	rec := record{action: ActionAllow, termID: "Default_Action", termType: typeDefault}
	defer func() { s.finish(r, &rec, err, true) }()

	for _, ip := range s.deny {
		if ip.contains(v.ip) {
			rec.terminate(ActionBlock, "ip_deny:"+ip.name, typeRegular)
			return false, forbidden("ip set " + ip.name)
		}
	}
	for _, ip := range s.allow {
		if ip.contains(v.ip) {
			rec.terminate(ActionAllow, "ip_allow:"+ip.name, typeRegular)
			return true, nil
		}
	}
	for _, cr := range s.rules {
		ok, err := cr.match.matches(ctx, &v)
		if err != nil {
			s.diag.Warn("custom rule failed to evaluate", "set", s.name, "rule", cr.name, "request_id", r.ID, "err", err.Error())
			ok = cr.action == ActionBlock // fail closed for blocks only
		}
		if !ok {
			continue
		}
		switch cr.action {
		case ActionCount:
			rec.count(cr.name)
		case ActionAllow:
			rec.terminate(ActionAllow, cr.name, typeRegular)
			return true, nil
		default:
			rec.terminate(ActionBlock, cr.name, typeRegular)
			return false, forbidden("rule " + cr.name)
		}
	}
	if err := s.rate(ctx, r, &v, &rec, s.pre, ""); err != nil {
		return false, err
	}
	if s.waf != nil {
		res, err := s.waf.inspect(r, &v)
		if err != nil {
			if errors.Is(err, errBodyTooLarge) {
				rec.terminate(ActionBlock, "waf:max_body_bytes", typeManagedGroup)
			}
			return false, err
		}
		return false, s.wafVerdict(&rec, res)
	}
	return false, nil
}

// wafVerdict records what the rule group found and applies its mode.
func (s *Set) wafVerdict(rec *record, res wafResult) error {
	if !res.interrupted && len(res.matched) == 0 {
		return nil
	}
	g := &ruleGroup{RuleGroupID: managedGroupID, NonTerminating: []ruleEntry{}}
	for _, m := range res.matched {
		if res.interrupted && m.id == res.ruleID {
			continue
		}
		g.NonTerminating = append(g.NonTerminating, ruleEntry{RuleID: strconv.Itoa(m.id), Action: "COUNT"})
		s.m.rules.WithLabelValues(s.name, "crs:"+strconv.Itoa(m.id), ActionCount).Inc()
		for _, t := range m.tags {
			if strings.HasPrefix(t, "attack-") && !slices.Contains(rec.labels, "edgeward:managed:crs:"+t) {
				rec.labels = append(rec.labels, "edgeward:managed:crs:"+t)
			}
		}
	}
	rec.group = g
	if !res.interrupted {
		return nil
	}
	id := strconv.Itoa(res.ruleID)
	if s.waf.mode == ModeCount {
		g.TerminatingRule = &ruleEntry{RuleID: id, Action: "COUNT"}
		rec.count("crs:" + id)
		return nil
	}
	g.TerminatingRule = &ruleEntry{RuleID: id, Action: "BLOCK"}
	rec.terminate(ActionBlock, "crs:"+id, typeManagedGroup)
	return forbidden("managed rule group, rule " + id)
}

// rate applies rate rules; identity is the established identity (empty
// before the function).
func (s *Set) rate(ctx context.Context, r *edge.Request, v *view, rec *record, rules []*rateRule, identity string) error {
	for _, rr := range rules {
		if rr.scope != nil {
			ok, err := rr.scope.matches(ctx, v)
			if err != nil {
				s.diag.Warn("rate rule scope failed to evaluate", "set", s.name, "rule", rr.name, "request_id", r.ID, "err", err.Error())
				ok = true // counted rather than let through uncounted
			}
			if !ok {
				continue
			}
		}
		key, ok := rr.keyOf(s.name, v, identity)
		if !ok {
			continue
		}
		allowed, wait, fellBack := rr.allow(ctx, s.counter, key, s.now())
		if fellBack {
			s.m.fallback.WithLabelValues(s.name, rr.name).Inc()
		}
		if allowed {
			continue
		}
		rec.rate = append(rec.rate, rateEntry{RateBasedRuleID: rr.name, RateBasedRuleName: rr.name,
			LimitKey: limitKeyName(rr), MaxRateAllowed: rr.limit, EvaluationWindow: int64(rr.window / time.Second)})
		if rr.action == ActionCount {
			rec.count(rr.name)
			continue
		}
		rec.terminate(ActionBlock, rr.name, typeRateBased)
		rec.status = http.StatusTooManyRequests
		r.Result = edge.ResultLimitExceeded
		return tooMany("rate rule "+rr.name, wait)
	}
	return nil
}

func limitKeyName(rr *rateRule) string {
	parts := make([]string, len(rr.key))
	for i, k := range rr.key {
		switch k.kind {
		case KeyIP:
			parts[i] = "IP"
		case KeyIdentity:
			parts[i] = "IDENTITY"
		default:
			parts[i] = "HEADER:" + k.header
		}
	}
	return strings.Join(parts, ",")
}

// InspectAuthorized implements edge.Protection: the rate rules keyed on
// the identity the viewer-request function established, read from the
// identity header only when the edge owns it (a viewer's copy was
// stripped, so the value is the function's).
func (s *Set) InspectAuthorized(ctx context.Context, r *edge.Request) (err error) {
	if len(s.post) == 0 {
		return nil
	}
	identity := ""
	if r.Owned(s.identityHeader) {
		if v := r.HTTP.Header[s.identityHeader]; len(v) > 0 {
			identity = v[0]
		}
	}
	v := newView(r)
	rec := record{action: ActionAllow, termID: "Default_Action", termType: typeDefault}
	defer func() { s.finish(r, &rec, err, false) }()
	return s.rate(ctx, r, &v, &rec, s.post, identity)
}

func (rec *record) terminate(action, id, typ string) {
	rec.action, rec.termID, rec.termType = action, id, typ
	if action == ActionBlock && rec.status == 0 {
		rec.status = http.StatusForbidden
	}
}

func (rec *record) count(id string) {
	rec.counted = append(rec.counted, ruleEntry{RuleID: id, Action: "COUNT"})
}

// finish records the metrics and writes the WAF log line.
func (s *Set) finish(r *edge.Request, rec *record, err error, first bool) {
	if err != nil && rec.action != ActionBlock {
		// The body could not be read: the viewer's fault, answered by the
		// edge; logged as a block with the status sent.
		rec.action, rec.status = ActionBlock, statusOf(err)
		if rec.termType == typeDefault {
			rec.termID, rec.termType = "request_body", typeManagedGroup
		}
	}
	final := rec.action
	if final == ActionAllow && len(rec.counted) > 0 {
		final = ActionCount
	}
	if first || final != ActionAllow {
		switch final {
		case ActionBlock:
			s.blocked.Inc()
		case ActionCount:
			s.counted.Inc()
		default:
			s.allowed.Inc()
		}
	}
	if rec.termType != typeDefault {
		s.m.rules.WithLabelValues(s.name, rec.termID, rec.action).Inc()
	}
	for _, c := range rec.counted {
		s.m.rules.WithLabelValues(s.name, c.RuleID, ActionCount).Inc()
	}
	if s.log != nil && (rec.matched() || (s.logAll && first)) {
		s.log.WriteLine(encodeLog(s.name, r, rec, s.now()))
	}
}

var _ edge.Protection = (*Set)(nil)
