package edge

import (
	"context"
	"fmt"
	"net/http"
	"runtime/debug"
)

// Protection is a behavior's security protections (CloudFront's "security
// protections": AWS WAF in front of the distribution): IP sets, custom
// rules, rate-based rules and the managed rule group. A behavior without
// one pays nothing for it.
//
// Both methods return nil to let the request go on, or an error that the
// edge renders (an *Error keeps its status and headers: 403 for a block,
// 429 with Retry-After for a rate limit; an error reading the body is the
// viewer's fault, as at every other stage). An implementation may replace
// r.HTTP.Body with a reader of the same bytes after reading it.
type Protection interface {
	// Inspect runs once the behavior matched and before the viewer-request
	// function, so that a blocked request costs no decision. Allowed true
	// means a rule allowed the request: InspectAuthorized is skipped.
	Inspect(ctx context.Context, r *Request) (allowed bool, err error)
	// InspectAuthorized runs after the viewer-request function let the
	// request go on, for the rules keyed on the identity it established.
	InspectAuthorized(ctx context.Context, r *Request) error
}

// protect runs the behavior's Inspect. done means the viewer was answered.
func (s *Server) protect(x *exchange, p Protection) (allowed, done bool) {
	allowed, err := s.callProtection(x, func(ctx context.Context) (bool, error) { return p.Inspect(ctx, &x.req) })
	if err != nil {
		s.renderError(x, s.bodyFraming(x, err))
		return false, true
	}
	return allowed, false
}

// protectAuthorized runs the behavior's InspectAuthorized. done means the
// viewer was answered.
func (s *Server) protectAuthorized(x *exchange, p Protection) (done bool) {
	_, err := s.callProtection(x, func(ctx context.Context) (bool, error) {
		return false, p.InspectAuthorized(ctx, &x.req)
	})
	if err != nil {
		s.renderError(x, s.bodyFraming(x, err))
		return true
	}
	return false
}

// callProtection turns a panic into a 500: a broken protection never lets
// a request through.
func (s *Server) callProtection(x *exchange, call func(context.Context) (bool, error)) (allowed bool, err error) {
	defer func() {
		if p := recover(); p != nil {
			s.m.panics.WithLabelValues("protection").Inc()
			s.log.Error("protection panicked", "request_id", x.req.ID, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			allowed, err = false, &Error{Status: http.StatusInternalServerError, Msg: "internal error",
				Err: fmt.Errorf("protection panicked: %v", p)}
		}
	}()
	return call(x.out.Context())
}
