package decision

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/net/http/httpguts"

	"github.com/edgeward/edgeward/internal/token"
)

// Options are an Engine's dependencies.
type Options struct {
	// Logger receives load-time messages; nil discards them.
	Logger *slog.Logger
	// Registerer receives the token verifiers' metrics (verifications,
	// cache hits, JWKS fetches); nil means none. Engines built one after
	// another (reloads) share the collectors. Decisions are counted by the
	// front doors.
	Registerer prometheus.Registerer
	// Clock is the time source for access_token expiry; nil is time.Now.
	Clock func() time.Time
}

// Engine decides. It is built from a validated Config and never changes;
// a reload builds a new Engine (a bad configuration never replaces a good
// one) and the front doors swap to it atomically.
type Engine struct {
	cfg       Config
	m         *model
	verifiers map[string]*token.Verifier
	cache     *token.Cache
	log       *slog.Logger
	now       func() time.Time
}

// New compiles cfg (which must have had Defaults applied) and builds one
// token verifier per trusted issuer, sharing one verified-token cache. ctx
// bounds the verifiers' background JWKS refreshes; Close stops them too.
func New(ctx context.Context, cfg Config, opts Options) (*Engine, error) {
	m, err := compile(&cfg)
	if err != nil {
		return nil, err
	}
	e := &Engine{
		cfg:       cfg,
		m:         m,
		verifiers: map[string]*token.Verifier{},
		cache:     token.NewCache(cfg.TokenCache, token.WithClock(opts.Clock)),
		log:       opts.Logger,
		now:       opts.Clock,
	}
	if e.log == nil {
		e.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if e.now == nil {
		e.now = time.Now
	}
	used := map[string]bool{}
	for _, s := range m.services {
		if s.issuer != "" {
			used[s.issuer] = true
		}
	}
	for _, name := range slices.Sorted(maps.Keys(cfg.TokenIssuers)) {
		if !used[name] {
			e.log.Warn("token issuer is not used by any API service", "issuer", name)
			continue
		}
		v, err := token.New(ctx, name, cfg.TokenIssuers[name], e.cache,
			token.WithRegisterer(opts.Registerer), token.WithLogger(e.log), token.WithClock(opts.Clock))
		if err != nil {
			e.Close()
			return nil, fmt.Errorf("token_issuers.%s: %w", name, err)
		}
		e.verifiers[name] = v
	}
	for _, s := range m.services {
		if s.issuer != "" {
			s.verifier = e.verifiers[s.issuer]
			s.iss = cfg.TokenIssuers[s.issuer].Issuer
			s.skew = cfg.TokenIssuers[s.issuer].ClockSkew
		}
	}
	return e, nil
}

// Close stops the token verifiers' background work. Decisions still in
// flight finish.
func (e *Engine) Close() {
	for _, v := range e.verifiers {
		v.Close()
	}
}

// Config returns the configuration the engine was built from. It must
// not be modified.
func (e *Engine) Config() *Config { return &e.cfg }

// Services returns the API service names, in configuration order.
func (e *Engine) Services() []string {
	names := make([]string, len(e.m.services))
	for i, s := range e.m.services {
		names[i] = s.name
	}
	return names
}

// Operations returns the operation names of the service at index i.
func (e *Engine) Operations(i int) []string {
	s := e.m.services[i]
	names := make([]string, len(s.ops))
	for j, o := range s.ops {
		names[j] = o.name
	}
	return names
}

// Param is a path parameter bound by a {name} segment.
type Param struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Reason says why a decision is what it is, in a word for logs and
// metrics.
type Reason string

// Reasons.
const (
	ReasonAllowed        Reason = "allowed"
	ReasonBadPath        Reason = "bad_path"
	ReasonNoService      Reason = "no_service"
	ReasonNoOperation    Reason = "no_operation"
	ReasonMethod         Reason = "method_not_allowed"
	ReasonTokenMissing   Reason = "token_missing"
	ReasonTokenInvalid   Reason = "token_invalid"
	ReasonScope          Reason = "insufficient_scope"
	ReasonGroups         Reason = "groups"
	ReasonCondition      Reason = "condition_false"
	ReasonConditionError Reason = "condition_error"
	ReasonStatement      Reason = "statement_error"
	ReasonUnavailable    Reason = "unavailable"
	maxInlineParams             = 4
	maxInlineSetHeaders         = 4
)

// Decision is the engine's answer. Its slices may point into the engine
// and into the Input: treat them as read-only.
type Decision struct {
	// Allowed is the decision; Status is 200 for an allow, else the deny's
	// HTTP status. A status of 500 or more means no decision could be made
	// (a front door answers with an error, not a deny).
	Allowed bool
	Status  int
	Reason  Reason
	// Error and Description are the deny body's error (an RFC 6750 code
	// where one applies) and error_description.
	Error       string
	Description string
	// WWWAuthenticate is the deny's WWW-Authenticate (401, and 403 for
	// insufficient_scope); Allow is the 405's Allow.
	WWWAuthenticate string
	Allow           string
	// RemoveHeaders and SetHeaders are the allow's header changes: remove
	// every value of each name, then add each set header. Every name a
	// statement can set is removed first, so a client's own copy never
	// passes.
	RemoveHeaders []string
	SetHeaders    []Header
	// Service and Operation are the matched names ("" if none).
	Service   string
	Operation string
	// ServiceIndex is the matched service's position in the
	// configuration, -1 for none.
	ServiceIndex   int
	OperationIndex int
	// Path is the canonical (decoded) request path; Params the bound path
	// parameters.
	Path   string
	Params []Param
	// Subject is the token's sub, when there was a valid token.
	Subject string
	// Trace is every step, when Input.Trace asked for it.
	Trace *Trace

	claims   *token.Claims
	paramBuf [maxInlineParams]Param
	setBuf   [maxInlineSetHeaders]Header
}

// DenyHeaders appends the deny's response headers to dst: content-type,
// and WWW-Authenticate and Allow when set.
func (d *Decision) DenyHeaders(dst []Header) []Header {
	dst = append(dst, Header{Name: "content-type", Value: "application/json"})
	if d.WWWAuthenticate != "" {
		dst = append(dst, Header{Name: "www-authenticate", Value: d.WWWAuthenticate})
	}
	if d.Allow != "" {
		dst = append(dst, Header{Name: "allow", Value: d.Allow})
	}
	return dst
}

// DenyBody returns the deny's JSON body: {"error", "error_description",
// "request_id"}. The front door supplies the request id, so that a
// decision costs no id when nobody reads one.
func (d *Decision) DenyBody(requestID string) []byte {
	b, _ := json.Marshal(struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
		RequestID   string `json:"request_id"`
	}{d.Error, d.Description, requestID})
	return b
}

