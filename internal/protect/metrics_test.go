package protect

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestMetrics_PerRuleAndAction(t *testing.T) {
	reg := prometheus.NewRegistry()
	cfg := one(SetConfig{
		WAF:   WAFConfig{Mode: ModeCount},
		Rules: []RuleConfig{{Name: "no-admin", Action: ActionBlock, Match: MatchConfig{Path: "/admin"}}},
	})
	s := build(t, cfg, Options{Registerer: reg})
	inspect(s, req("GET", "/admin", ""))
	inspect(s, req("GET", "/orders?id=1%27%20UNION%20SELECT%20password%20FROM%20users--", ""))
	inspect(s, req("GET", "/orders/1", ""))
	m, _ := newMetrics(reg) // the registered collectors
	tests := []struct {
		c    prometheus.Collector
		want float64
	}{
		{m.requests.WithLabelValues("s", "block"), 1},
		{m.requests.WithLabelValues("s", "count"), 1},
		{m.requests.WithLabelValues("s", "allow"), 1},
		{m.rules.WithLabelValues("s", "no-admin", "block"), 1},
		{m.rules.WithLabelValues("s", "crs:949110", "count"), 1},
		{m.rules.WithLabelValues("s", "crs:942100", "count"), 1},
	}
	for i, tt := range tests {
		if got := testutil.ToFloat64(tt.c); got != tt.want {
			t.Errorf("series %d = %v, want %v", i, got, tt.want)
		}
	}
}
