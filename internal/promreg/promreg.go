// Package promreg registers Prometheus collectors the way a reloadable
// server needs it: a component built again (after a reload, or a second
// instance of it on the same registry) keeps counting on the series it
// registered the first time, instead of failing on a duplicate.
package promreg

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Register registers c on reg and returns it, or returns the collector of
// the same type already registered under the same description. A nil reg
// leaves c unregistered. When another collector clashes with c (same
// name, different shape), Register returns c, still usable but
// unregistered, and the error.
func Register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	if reg == nil {
		return c, nil
	}
	err := reg.Register(c)
	if err == nil {
		return c, nil
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	return c, err
}

// Reuse is Register for components that must not fail over metrics: on a
// clash, c counts privately.
func Reuse[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	c, _ = Register(reg, c)
	return c
}
