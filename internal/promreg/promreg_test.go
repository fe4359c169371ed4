package promreg

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

func TestRegister(t *testing.T) {
	reg := prometheus.NewRegistry()
	opts := prometheus.CounterOpts{Name: "things_total", Help: "Things."}

	first, err := Register(reg, prometheus.NewCounter(opts))
	if err != nil {
		t.Fatal(err)
	}
	first.Inc()
	// Built again (a reload): the same series keeps counting.
	second, err := Register(reg, prometheus.NewCounter(opts))
	if err != nil {
		t.Fatal(err)
	}
	second.Inc()
	var m dto.Metric
	if err := first.Write(&m); err != nil {
		t.Fatal(err)
	}
	if got := m.GetCounter().GetValue(); got != 2 {
		t.Errorf("counter after two increments through two registrations = %v, want 2", got)
	}

	// A differently shaped collector under the same name clashes.
	vec := prometheus.NewCounterVec(opts, []string{"kind"})
	got, err := Register(reg, vec)
	if err == nil {
		t.Error("clashing collector registered without an error")
	}
	if got != vec {
		t.Error("clashing collector not returned for private use")
	}
	if Reuse(reg, vec) != vec {
		t.Error("Reuse did not return the private collector on a clash")
	}

	// No registry: the collector is returned as is.
	c := prometheus.NewCounter(opts)
	if got, err := Register(nil, c); got != c || err != nil {
		t.Errorf("Register(nil, c) = %v, %v; want c, nil", got, err)
	}
}
