package edge

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgeward/edgeward/internal/promreg"
)

// metrics are the edge's collectors. Their label children are resolved
// when a behavior set is compiled (New, Update), never per request; labels
// are the behavior's path pattern and origin id, never a raw path.
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	decision *prometheus.HistogramVec
	origin   *prometheus.HistogramVec
	inFlight prometheus.Gauge
	panics   *prometheus.CounterVec
}

// routeMetrics are the children of one behavior.
type routeMetrics struct {
	// requests by status class (1xx..5xx) and result.
	requests [5][numResults]prometheus.Counter
	duration prometheus.Observer
	decision prometheus.Observer
	origin   prometheus.Observer
}

// results are the Result values metrics are labelled with, in index order.
var results = [...]Result{ResultMiss, ResultHit, ResultRefreshHit, ResultError, ResultFunctionGeneratedResponse, ResultLimitExceeded}

const numResults = len(results)

func resultIndex(r Result) int {
	switch r {
	case ResultHit:
		return 1
	case ResultRefreshHit:
		return 2
	case ResultError:
		return 3
	case ResultFunctionGeneratedResponse:
		return 4
	case ResultLimitExceeded:
		return 5
	}
	return 0 // "" and Miss
}

// latencyBuckets suit an edge whose own work is sub-millisecond and whose
// origins answer in milliseconds to seconds.
var latencyBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// newMetrics registers the edge's collectors on reg; a nil reg gives
// collectors that are never exported. A collector already registered (a
// second Server on the same registry) is reused.
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "edgeward", Subsystem: "edge", Name: "requests_total",
			Help: "Viewer requests by behavior path pattern, origin id, status class and result type.",
		}, []string{"behavior", "origin", "status_class", "result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "edgeward", Subsystem: "edge", Name: "request_duration_seconds",
			Help: "Time from accepting a viewer request to the end of its response.", Buckets: latencyBuckets,
		}, []string{"behavior"}),
		decision: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "edgeward", Subsystem: "edge", Name: "decision_duration_seconds",
			Help: "Time the viewer-request function spent getting an authorization decision.", Buckets: latencyBuckets,
		}, []string{"behavior"}),
		origin: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "edgeward", Subsystem: "edge", Name: "origin_duration_seconds",
			Help: "Time spent waiting for the origin.", Buckets: latencyBuckets,
		}, []string{"behavior", "origin"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "edgeward", Subsystem: "edge", Name: "requests_in_flight",
			Help: "Viewer requests being served.",
		}),
		panics: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "edgeward", Subsystem: "edge", Name: "panics_total",
			Help: "Panics recovered in the pipeline, by stage.",
		}, []string{"stage"}),
	}
	if reg == nil {
		return m, nil
	}
	var errs [6]error
	m.requests, errs[0] = promreg.Register(reg, m.requests)
	m.duration, errs[1] = promreg.Register(reg, m.duration)
	m.decision, errs[2] = promreg.Register(reg, m.decision)
	m.origin, errs[3] = promreg.Register(reg, m.origin)
	m.inFlight, errs[4] = promreg.Register(reg, m.inFlight)
	m.panics, errs[5] = promreg.Register(reg, m.panics)
	return m, errors.Join(errs[:]...)
}

// forRoute resolves the children of one behavior.
func (m *metrics) forRoute(behavior, origin string) *routeMetrics {
	rm := &routeMetrics{
		duration: m.duration.WithLabelValues(behavior),
		decision: m.decision.WithLabelValues(behavior),
		origin:   m.origin.WithLabelValues(behavior, origin),
	}
	classes := [5]string{"1xx", "2xx", "3xx", "4xx", "5xx"}
	for c, class := range classes {
		for i, r := range results {
			rm.requests[c][i] = m.requests.WithLabelValues(behavior, origin, class, string(r))
		}
	}
	return rm
}

// observe records one finished request.
func (rm *routeMetrics) observe(status int, r *Request, total time.Duration) {
	class := status/100 - 1
	if class < 0 || class > 4 {
		class = 4
	}
	rm.requests[class][resultIndex(r.Result)].Inc()
	rm.duration.Observe(total.Seconds())
	if r.DecisionTime > 0 {
		rm.decision.Observe(r.DecisionTime.Seconds())
	}
	if r.OriginTime > 0 {
		rm.origin.Observe(r.OriginTime.Seconds())
	}
}
