package tracing

import (
	"strings"
	"testing"
)

func TestConfig_Validate(t *testing.T) {
	t.Parallel()
	ratio := func(f float64) *float64 { return &f }
	tests := []struct {
		name string
		cfg  Config
		want string // "" means valid
	}{
		{"off by default", Config{}, ""},
		{"a collector", Config{Endpoint: "http://127.0.0.1:4318"}, ""},
		{"not a URL", Config{Endpoint: "127.0.0.1:4318"}, "endpoint: want the collector's OTLP/HTTP URL"},
		{"ratio above 1", Config{SampleRatio: ratio(2)}, "sample_ratio: want 0 to 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.cfg.Defaults()
			err := tt.cfg.Validate()
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("Validate() = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestNew_OffIsANoopProvider(t *testing.T) {
	t.Parallel()
	p, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	_, span := p.Tracer().Start(t.Context(), "x")
	if span.SpanContext().IsValid() {
		t.Error("tracing off started a real span")
	}
}
