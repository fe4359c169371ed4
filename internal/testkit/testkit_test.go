package testkit

import (
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func TestBuffer_ConcurrentWriters(t *testing.T) {
	var b Buffer
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { b.Write([]byte("x")) })
	}
	wg.Wait()
	if got := b.String(); got != "xxxxxxxx" {
		t.Errorf("String() = %q, want 8 x", got)
	}
}

func TestClock(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	c := NewClock(t0)
	c.Advance(time.Minute)
	if got := c.Now(); !got.Equal(t0.Add(time.Minute)) {
		t.Errorf("after Advance(1m) Now() = %v", got)
	}
	c.Set(t0)
	if !c.Now().Equal(t0) {
		t.Errorf("after Set Now() = %v", c.Now())
	}
}

func TestMetric(t *testing.T) {
	reg := prometheus.NewRegistry()
	cv := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "c_total", Help: "c"}, []string{"k"})
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "g", Help: "g"})
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "h", Help: "h"})
	reg.MustRegister(cv, g, h)
	cv.WithLabelValues("a").Add(2)
	cv.WithLabelValues("b").Add(5)
	g.Set(7)
	h.Observe(1)
	h.Observe(2)
	for _, tt := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"c_total", map[string]string{"k": "b"}, 5},
		{"c_total", map[string]string{"k": "a"}, 2},
		{"c_total", map[string]string{"k": "z"}, 0},
		{"g", nil, 7},
		{"h", nil, 2},
		{"absent", nil, 0},
	} {
		if got := Metric(t, reg, tt.name, tt.labels); got != tt.want {
			t.Errorf("Metric(%s, %v) = %v, want %v", tt.name, tt.labels, got, tt.want)
		}
	}
}

func TestTool_FindsAProgramOnPath(t *testing.T) {
	if p := Tool(t, "go", "golang-go"); p == "" {
		t.Fatal(`Tool("go") = "", want the path of the go command`)
	}
}
