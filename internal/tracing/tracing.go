// Package tracing builds the OpenTelemetry tracer provider that the edge
// (one span per pipeline stage) and the authorize function (the trace
// context on sideband calls) use. Tracing is off unless the file sets
// tracing.endpoint: then spans are batched and exported over OTLP/HTTP to
// a collector (the OpenTelemetry Collector, Jaeger, Tempo, a vendor's
// endpoint). The W3C trace context (traceparent, tracestate) is the only
// propagation format: it is what the edge accepts from trusted proxies and
// sends to the decision service and the origin.
package tracing

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Config is the tracing: section of an edge file.
type Config struct {
	// Endpoint is the OTLP/HTTP collector's base URL, e.g.
	// http://127.0.0.1:4318 (spans go to <endpoint>/v1/traces). Empty
	// (the default) turns tracing off.
	Endpoint string `yaml:"endpoint"`
	// SampleRatio is the share of new traces recorded, 0 to 1 (default
	// 1). A trace started by a trusted proxy keeps its own sampling
	// decision (the traceparent's sampled flag).
	SampleRatio *float64 `yaml:"sample_ratio"`
	// ServiceName is the service.name of the spans (default edgeward).
	ServiceName string `yaml:"service_name"`
	// Headers are sent with every export (a vendor's API key: use an
	// ${ENV} reference).
	Headers map[string]string `yaml:"headers"`
	// Timeout bounds one export (default 10s).
	Timeout time.Duration `yaml:"timeout"`
}

// Defaults.
const (
	DefaultServiceName = "edgeward"
	DefaultTimeout     = 10 * time.Second
)

// Enabled reports whether spans are exported.
func (c *Config) Enabled() bool { return c.Endpoint != "" }

// Defaults fills unset fields.
func (c *Config) Defaults() {
	if c.SampleRatio == nil {
		one := 1.0
		c.SampleRatio = &one
	}
	if c.ServiceName == "" {
		c.ServiceName = DefaultServiceName
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
}

// Validate reports every problem, each as "key: message".
func (c *Config) Validate() error {
	var errs []error
	if c.Endpoint != "" {
		u, err := url.Parse(c.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("endpoint: want the collector's OTLP/HTTP URL, e.g. http://127.0.0.1:4318, got %q", c.Endpoint))
		}
	}
	if r := c.SampleRatio; r != nil && (*r < 0 || *r > 1) {
		errs = append(errs, fmt.Errorf("sample_ratio: want 0 to 1, got %g", *r))
	}
	if c.Timeout < 0 {
		errs = append(errs, fmt.Errorf("timeout: must be > 0, got %s", c.Timeout))
	}
	return errors.Join(errs...)
}

// Provider is a tracer provider and how to stop it.
type Provider struct {
	trace.TracerProvider
	shutdown func(context.Context) error
}

// Shutdown exports what is buffered and stops the exporter.
func (p *Provider) Shutdown(ctx context.Context) error {
	if p == nil || p.shutdown == nil {
		return nil
	}
	return p.shutdown(ctx)
}

// New builds the provider for cfg (after Defaults): a no-op provider when
// tracing is off, so that callers need no special case (the edge still
// checks Enabled to skip even the no-op calls on its hot path).
func New(cfg Config) (*Provider, error) {
	cfg.Defaults()
	if !cfg.Enabled() {
		return &Provider{TracerProvider: noop.NewTracerProvider()}, nil
	}
	opts := []otlptracehttp.Option{otlptracehttp.WithEndpointURL(cfg.Endpoint + "/v1/traces"), otlptracehttp.WithTimeout(cfg.Timeout)}
	if len(cfg.Headers) > 0 {
		opts = append(opts, otlptracehttp.WithHeaders(cfg.Headers))
	}
	exp, err := otlptracehttp.New(context.Background(), opts...)
	if err != nil {
		return nil, fmt.Errorf("tracing: %w", err)
	}
	return NewWithExporter(cfg, exp), nil
}

// NewWithExporter builds a recording provider that batches spans to exp
// (tests pass the SDK's in-memory exporter).
func NewWithExporter(cfg Config, exp sdktrace.SpanExporter) *Provider {
	cfg.Defaults()
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(*cfg.SampleRatio))),
		sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", cfg.ServiceName))),
	)
	return &Provider{TracerProvider: tp, shutdown: tp.Shutdown}
}

// Tracer is the tracer every edgeward component uses.
func (p *Provider) Tracer() trace.Tracer {
	return p.TracerProvider.Tracer("github.com/edgeward/edgeward")
}
