package decisionapi

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgeward/edgeward/internal/decision"
	"github.com/edgeward/edgeward/internal/promreg"
)

// metrics are the front doors' collectors. A nil *metrics counts nothing.
// (The token cache's hit ratio and JWKS refreshes are the token package's
// metrics; condition errors the engine's.)
type metrics struct {
	decisions *prometheus.CounterVec
	embedded  prometheus.Observer
	http      prometheus.Observer
	errors    *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	if reg == nil {
		return nil
	}
	latency := promreg.Reuse(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "edgeward_decision_duration_seconds",
		Help:    "Time to make a decision, token verification included, by front door (embedded or http).",
		Buckets: []float64{5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 5e-2, 0.25, 1},
	}, []string{"door"}))
	return &metrics{
		decisions: promreg.Reuse(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edgeward_decisions_total",
			Help: "Decisions by API service, operation, result (allow or deny) and reason.",
		}, []string{"service", "operation", "result", "reason"})),
		embedded: latency.WithLabelValues("embedded"),
		http:     latency.WithLabelValues("http"),
		errors: promreg.Reuse(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edgeward_sideband_errors_total",
			Help: "Sideband calls answered without a decision, by HTTP status (400, 401, 413, 5xx).",
		}, []string{"status"})),
	}
}

// allowCounter resolves the allow counter of one operation, once per
// engine, so that an allow looks no label up. Without metrics it is nil.
func (m *metrics) allowCounter(service, operation string) prometheus.Counter {
	if m == nil {
		return nil
	}
	return m.decisions.WithLabelValues(service, operation, "allow", string(decision.ReasonAllowed))
}

func (m *metrics) denied(service, operation string, reason decision.Reason) {
	if m == nil {
		return
	}
	m.decisions.WithLabelValues(service, operation, "deny", string(reason)).Inc()
}

// observe records a decision's latency; gateway < 0 is the embedded door.
func (m *metrics) observe(gateway int, d time.Duration) {
	if m == nil {
		return
	}
	if gateway < 0 {
		m.embedded.Observe(d.Seconds())
	} else {
		m.http.Observe(d.Seconds())
	}
}

func (m *metrics) failed(status int) {
	if m == nil {
		return
	}
	m.errors.WithLabelValues(strconv.Itoa(status)).Inc()
}
