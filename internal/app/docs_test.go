package app_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/edgeward/edgeward/internal/app"
	"github.com/edgeward/edgeward/internal/config"
	"github.com/edgeward/edgeward/internal/origintest"
	"github.com/edgeward/edgeward/internal/token/tokentest"
)

// metricName matches a metric name, including a shell-style brace list
// (edgeward_authorize_cache_{hits,misses}_total).
var metricName = regexp.MustCompile(`\bedgeward_[a-z0-9_]*(?:\{[a-z0-9_,]+\}[a-z0-9_]*)?[a-z0-9]`)

// expandBraces turns a_{b,c}_d into a_b_d and a_c_d.
func expandBraces(name string) []string {
	i, j := strings.IndexByte(name, '{'), strings.IndexByte(name, '}')
	if i < 0 || j < i {
		return []string{name}
	}
	var out []string
	for alt := range strings.SplitSeq(name[i+1:j], ",") {
		out = append(out, name[:i]+alt+name[j+1:])
	}
	return out
}

// TestDocs_EveryMetricNamedExists: each edgeward_* name in the README and
// docs/ is a metric a running edge (embedded decision service, cache,
// access and decision logs) serves on /metrics.
func TestDocs_EveryMetricNamedExists(t *testing.T) {
	named := map[string]string{} // metric -> file
	files, _ := filepath.Glob("../../docs/*.md")
	for _, f := range append(files, "../../README.md") {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range metricName.FindAllString(string(data), -1) {
			for _, n := range expandBraces(m) {
				named[n] = filepath.Base(f)
			}
		}
	}
	if len(named) == 0 {
		t.Fatal("no metric named in the docs: the pattern is broken")
	}

	iss := tokentest.NewIssuer(t)
	org := origintest.New(t)
	dir := t.TempDir()
	edgeLn := listen(t)
	f, err := config.ParseEdge("edgeward.yaml", []byte(fmt.Sprintf(`
admin: 127.0.0.1:0
origins:
  orders: {url: "http://%s/prod"}
behaviors:
  - path_pattern: "/orders/*"
    origin: orders
    viewer_request: authorize
    cache: {default_ttl: 60s}
    protection: api
  - path_pattern: "*"
    origin: orders
    viewer_request: authorize
functions:
  authorize: {decision_cache: {enabled: true}}
protections:
  sets:
    api:
      rules: [{name: count-all, action: count, match: {path: "/orders/*"}}]
      rate_rules: [{name: per-ip, key: [ip], limit: 1000, window: 1m}]
fleet:
  redis: {address: %q}
  shared_tier: {enabled: true}
decision:%s  decision_log: {path: %q}
logging: {access_log: {path: %q}}
`, org.Addr(), closedAddr(t), sprintfModel(iss, edgeLn.Addr().String()), filepath.Join(dir, "decisions.log"), filepath.Join(dir, "access.log"))), lookup)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e, err := app.NewEdge(ctx, "edgeward.yaml", f, app.Options{})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if err := e.ListenAdmin("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- e.Serve(ctx, edgeLn) }()
	t.Cleanup(func() { cancel(); <-done })
	get(t, "http://"+edgeLn.Addr().String()+"/orders/1") // a request, so that every labelled series exists

	res, err := http.Get("http://" + e.AdminAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	served := map[string]bool{}
	for l := range strings.SplitSeq(string(body), "\n") {
		if rest, ok := strings.CutPrefix(l, "# TYPE "); ok {
			served[strings.Fields(rest)[0]] = true
		}
	}
	for m, file := range named {
		base := m
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if b, ok := strings.CutSuffix(m, suffix); ok && served[b] {
				base = b
			}
		}
		if !served[base] {
			t.Errorf("%s names %s, which the edge's /metrics does not serve", file, m)
		}
	}
}

// closedAddr is a loopback address nothing listens on: a fleet whose Redis
// is away, which still serves and registers every series.
func closedAddr(t *testing.T) string {
	ln := listen(t)
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestDocs_InstallStepsMatchTheBuildAndTheUnit: the install steps copy
// what `make build` writes to where the systemd unit runs it from, and
// create the user the unit runs as; the unit has systemd create its log
// directory.
func TestDocs_InstallStepsMatchTheBuildAndTheUnit(t *testing.T) {
	read := func(p string) string {
		data, err := os.ReadFile(filepath.Join("..", "..", p))
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	makefile, ops, unit := read("Makefile"), read("docs/operations.md"), read("deploy/edgeward.service")
	out := regexp.MustCompile(`(?m)^build:\n\t.*-o (\S+) \./cmd/edgeward`).FindStringSubmatch(makefile)
	if out == nil {
		t.Fatal("Makefile: no build target writing -o FILE ./cmd/edgeward")
	}
	exec := regexp.MustCompile(`(?m)^ExecStart=(\S+) serve`).FindStringSubmatch(unit)
	user := regexp.MustCompile(`(?m)^User=(\S+)$`).FindStringSubmatch(unit)
	logs := regexp.MustCompile(`(?m)^LogsDirectory=(\S+)$`).FindStringSubmatch(unit)
	if exec == nil || user == nil || logs == nil {
		t.Fatalf("unit lacks ExecStart, User or LogsDirectory:\n%s", unit)
	}
	for _, want := range []string{
		"install -m 0755 " + out[1] + " " + exec[1],
		"useradd --system",
		"--shell /usr/sbin/nologin " + user[1] + "\n",
		"/var/log/" + logs[1],
	} {
		if !strings.Contains(ops, want) {
			t.Errorf("docs/operations.md lacks %q", want)
		}
	}
	if !strings.Contains(unit, "ReadWritePaths=/var/log/"+logs[1]) {
		t.Errorf("the unit's writable path is not its LogsDirectory /var/log/%s", logs[1])
	}
}
