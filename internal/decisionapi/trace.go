package decisionapi

import (
	"context"
	"net/http"

	"go.opentelemetry.io/otel/propagation"
)

// traceContextOf is the context of a sideband request with the caller's
// W3C trace context (traceparent) in it, so that the decision log records
// the trace id the edge sent. Only the gateway, which presented a valid
// credential, reaches this point.
func traceContextOf(r *http.Request) context.Context {
	ctx := r.Context()
	if len(r.Header["Traceparent"]) == 0 {
		return ctx
	}
	return propagation.TraceContext{}.Extract(ctx, propagation.HeaderCarrier(r.Header))
}
