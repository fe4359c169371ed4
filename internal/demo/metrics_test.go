package demo

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/edgeward/edgeward/internal/config"
)

// TestMetricsCommand_PrintsAShortUsefulSet: after the self-check, the
// printed metrics command's filter leaves a handful of non-zero series
// that say what happened, not the ~100 of the whole exposition.
func TestMetricsCommand_PrintsAShortUsefulSet(t *testing.T) {
	d, err := Start(t.Context(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if !Passed(d.Check(t.Context())) {
		t.Fatal("self-check failed")
	}
	res, err := http.Get(d.AdminURL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	all := strings.Count(string(body), "\nedgeward_")
	got := usefulSeries(string(body))
	if len(got) == 0 || len(got) > 20 {
		t.Fatalf("the filter keeps %d series (of %d), want 1 to 20:\n%s", len(got), all, strings.Join(got, "\n"))
	}
	text := strings.Join(got, "\n")
	for _, want := range []string{`edgeward_edge_requests_total{behavior="/orders/*"`, `result="Hit"`, `reason="insufficient_scope"`} {
		if !strings.Contains(text, want) {
			t.Errorf("the filtered series lack %s:\n%s", want, text)
		}
	}
	if cmd := MetricsCommand(d.AdminURL()); !strings.Contains(cmd, metricsPattern) || !strings.HasPrefix(cmd, "curl -s "+d.AdminURL()+"/metrics") {
		t.Errorf("MetricsCommand = %q", cmd)
	}
}

func TestConfig_TraceEndpointTurnsTracingOn(t *testing.T) {
	t.Parallel()
	y := Config(Layout{Listen: "127.0.0.1:8080", Admin: "off", OriginURL: "http://127.0.0.1:1/prod", IssuerURL: "http://127.0.0.1:2", TraceEndpoint: "http://127.0.0.1:4318"})
	f, err := config.ParseEdge("demo", y, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if !f.Tracing.Enabled() || f.Tracing.Endpoint != "http://127.0.0.1:4318" {
		t.Errorf("tracing = %+v, want on at http://127.0.0.1:4318", f.Tracing)
	}
}
