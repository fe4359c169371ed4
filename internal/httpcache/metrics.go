package httpcache

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgeward/edgeward/internal/edge"
)

// metrics are the store's collectors. They exist (and count) without a
// Registerer; they are only exported when one is given.
type metrics struct {
	requests      *prometheus.CounterVec
	stores        *prometheus.CounterVec
	collapsed     *prometheus.CounterVec
	evictions     prometheus.Counter
	invalidations prometheus.Counter
}

// behaviorMetrics are one behavior's resolved counters.
type behaviorMetrics struct {
	hit, refreshHit, miss, error prometheus.Counter
	stored, collapsed            prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, s *Store) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "edgeward", Subsystem: "cache", Name: "requests_total",
			Help: "Requests through a behavior's cache by result (Hit, RefreshHit, Miss, Error).",
		}, []string{"behavior", "result"}),
		stores: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "edgeward", Subsystem: "cache", Name: "stores_total",
			Help: "Responses stored (or refreshed by a 304) per behavior.",
		}, []string{"behavior"}),
		collapsed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "edgeward", Subsystem: "cache", Name: "collapsed_total",
			Help: "Requests that waited for another request's origin fetch instead of sending their own.",
		}, []string{"behavior"}),
		evictions: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "edgeward", Subsystem: "cache", Name: "evictions_total",
			Help: "Paths evicted to stay under max_size.",
		}),
		invalidations: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "edgeward", Subsystem: "cache", Name: "invalidated_paths_total",
			Help: "Paths invalidated, by the admin API or by unsafe requests.",
		}),
	}
	if reg == nil {
		return m, nil
	}
	bytes := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: "edgeward", Subsystem: "cache", Name: "bytes",
		Help: "Bytes held by the cache (bodies and headers), as weighed against max_size.",
	}, func() float64 { return float64(s.cache.WeightedSize()) })
	paths := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: "edgeward", Subsystem: "cache", Name: "paths",
		Help: "Paths with stored objects (approximate).",
	}, func() float64 { return float64(s.cache.EstimatedSize()) })
	var errs []error
	for _, c := range []prometheus.Collector{m.requests, m.stores, m.collapsed, m.evictions, m.invalidations, bytes, paths} {
		errs = append(errs, reg.Register(c))
	}
	return m, errors.Join(errs...)
}

func (m *metrics) behavior(name string) *behaviorMetrics {
	return &behaviorMetrics{
		hit:        m.requests.WithLabelValues(name, string(edge.ResultHit)),
		refreshHit: m.requests.WithLabelValues(name, string(edge.ResultRefreshHit)),
		miss:       m.requests.WithLabelValues(name, string(edge.ResultMiss)),
		error:      m.requests.WithLabelValues(name, string(edge.ResultError)),
		stored:     m.stores.WithLabelValues(name),
		collapsed:  m.collapsed.WithLabelValues(name),
	}
}

// count records one request's result.
func (c *Cache) count(r edge.Result) {
	switch r {
	case edge.ResultHit:
		c.m.hit.Inc()
	case edge.ResultRefreshHit:
		c.m.refreshHit.Inc()
	case edge.ResultError:
		c.m.error.Inc()
	default:
		c.m.miss.Inc()
	}
}
