package attack

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// The decision and cache groups run twice: with the authorize function's
// decision cache off (every request asks the decision service) and on
// (a repeated request is answered from the kept decision). Every rule of
// those groups must hold either way: a kept decision never lets through
// what the service would refuse, and no error is ever kept.

// decisionModes is the table dimension of those groups.
var decisionModes = []struct {
	name  string
	cache bool
}{
	{"decision cache off", false},
	{"decision cache on", true},
}

// eachDecisionMode runs test once per decision mode, in parallel.
func eachDecisionMode(t *testing.T, test func(t *testing.T, o options)) {
	t.Parallel()
	for _, m := range decisionModes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			test(t, options{decisionCache: m.cache})
		})
	}
}

// dcacheSettings keep denies as long as allows, so that a kept deny is
// tested as hard as a kept allow.
const dcacheSettings = "    decision_cache: {enabled: true, allow_ttl: 60s, deny_ttl: 60s}\n"

// withDecisionCache adds the decision cache to the authorize function of
// a functions: section (the implicit embedded one when empty).
func withDecisionCache(functions string) string {
	if strings.TrimSpace(functions) == "" {
		return "functions:\n  authorize:\n" + dcacheSettings
	}
	return strings.TrimRight(functions, "\n") + "\n" + dcacheSettings
}

// TestDecisionCache_KeptDecisionsStayPerCaller: with the decision cache
// on and the embedded service, a decision kept for one token is never
// used for another, nor for the same request without a token.
func TestDecisionCache_KeptDecisionsStayPerCaller(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, options{decisionCache: true})
	reader, admin := e.reader(), e.token("root", "admin")
	for range 2 {
		if got := e.status("GET", "/admin/x", bearer(admin)); got != http.StatusOK {
			t.Fatalf("admin GET /admin/x = %d, want 200", got)
		}
	}
	if hits := e.cacheHits(); hits < 1 {
		t.Fatalf("decision cache hits = %v after a repeated request, want at least 1", hits)
	}
	for _, h := range []http.Header{bearer(reader), nil, {"Authorization": {"bearer " + admin + "x"}}} {
		if got := e.status("GET", "/admin/x", h); got == http.StatusOK {
			t.Errorf("GET /admin/x with %v = 200 after an admin's allow was kept", h)
		}
	}
	if got := e.status("GET", "/Admin/x", bearer(reader)); got == http.StatusOK {
		t.Errorf("GET /Admin/x as reader = 200")
	}
}

// cacheHits reads the authorize function's decision cache hits from the
// admin listener's /metrics.
func (e *env) cacheHits() float64 {
	e.t.Helper()
	res, err := http.Get("http://" + e.admin + "/metrics")
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, `edgeward_authorize_cache_hits_total{function="authorize"} `); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	return 0
}