// Trace is the record of a decision's steps, for explain.
type Trace struct {
	Steps []Step `json:"steps"`
}

// Step is one step of a decision.
type Step struct {
	Step    string `json:"step"`
	Outcome string `json:"outcome"`
	Detail  string `json:"detail,omitempty"`
}

func (d *Decision) trace(step, outcome, format string, args ...any) {
	if d.Trace == nil {
		return
	}
	detail := format
	if len(args) > 0 {
		detail = fmt.Sprintf(format, args...)
	}
	d.Trace.Steps = append(d.Trace.Steps, Step{Step: step, Outcome: outcome, Detail: detail})
}

// Decide makes the decision for in. It never fails: a request that cannot
// be decided gets a Decision with a 5xx status.
func (e *Engine) Decide(ctx context.Context, in *Input) *Decision {
	d := &Decision{}
	e.DecideInto(ctx, in, d)
	return d
}

// DecideInto is Decide into a caller-owned Decision, which it resets.
func (e *Engine) DecideInto(ctx context.Context, in *Input, d *Decision) {
	*d = Decision{ServiceIndex: -1, OperationIndex: -1}
	if in.Trace {
		d.Trace = &Trace{}
	}
	path, why := canonicalPath(in.Path)
	if why != "" {
		if d.Trace != nil {
			d.trace("path", "invalid", "%s", why)
		}
		e.deny(d, 400, ReasonBadPath, "invalid_request", why)
		return
	}
	d.Path = path
	if d.Trace != nil {
		d.trace("path", "canonical", "%s", path)
	}
	s, base := e.m.lookupService(in.Scheme, in.Host, in.Port, path)
	if s == nil {
		if d.Trace != nil {
			d.trace("service", "none", "no API service has a base URL that is a prefix of %s://%s%s", in.Scheme, in.Host, path)
		}
		e.deny(d, 404, ReasonNoService, "not_found", "no API service matches the URL")
		return
	}
	d.Service, d.ServiceIndex = s.name, s.index
	rel := path[len(base):]
	if rel == "" {
		rel = "/"
	}
	if d.Trace != nil {
		d.trace("service", "matched", "%s (base path %q, relative path %s)", s.name, base, rel)
	}
	var segBuf [maxInlineSegs]string
	segs := splitSegments(rel, segBuf[:0])
	m := matcher{method: in.Method}
	s.table.lookup(&m, rel, segs)
	if m.best == nil {
		if m.matched {
			c := matcher{collect: true}
			s.table.lookup(&c, rel, segs)
			d.Allow = strings.Join(c.allow, ", ")
			if d.Trace != nil {
				d.trace("operation", "method not allowed", "%s is not one of %s", in.Method, d.Allow)
			}
			e.deny(d, 405, ReasonMethod, "method_not_allowed", "the method is not allowed here")
			return
		}
		if d.Trace != nil {
			d.trace("operation", "none", "no operation matches %s %s", in.Method, rel)
		}
		e.deny(d, 403, ReasonNoOperation, "access_denied", "no operation matches the request")
		return
	}
	op := m.best.op
	d.Operation, d.OperationIndex = op.name, op.index
	d.Params = d.paramBuf[:0]
	for _, p := range m.best.params {
		d.Params = append(d.Params, Param{Name: p.name, Value: segs[p.seg]})
	}
	if d.Trace != nil {
		d.trace("operation", "matched", "%s by %s %q", op.name, patternType(m.best), m.best.pattern)
	}
	if !e.access(ctx, s, op, in, d) {
		return
	}
	if !e.statements(s, d) {
		return
	}
	d.Allowed, d.Status, d.Reason = true, 200, ReasonAllowed
	if d.Trace != nil {
		d.trace("decision", "allow", "")
	}
}

