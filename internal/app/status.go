package app

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/edgeward/edgeward/internal/decisionapi"
	"github.com/edgeward/edgeward/internal/edge"
	"github.com/edgeward/edgeward/internal/httpcache"
	"github.com/edgeward/edgeward/internal/origin"
	"github.com/edgeward/edgeward/internal/size"
)

// The status page (GET /status on the admin listener) is the operator's
// one-look view, in the spirit of HAProxy's stats page and Envoy's admin
// page: behaviors and their origins with live health, the cache, the
// decisions with the last denies (each linked to the explain form), the
// invalidations, and which configuration runs. It is rendered on the
// server with html/template, refreshes itself every 5 seconds and needs
// no JavaScript. Its numbers come from the same collectors as /metrics.

//go:embed status.html
var statusHTML string

var statusTemplate = template.Must(template.New("status").Funcs(template.FuncMap{
	"bytes": func(n int64) string { return size.Bytes(n).String() },
	"pct": func(f float64) string {
		if f < 0 {
			return "–"
		}
		return fmt.Sprintf("%.1f%%", 100*f)
	},
	"rate": func(f float64) string { return fmt.Sprintf("%.2f/s", f) },
	"ago": func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return time.Since(t).Truncate(time.Second).String() + " ago"
	},
	"clock": func(t time.Time) string { return t.UTC().Format("15:04:05Z") },
}).Parse(statusHTML))

// maxDenies is how many denies the page lists.
const maxDenies = 20

// status holds what the page needs beyond the metrics: the last denies
// (seen through the access log stage), decision counts sampled at earlier
// views (for rates), and the configuration's version and reload history.
type status struct {
	start time.Time

	mu       sync.Mutex
	lastDeny []deny // newest last, at most maxDenies
	samples  []decisionSample
	version  string
	loaded   time.Time
}

// deny is one request a viewer-request function answered with 401 or 403.
type deny struct {
	Time      time.Time
	Method    string
	URL       string
	Status    int
	Reason    string
	RequestID string
}

// reloadView is the last reload's outcome, as the page shows it.
type reloadView struct {
	At              time.Time
	Err             string
	Changed         string
	RestartRequired string
}

type decisionSample struct {
	at                time.Time
	allow, deny, errs float64
}

func newStatus(path string) *status {
	now := time.Now()
	return &status{start: now, loaded: now, version: fileVersion(path)}
}

// fileVersion names a configuration by the first 12 hex digits of its
// SHA-256: the same file always has the same version, on every node.
func fileVersion(path string) string {
	if path == "" {
		return "built in"
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:6])
}

// configVersion returns the running file's version and when it was
// loaded, following the edge's last successful reload.
func (s *status) configVersion(path string, last *ReloadResult) (string, time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if last != nil && last.Err == nil && last.At.After(s.loaded) {
		s.version, s.loaded = fileVersion(path), last.At
	}
	return s.version, s.loaded
}

// denies returns the access-log stage that feeds the page's last denies
// and hands every record on to next, if any.
func (s *status) denies(next edge.Logger) edge.Logger {
	return denyRecorder{s: s, next: next}
}

// denyRecorder is the access-log stage seen by the status page: it keeps
// the last denies and hands every record on to the access log, if any.
type denyRecorder struct {
	s    *status
	next edge.Logger
}

// Log implements edge.Logger. Only a function's 401 or 403 is copied; the
// query string is left out (it may carry secrets).
func (d denyRecorder) Log(r *edge.Request, rec *edge.Record) {
	if r.Result == edge.ResultFunctionGeneratedResponse && (rec.Status == http.StatusUnauthorized || rec.Status == http.StatusForbidden) {
		d.s.addDeny(r, rec)
	}
	if d.next != nil {
		d.next.Log(r, rec)
	}
}

func (s *status) addDeny(r *edge.Request, rec *edge.Record) {
	dn := deny{Time: time.Now(), Status: rec.Status, RequestID: r.ID, Reason: denyReason(rec)}
	if h := r.HTTP; h != nil && h.URL != nil {
		dn.Method = h.Method
		dn.URL = (&url.URL{Scheme: r.Scheme, Host: r.Host, Path: h.URL.Path, RawPath: h.URL.RawPath}).String()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.lastDeny) == maxDenies {
		copy(s.lastDeny, s.lastDeny[1:])
		s.lastDeny = s.lastDeny[:maxDenies-1]
	}
	s.lastDeny = append(s.lastDeny, dn)
}

// denyReason is the error of the deny's WWW-Authenticate challenge
// (invalid_token, insufficient_scope), else the status text.
func denyReason(rec *edge.Record) string {
	for _, v := range rec.Header.Values("Www-Authenticate") {
		if _, after, ok := strings.Cut(v, `error="`); ok {
			if reason, _, ok := strings.Cut(after, `"`); ok {
				return reason
			}
		}
	}
	if rec.Status == http.StatusUnauthorized {
		return "unauthorized"
	}
	return "forbidden"
}

var _ edge.Logger = denyRecorder{}

