package accesslog

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
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
		return register(reg, c)
	}
	return &metrics{
		lines:     counter("lines_total", "Lines written to the log."),
		dropped:   counter("dropped_total", "Lines dropped because the log's buffer was full."),
		rotations: counter("rotations_total", "Log file rotations."),
		errors:    counter("write_errors_total", "Failed writes, flushes or rotations of the log (the lines involved are lost)."),
	}
}

// register registers c on reg, or returns the collector already registered
// under the same description (a sink built again on reload keeps counting
// on the same series). A nil reg leaves c unregistered.
func register(reg prometheus.Registerer, c prometheus.Counter) prometheus.Counter {
	if reg == nil {
		return c
	}
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if old, ok := are.ExistingCollector.(prometheus.Counter); ok {
				return old
			}
		}
		// A clashing, differently shaped metric: count privately rather
		// than fail the log.
	}
	return c
}
