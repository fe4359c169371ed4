package decision

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the engine's own: condition errors. Decisions are counted by
// the front doors, token verifications and the token cache by the token
// package.
type metrics struct {
	condErrors prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	if reg == nil {
		return nil, nil
	}
	m := &metrics{
		condErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "edgeward_decision_condition_errors_total",
			Help: "CEL conditions whose evaluation failed (the request was denied).",
		}),
	}
	var err error
	m.condErrors, err = register(reg, m.condErrors)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// register registers c, or returns the collector already registered under
// its name (a reloaded engine shares its predecessor's).
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing, nil
			}
		}
		return c, err
	}
	return c, nil
}

func (m *metrics) conditionError() {
	if m == nil {
		return
	}
	m.condErrors.Inc()
}