// statusView is what the template renders.
type statusView struct {
	Now        time.Time
	Version    string
	Uptime     string
	Config     string
	Loaded     time.Time
	Reload     reloadView
	Behaviors  []behaviorView
	Cache      cacheView
	Decisions  decisionView
	Denies     []denyView
	Invalid    []httpcache.Invalidation
	HasExplain bool
	Tracing    string
}

type behaviorView struct {
	Pattern, Methods, Function, Origin, OriginURL string
	Cached                                        bool
	Health                                        healthView
}

type healthView struct {
	OK                bool
	Text              string
	Responses, Errors float64
}

type cacheView struct {
	Entries, Bytes, Max int64
	Hits, Misses        float64
	Ratio               float64 // -1 before the first request
}

type decisionView struct {
	Allow, Deny, Errors            float64
	AllowRate, DenyRate, ErrorRate float64
	Window                         string
	Breakers                       []string // functions whose breaker is open
}

type denyView struct {
	deny
	Explain string
}

// serveStatus renders the page.
func (e *Edge) serveStatus(w http.ResponseWriter, r *http.Request) {
	v := e.statusView(r.Context())
	var b bytes.Buffer
	if err := statusTemplate.ExecuteTemplate(&b, "page", v); err != nil {
		http.Error(w, "status: "+err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'")
	h.Set("X-Content-Type-Options", "nosniff")
	w.Write(b.Bytes())
}

func (e *Edge) statusView(ctx context.Context) statusView {
	st := e.status
	f := e.cfg.Load()
	m := gatherMap(e)
	now := time.Now()
	v := statusView{Now: now, Version: e.opts.Version, Uptime: now.Sub(st.start).Truncate(time.Second).String(),
		HasExplain: e.snap.Load().explain() != nil, Tracing: "off"}
	if f.Tracing.Enabled() {
		v.Tracing = "OTLP to " + f.Tracing.Endpoint
	}

	health := probeOrigins(ctx, f.Origins)
	for _, b := range f.Behaviors {
		o := f.Origins[b.Origin]
		hv := health[b.Origin]
		hv.Responses = m.sum("edgeward_origin_responses_total", "origin", b.Origin)
		hv.Errors = m.sum("edgeward_origin_errors_total", "origin", b.Origin)
		v.Behaviors = append(v.Behaviors, behaviorView{
			Pattern: b.PathPattern, Methods: strings.Join(b.AllowedMethods, " "), Function: b.ViewerRequest,
			Origin: b.Origin, OriginURL: o.URL, Cached: b.Cache != nil && b.Cache.Enabled(), Health: hv,
		})
	}

	c := &v.Cache
	c.Entries = int64(m.sum("edgeward_cache_paths", "", ""))
	c.Bytes = int64(m.sum("edgeward_cache_bytes", "", ""))
	c.Max = int64(f.Cache.MaxSize)
	c.Hits = m.sum("edgeward_cache_requests_total", "result", "Hit") + m.sum("edgeward_cache_requests_total", "result", "RefreshHit")
	c.Misses = m.sum("edgeward_cache_requests_total", "", "") - c.Hits
	c.Ratio = -1
	if total := c.Hits + c.Misses; total > 0 {
		c.Ratio = c.Hits / total
	}

	d := &v.Decisions
	d.Allow = m.sum("edgeward_authorize_decisions_total", "result", "allow")
	d.Deny = m.sum("edgeward_authorize_decisions_total", "result", "deny")
	d.Errors = m.sum("edgeward_authorize_decisions_total", "result", "error")
	d.Breakers = append(d.Breakers, m.labelsWhere("edgeward_authorize_breaker_open", "function", 1)...)

	st.mu.Lock()
	prev := st.rateBase(now)
	st.samples = append(st.samples, decisionSample{at: now, allow: d.Allow, deny: d.Deny, errs: d.Errors})
	if secs := now.Sub(prev.at).Seconds(); secs > 0 {
		d.AllowRate, d.DenyRate, d.ErrorRate = (d.Allow-prev.allow)/secs, (d.Deny-prev.deny)/secs, (d.Errors-prev.errs)/secs
		d.Window = now.Sub(prev.at).Truncate(time.Second).String()
	}
	for i := len(st.lastDeny) - 1; i >= 0; i-- {
		dn := st.lastDeny[i]
		q := url.Values{"method": {dn.Method}, "url": {dn.URL}}
		v.Denies = append(v.Denies, denyView{deny: dn, Explain: "/status/explain?" + q.Encode()})
	}
	st.mu.Unlock()
	last := e.LastReload()
	v.Config, v.Loaded = st.configVersion(e.path, last)
	if last != nil {
		v.Reload = reloadView{At: last.At, Changed: strings.Join(last.Changed, ", "), RestartRequired: strings.Join(last.RestartRequired, ", ")}
		if last.Err != nil {
			v.Reload.Err = last.Err.Error()
		}
	}

	v.Invalid = e.store.Invalidations()
	if len(v.Invalid) > 10 {
		v.Invalid = v.Invalid[:10]
	}
	return v
}

// rateBase returns the sample rates are measured from: the oldest one of
// the last minute (the process start, with zero counts, before any), and
// forgets older ones. Called with s.mu held.
func (s *status) rateBase(now time.Time) decisionSample {
	cut := 0
	for cut < len(s.samples) && now.Sub(s.samples[cut].at) > time.Minute {
		cut++
	}
	s.samples = s.samples[cut:]
	if len(s.samples) == 0 {
		return decisionSample{at: s.start}
	}
	return s.samples[0]
}

// probeOrigins dials every origin (1s at most, in parallel): the page's
// live view of whether the edge can reach each one now.
func probeOrigins(ctx context.Context, origins map[string]origin.Config) map[string]healthView {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	out := make(map[string]healthView, len(origins))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for id, o := range origins {
		wg.Go(func() {
			hv := healthView{OK: true, Text: "reachable"}
			addr, err := dialAddr(o.URL)
			if err == nil {
				var c net.Conn
				if c, err = (&net.Dialer{}).DialContext(ctx, "tcp", addr); err == nil {
					c.Close()
				}
			}
			if err != nil {
				hv = healthView{Text: "unreachable: " + err.Error()}
			}
			mu.Lock()
			out[id] = hv
			mu.Unlock()
		})
	}
	wg.Wait()
	return out
}

func dialAddr(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	return net.JoinHostPort(u.Hostname(), port), nil
}

// metricMap is one gathering of the edge's collectors.
type metricMap map[string][]*dto.Metric

func gatherMap(e *Edge) metricMap {
	fams, _ := e.gatherer().Gather()
	m := metricMap{}
	for _, f := range fams {
		m[f.GetName()] = f.GetMetric()
	}
	return m
}

// sum adds the values of name's series whose label is value ("" label:
// all series).
func (m metricMap) sum(name, label, value string) float64 {
	var total float64
	for _, s := range m[name] {
		if label != "" && labelOf(s, label) != value {
			continue
		}
		switch {
		case s.Counter != nil:
			total += s.Counter.GetValue()
		case s.Gauge != nil:
			total += s.Gauge.GetValue()
		}
	}
	return total
}

// labelsWhere lists the label values of name's series whose value is v.
func (m metricMap) labelsWhere(name, label string, v float64) []string {
	var out []string
	for _, s := range m[name] {
		if s.Gauge != nil && s.Gauge.GetValue() == v {
			out = append(out, labelOf(s, label))
		}
	}
	sort.Strings(out)
	return out
}

func labelOf(s *dto.Metric, name string) string {
	for _, l := range s.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// explainView is the explain form and, after a POST, its answer.
type explainView struct {
	Method, URL, Authorization string
	Result                     string
	Decision                   string
	Error                      string
}

// serveExplain is the status page's explain form: the deny's method and
// URL prefilled, a token pasted by the operator (never stored), and the
// decision service's explanation of what it would decide.
func (e *Edge) serveExplain(w http.ResponseWriter, r *http.Request) {
	v := explainView{Method: r.FormValue("method"), URL: r.FormValue("url")}
	if v.Method == "" {
		v.Method = http.MethodGet
	}
	h := e.snap.Load().explain()
	if r.Method == http.MethodPost {
		v.Authorization = r.PostFormValue("authorization")
		switch {
		case h == nil:
			v.Error = "this edge has no embedded decision service to explain with"
		default:
			v.Decision, v.Result, v.Error = explain(h, v.Method, v.URL, v.Authorization)
		}
	}
	var b bytes.Buffer
	if err := statusTemplate.ExecuteTemplate(&b, "explain", v); err != nil {
		http.Error(w, "explain: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'")
	w.Write(b.Bytes())
}

// explain asks the explain endpoint about one request and returns its
// decision line and the indented answer.
func explain(h http.Handler, method, target, authorization string) (decision, result, errMsg string) {
	headers := []map[string]string{}
	if authorization != "" {
		headers = append(headers, map[string]string{"authorization": strings.TrimSpace(authorization)})
	}
	body, _ := json.Marshal(map[string]any{"source_ip": "127.0.0.1", "method": method, "url": target, "headers": headers})
	req := httptest.NewRequest(http.MethodPost, decisionapi.ExplainPath, bytes.NewReader(body))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var pretty bytes.Buffer
	if json.Indent(&pretty, rec.Body.Bytes(), "", "  ") != nil {
		pretty.Write(rec.Body.Bytes())
	}
	out := pretty.String()
	if tok := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(authorization), "Bearer")); tok != "" {
		out = strings.ReplaceAll(out, tok, "[redacted]") // the reply echoes the request's headers
	}
	if rec.Code != http.StatusOK {
		return "", out, fmt.Sprintf("the decision service answered %d", rec.Code)
	}
	var ex decisionapi.Explanation
	_ = json.Unmarshal(rec.Body.Bytes(), &ex)
	decision = fmt.Sprintf("%s %d %s", ex.Decision, ex.Status, ex.Reason)
	if ex.Operation != "" {
		decision += " (" + ex.Service + " / " + ex.Operation + ")"
	}
	return decision, out, ""
}
