package authorizer

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgeward/edgeward/internal/promreg"
)

// Result labels of the decisions counter.
const (
	resultAllow = "allow"
	resultDeny  = "deny"
	resultError = "error"
)

// Phase labels.
const (
	phaseRequest  = "request"
	phaseResponse = "response"
)

// metrics holds one function's collectors, with label children resolved
// once at construction so the request path only increments.
type metrics struct {
	decisions map[string]map[string]prometheus.Counter // phase -> result
	attempts  map[string]prometheus.Counter            // phase
	retries   map[string]prometheus.Counter            // phase
	latency   map[string]prometheus.Observer           // phase
	failOpen  prometheus.Counter
	limited   prometheus.Counter
	breaker   prometheus.Gauge
}

// newMetrics registers the authorize function's collectors on reg (nil:
// not registered). Several functions share the vectors; each gets its own
// "function" label.
func newMetrics(reg prometheus.Registerer, function string) *metrics {
	decisions := promreg.Reuse(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "edgeward", Subsystem: "authorize", Name: "decisions_total",
		Help: "Sideband decisions by function, phase and result (allow, deny, error = no decision).",
	}, []string{"function", "phase", "result"}))
	attempts := promreg.Reuse(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "edgeward", Subsystem: "authorize", Name: "attempts_total",
		Help: "Sideband calls made, retries included.",
	}, []string{"function", "phase"}))
	retries := promreg.Reuse(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "edgeward", Subsystem: "authorize", Name: "retries_total",
		Help: "Sideband calls retried after a transport error or a 5xx.",
	}, []string{"function", "phase"}))
	latency := promreg.Reuse(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "edgeward", Subsystem: "authorize", Name: "decision_seconds",
		Help:    "Time to a decision (or to giving up), all attempts included.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	}, []string{"function", "phase"}))
	failOpen := promreg.Reuse(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "edgeward", Subsystem: "authorize", Name: "fail_open_total",
		Help: "Requests forwarded without a decision because on_error is allow.",
	}, []string{"function"}))
	limited := promreg.Reuse(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "edgeward", Subsystem: "authorize", Name: "rate_limited_total",
		Help: "Requests answered 429 without calling the service, inside a Retry-After window.",
	}, []string{"function"}))
	breaker := promreg.Reuse(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: "edgeward", Subsystem: "authorize", Name: "breaker_open",
		Help: "1 while the function's circuit breaker is open or half-open.",
	}, []string{"function"}))

	m := &metrics{
		decisions: map[string]map[string]prometheus.Counter{},
		attempts:  map[string]prometheus.Counter{},
		retries:   map[string]prometheus.Counter{},
		latency:   map[string]prometheus.Observer{},
		failOpen:  failOpen.WithLabelValues(function),
		limited:   limited.WithLabelValues(function),
		breaker:   breaker.WithLabelValues(function),
	}
	for _, ph := range []string{phaseRequest, phaseResponse} {
		m.decisions[ph] = map[string]prometheus.Counter{}
		for _, res := range []string{resultAllow, resultDeny, resultError} {
			m.decisions[ph][res] = decisions.WithLabelValues(function, ph, res)
		}
		m.attempts[ph] = attempts.WithLabelValues(function, ph)
		m.retries[ph] = retries.WithLabelValues(function, ph)
		m.latency[ph] = latency.WithLabelValues(function, ph)
	}
	return m
}
