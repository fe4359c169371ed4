package accesslog

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgeward/edgeward/internal/promreg"
)

// metrics are a Sink's counters, labelled log="<Options.Name>" so that the
// access log and the decision log share metric names.
type metrics struct {
	lines     prometheus.Counter
	dropped   prometheus.Counter
	rotations prometheus.Counter
	errors    prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, name string) *metrics {
	labels := prometheus.Labels{"log": name}
	counter := func(metric, help string) prometheus.Counter {
		c := prometheus.NewCounter(prometheus.CounterOpts{
			Namespace:   "edgeward",
			Subsystem:   "log",
			Name:        metric,
			Help:        help,
			ConstLabels: labels,
		})
		return promreg.Reuse(reg, c)
	}
	return &metrics{
		lines:     counter("lines_total", "Lines written to the log."),
		dropped:   counter("dropped_total", "Lines dropped because the log's buffer was full."),
		rotations: counter("rotations_total", "Log file rotations."),
		errors:    counter("write_errors_total", "Failed writes, flushes or rotations of the log (the lines involved are lost)."),
	}
}