func patternType(r *route) string {
	if r.exact {
		return PathExact
	}
	return PathParameter
}

// statements resolves the service's statements into header changes.
func (e *Engine) statements(s *service, d *Decision) bool {
	d.RemoveHeaders = s.remove
	d.SetHeaders = d.setBuf[:0]
	for i := range s.set {
		t := &s.set[i]
		v := t.render(d.claims, d.Params)
		if !httpguts.ValidHeaderFieldValue(v) {
			if d.Trace != nil {
				d.trace("statements", "failed", "%s: the value holds control characters", t.name)
			}
			e.deny(d, 403, ReasonStatement, "access_denied", "a statement produced an invalid header value")
			return false
		}
		if v == "" {
			if d.Trace != nil {
				d.trace("statements", "skipped", "%s: empty value, header removed", t.name)
			}
			continue
		}
		d.SetHeaders = append(d.SetHeaders, Header{Name: t.name, Value: v})
	}
	if d.Trace != nil && (len(s.remove) > 0 || len(s.set) > 0) {
		d.trace("statements", "applied", "remove %v, set %d header(s)", s.remove, len(d.SetHeaders))
	}
	return true
}

// lookupService finds the service whose base URL is the longest prefix of
// the request URL, and its base path. Host names compare
// case-insensitively (strings.ToLower allocates only for upper case).
func (m *model) lookupService(scheme, host string, port int, path string) (*service, string) {
	he := m.hosts[hostKey{scheme: scheme, host: strings.ToLower(host), port: normalPort(scheme, port)}]
	if he == nil {
		return nil, ""
	}
	p := path
	for {
		if s := he.paths[p]; s != nil {
			return s, p
		}
		i := strings.LastIndexByte(p, '/')
		if i < 0 {
			return nil, ""
		}
		p = p[:i]
	}
}

// ServiceFor returns the name of the API service that a request URL
// belongs to (scheme, host, port and escaped path as in Input), for a
// response phase that carries neither state nor the original request.
func (e *Engine) ServiceFor(scheme, host string, port int, escapedPath string) (string, bool) {
	path, why := canonicalPath(escapedPath)
	if why != "" {
		return "", false
	}
	s, _ := e.m.lookupService(scheme, host, port, path)
	if s == nil {
		return "", false
	}
	return s.name, true
}

// ResponseChanges returns the header changes of the named service's
// response_statements: remove every value of each name, then add each set
// header. The slices belong to the engine.
func (e *Engine) ResponseChanges(service string) (remove []string, set []Header) {
	s := e.m.byName[service]
	if s == nil {
		return nil, nil
	}
	return s.respRemove, s.respSet
}
