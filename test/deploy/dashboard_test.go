package deploy

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/edgeward/edgeward/internal/app"
	"github.com/edgeward/edgeward/internal/config"
	"github.com/edgeward/edgeward/internal/origintest"
	"github.com/edgeward/edgeward/internal/token/tokentest"
)

const dashboardFile = "../../deploy/grafana/edgeward.json"

// targetLabels are added by Prometheus when it scrapes, so they are in
// every series it stores but in no /metrics output.
var targetLabels = []string{"job", "instance"}

// dashboard is the part of Grafana's dashboard JSON model the test reads.
type dashboard struct {
	UID        string  `json:"uid"`
	Title      string  `json:"title"`
	Panels     []panel `json:"panels"`
	Templating struct {
		List []struct {
			Name       string          `json:"name"`
			Type       string          `json:"type"`
			Query      json.RawMessage `json:"query"`
			Datasource *datasource     `json:"datasource"`
		} `json:"list"`
	} `json:"templating"`
}

type datasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type panel struct {
	ID         int         `json:"id"`
	Type       string      `json:"type"`
	Title      string      `json:"title"`
	Datasource *datasource `json:"datasource"`
	GridPos    struct {
		H, W, X, Y int
	} `json:"gridPos"`
	Targets []struct {
		Expr       string      `json:"expr"`
		RefID      string      `json:"refId"`
		Datasource *datasource `json:"datasource"`
	} `json:"targets"`
	Panels []panel `json:"panels"`
}

// expression is one PromQL expression of the dashboard and where it is.
type expression struct{ where, expr string }

// loadDashboard reads the dashboard, checks that Grafana can lay it out
// and that every query goes to the chosen Prometheus, and returns its
// expressions (panel targets and variable queries).
func loadDashboard(t *testing.T) []expression {
	t.Helper()
	data, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	if d.UID == "" || d.Title == "" {
		t.Errorf("dashboard uid %q title %q, want both", d.UID, d.Title)
	}
	var exprs []expression
	ids := map[int]string{}
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			if prev, dup := ids[p.ID]; dup || p.ID == 0 {
				t.Errorf("panel %q has id %d, already %q's", p.Title, p.ID, prev)
			}
			ids[p.ID] = p.Title
			if g := p.GridPos; g.W <= 0 || g.H <= 0 || g.X < 0 || g.X+g.W > 24 {
				t.Errorf("panel %q gridPos %+v is outside Grafana's 24 columns", p.Title, g)
			}
			walk(p.Panels)
			if p.Type == "row" {
				continue
			}
			if len(p.Targets) == 0 {
				t.Errorf("panel %q has no query", p.Title)
			}
			if p.Datasource == nil || p.Datasource.UID != "${datasource}" {
				t.Errorf("panel %q datasource %+v, want the ${datasource} variable", p.Title, p.Datasource)
			}
			for _, tg := range p.Targets {
				if strings.TrimSpace(tg.Expr) == "" {
					t.Errorf("panel %q target %s has no expression", p.Title, tg.RefID)
				}
				exprs = append(exprs, expression{fmt.Sprintf("panel %q target %s", p.Title, tg.RefID), tg.Expr})
			}
		}
	}
	walk(d.Panels)
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		var q struct {
			Query string `json:"query"`
		}
		if err := json.Unmarshal(v.Query, &q); err != nil {
			if err := json.Unmarshal(v.Query, &q.Query); err != nil {
				t.Errorf("variable %s: query %s: %v", v.Name, v.Query, err)
			}
		}
		exprs = append(exprs, expression{"variable " + v.Name, q.Query})
	}
	return exprs
}

// TestDashboard_QueriesExistingMetrics starts a real edge (embedded
// decision service, a cached and an uncached behavior, a file access log),
// sends requests that allow, deny, hit, miss and fail at the origin, and
// checks every query of the Grafana dashboard against its /metrics: each
// metric exists, each label a query filters or groups by is one of the
// metric's labels (or a label Prometheus adds when scraping), and each
// literal label value a query filters on occurs.
func TestDashboard_QueriesExistingMetrics(t *testing.T) {
	t.Parallel()
	exprs := loadDashboard(t)
	series := scrape(t, startEdge(t))
	for _, e := range exprs {
		for _, p := range problems(series, e.expr) {
			t.Errorf("%s: %s", e.where, p)
		}
	}
}

// problems lists what in expr the scraped series cannot answer.
func problems(series map[string]series, expr string) []string {
	var out []string
	q := parseQuery(expr)
	if len(q.Selectors) == 0 {
		out = append(out, fmt.Sprintf("no metric in %q", expr))
	}
	var labels []string
	for _, sel := range q.Selectors {
		s, ok := series[sel.Metric]
		if !ok {
			out = append(out, fmt.Sprintf("metric %q is not exported by the edge", sel.Metric))
			continue
		}
		labels = append(labels, s.labelNames()...)
		for _, l := range sel.Labels {
			if _, ok := s.values[l]; !ok && !slices.Contains(targetLabels, l) {
				out = append(out, fmt.Sprintf("%s has no label %q (labels: %v)", sel.Metric, l, s.labelNames()))
			}
		}
		for l, vs := range sel.Values {
			for _, v := range vs {
				if !s.values[l][v] {
					out = append(out, fmt.Sprintf("%s{%s=%q} never occurs", sel.Metric, l, v))
				}
			}
		}
	}
	for _, g := range q.Grouping {
		if !slices.Contains(labels, g) && !slices.Contains(targetLabels, g) {
			out = append(out, fmt.Sprintf("groups by %q, a label none of its metrics has", g))
		}
	}
	return out
}

