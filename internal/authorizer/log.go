package authorizer

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/edgeward/edgeward/internal/edge"
	"github.com/edgeward/edgeward/internal/sideband"
)

// redactedValue replaces every secret in logs.
const redactedValue = "[redacted]"

// callInfo is what a debug log line says about the request being decided.
type callInfo struct {
	method  string
	url     string
	headers sideband.Headers
}

// logAttempt logs one sideband call (debug: true only): where it went, its
// status, latency and decision, and the request's headers with the
// credential, Authorization, Cookie and similar values redacted.
func (a *Authorizer) logAttempt(ctx context.Context, phase string, attempt int, latency time.Duration, decision string, err error, info callInfo) {
	if !a.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	status := 0
	var se *sideband.StatusError
	switch {
	case err == nil:
		status = 200
	case errors.As(err, &se):
		status = se.Status
	}
	if decision == "" {
		decision = "none"
	}
	endpoint := a.endpoint
	if endpoint != Embedded {
		if phase == phaseResponse {
			endpoint += sideband.ResponsePath
		} else {
			endpoint += sideband.RequestPath
		}
	}
	attrs := []slog.Attr{
		slog.String("function", a.name),
		slog.String("phase", phase),
		slog.Int("attempt", attempt+1),
		slog.String("url", endpoint),
		slog.Int("status", status),
		slog.Duration("latency", latency),
		slog.String("decision", decision),
		slog.String("method", info.method),
		slog.String("request_url", redactURL(info.url)),
		slog.Any("headers", a.redactHeaders(info.headers)),
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", redactError(err, a.credential).Error()))
	}
	a.log.LogAttrs(ctx, slog.LevelDebug, "authorize: sideband call", attrs...)
}

// logApplied logs what an allow changed (debug: true only).
func (a *Authorizer) logApplied(ctx context.Context, r *edge.Request, method bool, host string, path, query bool, changes []change, body bool, ignored []string) {
	var set, removed []string
	for _, c := range changes {
		if c.values == nil {
			removed = append(removed, c.name)
		} else {
			set = append(set, c.name)
		}
	}
	attrs := []slog.Attr{
		slog.String("function", a.name),
		slog.String("request_id", r.ID),
		slog.Bool("method_changed", method),
		slog.Bool("host_changed", host != ""),
		slog.Bool("path_changed", path),
		slog.Bool("query_changed", query),
		slog.Any("headers_set", set),
		slog.Any("headers_removed", removed),
		slog.Bool("body_changed", body),
	}
	if len(ignored) > 0 {
		attrs = append(attrs, slog.Any("ignored", ignored))
	}
	a.log.LogAttrs(ctx, slog.LevelDebug, "authorize: allow applied", attrs...)
}

// redactHeaders renders headers as "name: value" with secret values
// replaced.
func (a *Authorizer) redactHeaders(hs sideband.Headers) []string {
	out := make([]string, 0, len(hs))
	for _, e := range hs {
		v := e.Value
		if a.secretHeader(e.Name) {
			v = redactedValue
		} else if a.credential != "" {
			v = strings.ReplaceAll(v, a.credential, redactedValue)
		}
		out = append(out, e.Name+": "+v)
	}
	return out
}

// secretHeader reports whether the header name carries credentials.
func (a *Authorizer) secretHeader(name string) bool {
	switch strings.ToLower(name) {
	case "authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "x-amz-security-token":
		return true
	}
	return strings.EqualFold(name, a.credHeader)
}

// redactURL hides the values of query parameters that look like
// credentials (access_token=..., api_key=...).
func redactURL(u string) string {
	i := strings.IndexByte(u, '?')
	if i < 0 {
		return u
	}
	var b strings.Builder
	b.WriteString(u[:i+1])
	for j, p := range strings.Split(u[i+1:], "&") {
		if j > 0 {
			b.WriteByte('&')
		}
		name, _, hasValue := strings.Cut(p, "=")
		if hasValue && secretParam(name) {
			b.WriteString(name + "=" + redactedValue)
			continue
		}
		b.WriteString(p)
	}
	return b.String()
}

func secretParam(name string) bool {
	n := strings.ToLower(name)
	for _, s := range []string{"token", "secret", "password", "key", "sig", "auth", "code"} {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}

// redactError hides secret in err's text while keeping err's chain for
// errors.Is and errors.As.
func redactError(err error, secret string) error {
	if err == nil || secret == "" {
		return err
	}
	return &redactedError{err: err, secret: secret}
}

type redactedError struct {
	err    error
	secret string
}

func (e *redactedError) Error() string {
	return strings.ReplaceAll(e.err.Error(), e.secret, redactedValue)
}

func (e *redactedError) Unwrap() error { return e.err }
