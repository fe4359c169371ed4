package edge

import (
	"net/http"
	"strconv"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Tracing: with Options.Tracer set, every request gets one span per stage,
//
//	viewer request                 (server span; the request's trace)
//	├── viewer-request function    (edgeward.decision: allow, deny or error)
//	└── cache                      (edgeward.cache.result: Hit, Miss, ...)
//	    └── origin request         (client span; http.response.status_code)
//
// and the W3C trace context of the span that calls out is sent along: to
// the decision service (the function's context carries it; the sideband
// client injects it) and to the origin (traceparent and tracestate set on
// the forwarded request). A viewer's own traceparent is the parent only
// when it comes from a trusted proxy (trusted_proxies); anyone else's is
// dropped and the trace starts at the edge. With no tracer, none of this
// runs: one nil check per stage.

// traceContext is the only propagation format: W3C Trace Context.
var traceContext = propagation.TraceContext{}

// Trace header names, canonical.
const (
	headerTraceparent = "Traceparent"
	headerTracestate  = "Tracestate"
)

// traceBegin starts the request's span, the parent of every stage's, and
// records its trace id for the access log. It runs in begin, before
// hygiene: an inbound trace context is taken from a trusted peer and
// removed from the forwarded request either way (the origin gets the
// edge's).
func (s *Server) traceBegin(x *exchange, hr *http.Request) {
	ctx := hr.Context()
	h := hr.Header
	if x.trusted && len(h[headerTraceparent]) > 0 {
		ctx = traceContext.Extract(ctx, propagation.HeaderCarrier(h))
	}
	delete(x.out.Header, headerTraceparent)
	delete(x.out.Header, headerTracestate)
	ctx, span := s.tracer.Start(ctx, "viewer request",
		trace.WithSpanKind(trace.SpanKindServer),
		trace.WithTimestamp(x.req.Start),
		trace.WithAttributes(
			attribute.String("http.request.method", hr.Method),
			attribute.String("edgeward.request_id", x.req.ID),
		))
	x.tctx, x.tspan = ctx, span
	if sc := span.SpanContext(); sc.IsValid() {
		x.req.TraceID = sc.TraceID().String()
	}
	x.out = *x.out.WithContext(ctx)
}

// traceEnd ends the request's span with what the access log records.
func (s *Server) traceEnd(x *exchange, status int) {
	span := x.tspan
	attrs := []attribute.KeyValue{
		attribute.Int("http.response.status_code", status),
		attribute.String("edgeward.result", string(x.req.Result)),
	}
	if x.path != "" {
		attrs = append(attrs, attribute.String("url.path", x.path))
	}
	if rt := x.route; rt != nil {
		attrs = append(attrs, attribute.String("edgeward.behavior", rt.b.PathPattern), attribute.String("edgeward.origin", rt.b.OriginID))
	}
	span.SetAttributes(attrs...)
	if status >= 500 {
		msg := http.StatusText(status)
		if x.rec.Err != nil {
			msg = x.rec.Err.Error()
		}
		span.SetStatus(codes.Error, msg)
	}
	span.End()
}

// traceFunctionStart starts the viewer-request function's span; the
// function runs with it in its context, so that a sideband call carries
// it to the decision service.
func (s *Server) traceFunctionStart(x *exchange, rt *route) {
	ctx, span := s.tracer.Start(x.tctx, "viewer-request function",
		trace.WithAttributes(attribute.String("edgeward.function", rt.b.FunctionName)))
	x.fspan = span
	x.out = *x.out.WithContext(ctx)
}

// traceFunctionEnd records the function's outcome: allow (the request goes
// on), deny (the function answered, with its status) or error (no
// decision).
func (s *Server) traceFunctionEnd(x *exchange, resp *Response, err error) {
	span := x.fspan
	x.fspan = nil
	switch {
	case err != nil:
		span.SetAttributes(attribute.String("edgeward.decision", "error"),
			attribute.Int("http.response.status_code", httpError(err).Status))
		span.SetStatus(codes.Error, err.Error())
	case resp != nil:
		span.SetAttributes(attribute.String("edgeward.decision", "deny"),
			attribute.Int("http.response.status_code", resp.Status))
	default:
		span.SetAttributes(attribute.String("edgeward.decision", "allow"))
	}
	span.End()
}

// traceCacheStart starts the cache stage's span and returns the origin to
// use below it: one that opens an origin request span and sends its trace
// context to the origin.
func (s *Server) traceCacheStart(x *exchange, o Origin) Origin {
	name := "cache"
	if x.route.b.Cache == nil {
		name = "cache (none)"
	}
	ctx, span := s.tracer.Start(x.tctx, name)
	x.cspan = span
	x.out = *x.out.WithContext(ctx)
	return &tracedOrigin{o: o, tracer: s.tracer, id: x.route.b.OriginID}
}

// traceCacheEnd records the cache's result.
func (s *Server) traceCacheEnd(x *exchange, err error) {
	span := x.cspan
	x.cspan = nil
	result := x.req.Result
	if err != nil {
		result = ResultError
		span.SetStatus(codes.Error, err.Error())
	} else if result == "" {
		result = ResultMiss
	}
	span.SetAttributes(attribute.String("edgeward.cache.result", string(result)))
	span.End()
}

// tracedOrigin is the behavior's origin inside a traced request.
type tracedOrigin struct {
	o      Origin
	tracer trace.Tracer
	id     string
}

// Forward opens the origin request span, sends its trace context with the
// request and records the origin's status.
func (t *tracedOrigin) Forward(w http.ResponseWriter, r *Request) error {
	hr := r.HTTP
	ctx, span := t.tracer.Start(hr.Context(), "origin request",
		trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("edgeward.origin", t.id)))
	defer span.End()
	*hr = *hr.WithContext(ctx)
	if hr.Header == nil {
		hr.Header = make(http.Header)
	}
	delete(hr.Header, headerTracestate)
	traceContext.Inject(ctx, propagation.HeaderCarrier(hr.Header))
	sw := &statusWriter{ResponseWriter: w}
	err := t.o.Forward(sw, r)
	status := sw.status
	if err != nil {
		status = httpError(err).Status
		span.SetStatus(codes.Error, err.Error())
	}
	span.SetAttributes(attribute.Int("http.response.status_code", status))
	if status >= 500 && err == nil {
		span.SetStatus(codes.Error, "origin answered "+strconv.Itoa(status))
	}
	return err
}

// statusWriter records the status an origin answered with.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the writer below.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

var _ Origin = (*tracedOrigin)(nil)