// TestProblems pins what the dashboard test catches.
func TestProblems(t *testing.T) {
	t.Parallel()
	series := map[string]series{
		"req_total":          {values: map[string]map[string]bool{"behavior": {"*": true}, "result": {"Hit": true, "Miss": true}}},
		"lat_seconds_bucket": {values: map[string]map[string]bool{"behavior": {"*": true}, "le": {"+Inf": true}}},
	}
	cases := []struct {
		name, expr string
		want       int
	}{
		{"fine", `sum by (behavior, job) (rate(req_total{instance=~"$i", result=~"Hit|Miss"}[5m]))`, 0},
		{"histogram", `histogram_quantile(0.99, sum by (le) (rate(lat_seconds_bucket[5m])))`, 0},
		{"unknown metric", `rate(req_totl[5m])`, 1},
		{"unknown label", `req_total{origin="a"}`, 2}, // the label, and its value
		{"unknown value", `req_total{result="hit"}`, 1},
		{"grouping by a missing label", `sum by (status) (req_total)`, 1},
		{"no metric at all", `vector(1)`, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := problems(series, tc.expr); len(got) != tc.want {
				t.Errorf("problems(%q) = %q, want %d", tc.expr, got, tc.want)
			}
		})
	}
}

// startEdge runs an edge with the embedded decision service in front of a
// scripted origin, sends it a mix of requests, and returns its admin URL.
func startEdge(t *testing.T) string {
	t.Helper()
	iss := tokentest.NewIssuer(t)
	org := origintest.New(t)
	org.Handle("/prod/orders/broken", origintest.Reply{Status: http.StatusInternalServerError})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	file := fmt.Sprintf(`
admin: 127.0.0.1:0
origins:
  orders: {url: "http://%s/prod"}
behaviors:
  - path_pattern: "/orders/*"
    origin: orders
    viewer_request: authorize
    cache: {default_ttl: 60s}
  - path_pattern: "*"
    origin: orders
    viewer_request: authorize
decision:
  token_issuers:
    test: {issuer: %q, jwks_url: %q, algorithms: [RS256]}
  api_services:
    - name: Orders API
      base_urls: ["http://%s"]
      token_issuer: test
      audience: https://api.example.com
      operations:
        - name: Read orders
          methods: [GET, HEAD]
          paths: [{type: PARAMETER, pattern: "/orders/{id}"}]
          access_control: {scopes: {match: ANY, values: ["orders:read"]}}
logging:
  access_log: {path: %q}
`, org.Addr(), iss.URL(), iss.JWKSURL(), ln.Addr(), filepath.Join(t.TempDir(), "access.log"))
	f, err := config.ParseEdge("edgeward.yaml", []byte(file), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e, err := app.NewEdge(ctx, "edgeward.yaml", f, app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.ListenAdmin("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- e.Serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-done })

	read := iss.Mint(map[string]any{"sub": "alice", "aud": "https://api.example.com", "scope": "orders:read"})
	noScope := iss.Mint(map[string]any{"sub": "eve", "aud": "https://api.example.com", "scope": "profile"})
	base := "http://" + ln.Addr().String()
	for _, r := range []struct {
		path, token string
		want        int
	}{
		{"/orders/1", read, http.StatusOK},         // miss
		{"/orders/1", read, http.StatusOK},         // hit
		{"/orders/1", "", http.StatusUnauthorized}, // deny: no token
		{"/orders/1", noScope, http.StatusForbidden},
		{"/orders/broken", read, http.StatusInternalServerError},
		{"/elsewhere", read, http.StatusForbidden}, // no operation: deny
	} {
		req, _ := http.NewRequest(http.MethodGet, base+r.path, nil)
		if r.token != "" {
			req.Header.Set("Authorization", "Bearer "+r.token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != r.want {
			t.Errorf("GET %s = %d, want %d", r.path, res.StatusCode, r.want)
		}
	}
	return "http://" + e.AdminAddr()
}

// series is what /metrics says about one series name: its label names and
// the values each takes.
type series struct {
	values map[string]map[string]bool
}

func (s series) labelNames() []string {
	names := make([]string, 0, len(s.values))
	for n := range s.values {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// scrape reads /metrics and indexes it by the series names a query can
// use: a histogram F as F_bucket (with le), F_sum and F_count; a summary F
// as F (with quantile), F_sum and F_count.
func scrape(t *testing.T, admin string) map[string]series {
	t.Helper()
	res, err := http.Get(admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(res.Body)
	if err != nil {
		t.Fatalf("parsing /metrics: %v", err)
	}
	out := map[string]series{}
	add := func(name string, m *dto.Metric, extra string) {
		s, ok := out[name]
		if !ok {
			s = series{values: map[string]map[string]bool{}}
			out[name] = s
		}
		for _, lp := range m.GetLabel() {
			if s.values[lp.GetName()] == nil {
				s.values[lp.GetName()] = map[string]bool{}
			}
			s.values[lp.GetName()][lp.GetValue()] = true
		}
		if extra != "" && s.values[extra] == nil {
			s.values[extra] = map[string]bool{}
		}
	}
	for name, mf := range families {
		for _, m := range mf.GetMetric() {
			switch mf.GetType() {
			case dto.MetricType_HISTOGRAM:
				add(name+"_bucket", m, "le")
				add(name+"_sum", m, "")
				add(name+"_count", m, "")
			case dto.MetricType_SUMMARY:
				add(name, m, "quantile")
				add(name+"_sum", m, "")
				add(name+"_count", m, "")
			default:
				add(name, m, "")
			}
		}
	}
	return out
}
