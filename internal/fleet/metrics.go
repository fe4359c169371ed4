package fleet

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the fleet's collectors; they count without a Registerer.
type metrics struct {
	published, applied prometheus.Counter
	applyLatency       prometheus.Histogram
	drops              *prometheus.CounterVec
	tier, tierStores   *prometheus.CounterVec
	collapse           *prometheus.CounterVec
	counterErrors      prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, n *Node) (*metrics, error) {
	opts := func(name, help string) prometheus.CounterOpts {
		return prometheus.CounterOpts{Namespace: "edgeward", Subsystem: "fleet", Name: name, Help: help}
	}
	m := &metrics{
		published: prometheus.NewCounter(opts("invalidations_published_total", "Invalidations accepted here and appended to the stream.")),
		applied:   prometheus.NewCounter(opts("invalidations_applied_total", "Invalidations from other nodes applied to the local cache.")),
		applyLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "edgeward", Subsystem: "fleet", Name: "invalidation_apply_seconds",
			Help:    "From acceptance on another node to applied here (clocks of two nodes).",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 5, 30},
		}),
		drops:         prometheus.NewCounterVec(opts("cache_drops_total", "Whole local cache dropped because the node could not prove it saw every invalidation."), []string{"reason"}),
		tier:          prometheus.NewCounterVec(opts("tier_requests_total", "Shared tier commands by result: hit, miss, error, bypassed (Redis away)."), []string{"result"}),
		tierStores:    prometheus.NewCounterVec(opts("tier_stores_total", "Objects offered to the shared tier: stored, or refused because invalidated meanwhile."), []string{"result"}),
		collapse:      prometheus.NewCounterVec(opts("collapse_total", "Fleet-wide collapsing: lock taken, filled by another node, unfilled, timeout."), []string{"result"}),
		counterErrors: prometheus.NewCounter(opts("counter_errors_total", "Fleet counter calls that got no answer (the caller used its local limiter).")),
	}
	// Every known series exists from the start, at zero, so that a
	// dashboard and a rate() see it before its first event.
	for _, r := range []string{"hit", "miss", "error", "bypassed"} {
		m.tier.WithLabelValues(r)
	}
	for _, r := range []string{"stored", "invalidated"} {
		m.tierStores.WithLabelValues(r)
	}
	for _, r := range []string{"lock", "filled", "unfilled", "timeout"} {
		m.collapse.WithLabelValues(r)
	}
	for _, r := range dropReasons {
		m.drops.WithLabelValues(r)
	}
	if reg == nil {
		return m, nil
	}
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "edgeward", Subsystem: "fleet", Name: name, Help: help}, f)
	}
	b2f := func(b bool) float64 {
		if b {
			return 1
		}
		return 0
	}
	var errs []error
	for _, c := range []prometheus.Collector{m.published, m.applied, m.applyLatency, m.drops, m.tier, m.tierStores, m.collapse, m.counterErrors,
		gauge("redis_up", "1 while the last Redis command succeeded.", func() float64 { return b2f(n.linkUp.Load()) }),
		gauge("synced", "1 while the node follows every invalidation.", func() float64 { return b2f(n.synced.Load()) }),
		gauge("invalidations_queued", "Invalidations accepted here that wait for Redis.", func() float64 { return float64(n.queued()) }),
	} {
		errs = append(errs, reg.Register(c))
	}
	return m, errors.Join(errs...)
}
