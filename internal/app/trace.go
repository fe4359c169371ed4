package app

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/edgeward/edgeward/internal/config"
	"github.com/edgeward/edgeward/internal/tracing"
)

// startTracing builds the tracer provider of the file's tracing section
// (or the one Options.Tracing gives) and returns the edge's tracer, nil
// when tracing is off so that the pipeline skips every tracing hook.
func (e *Edge) startTracing(f *config.Edge) (trace.Tracer, error) {
	tp := e.opts.Tracing
	if tp == nil {
		if !f.Tracing.Enabled() {
			return nil, nil
		}
		var err error
		if tp, err = tracing.New(f.Tracing); err != nil {
			return nil, err
		}
		e.log.Info("tracing on", "endpoint", f.Tracing.Endpoint, "sample_ratio", *f.Tracing.SampleRatio)
	}
	e.tp = tp
	return tp.Tracer(), nil
}

// stopTracing exports the spans still buffered, for a few seconds at most.
func (e *Edge) stopTracing() {
	if e.tp == nil || e.tp == e.opts.Tracing {
		return // a provider passed in belongs to the caller
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.tp.Shutdown(ctx); err != nil {
		e.log.Warn("tracing: spans not exported at shutdown", "err", err.Error())
	}
}
