package edge

import (
	"context"
	"log/slog"
	"sync/atomic"

	"golang.org/x/time/rate"
)

// failureLog writes one process-log line per failed request (a 5xx the
// edge rendered: no decision, origin unreachable, a timeout), so that a
// 502 is never silent at the default level. The access log has the
// request; this line has the cause, which the access log does not carry.
// It is bounded: at most failureBurst lines at once and failureRate per
// second; the lines it skips are counted in the next one it writes.
type failureLog struct {
	limit   *rate.Limiter
	skipped atomic.Int64
}

const (
	failureRate  = 10
	failureBurst = 20
)

func newFailureLog() *failureLog {
	return &failureLog{limit: rate.NewLimiter(failureRate, failureBurst)}
}

// logFailure logs x's failure if it is one: a status of 500 or more with
// an internal cause. Causes are already free of secrets: the authorize
// function redacts the gateway credential in its errors, and the edge never
// puts a viewer's header values in one.
func (s *Server) logFailure(x *exchange, status int) {
	err := x.rec.Err
	if status < 500 || err == nil || s.fails == nil {
		return
	}
	ctx := context.Background()
	if !s.log.Enabled(ctx, slog.LevelWarn) {
		return
	}
	if !s.fails.limit.Allow() {
		s.fails.skipped.Add(1)
		return
	}
	attrs := []slog.Attr{
		slog.String("request_id", x.req.ID),
		slog.Int("status", status),
		slog.String("method", x.out.Method),
		slog.String("path", x.path),
	}
	if rt := x.route; rt != nil {
		attrs = append(attrs, slog.String("behavior", rt.b.PathPattern), slog.String("origin", rt.b.OriginID))
		if rt.b.FunctionName != "" {
			attrs = append(attrs, slog.String("function", rt.b.FunctionName))
		}
	}
	attrs = append(attrs, slog.String("error", err.Error()))
	if n := s.fails.skipped.Swap(0); n > 0 {
		attrs = append(attrs, slog.Int64("unlogged_failures", n))
	}
	s.log.LogAttrs(ctx, slog.LevelWarn, "request failed", attrs...)
}
