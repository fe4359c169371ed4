package protect

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgeward/edgeward/internal/promreg"
)

// metrics are the protections' Prometheus series: AWS WAF's
// AllowedRequests/BlockedRequests/CountedRequests per web ACL and per rule.
type metrics struct {
	requests *prometheus.CounterVec // set, action
	rules    *prometheus.CounterVec // set, rule, action
	fallback *prometheus.CounterVec // set, rule: fleet counter errors
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "edgeward", Subsystem: "protect", Name: "requests_total",
			Help: "Requests inspected by a protection set, by the set's final action (allow, block, count).",
		}, []string{"set", "action"}),
		rules: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "edgeward", Subsystem: "protect", Name: "rule_matches_total",
			Help: "Rule matches, by set, rule (custom and rate rule names, ip_deny:<ip set>, ip_allow:<ip set>, crs:<id>; CRS rules that raised the anomaly score count as count) and action.",
		}, []string{"set", "rule", "action"}),
		fallback: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "edgeward", Subsystem: "protect", Name: "rate_counter_fallbacks_total",
			Help: "Rate-rule decisions made by the node's own limiter because the fleet counter failed.",
		}, []string{"set", "rule"}),
	}
	var errs [3]error
	m.requests, errs[0] = promreg.Register(reg, m.requests)
	m.rules, errs[1] = promreg.Register(reg, m.rules)
	m.fallback, errs[2] = promreg.Register(reg, m.fallback)
	return m, errors.Join(errs[:]...)
}
