package decisionapi

import (
	"context"

	"github.com/edgeward/edgeward/internal/decision"
	"github.com/edgeward/edgeward/internal/requestid"
	"github.com/edgeward/edgeward/internal/sideband"
)

// Local is the embedded decision service: the in-process door the edge's
// authorize function calls (authorizer.Decider), with no HTTP and no JSON.
// It answers exactly as Handler does over HTTP.
type Local struct {
	s *Service
}

// NewLocal returns the in-process door of s.
func NewLocal(s *Service) *Local { return &Local{s: s} }

// Request makes the request-phase decision. The reply shares the
// request's strings and, when the decision changes no header, its header
// list, and its state belongs to the engine: treat them as read-only. An error is a *sideband.StatusError: 400
// for a request the engine cannot read, 503 when no decision could be made
// (a token that could not be verified in time).
func (l *Local) Request(ctx context.Context, req *sideband.Request) (*sideband.Reply, error) {
	s := l.s
	d := s.pool.Get().(*decision.Decision)
	defer s.pool.Put(d)
	rep, err := s.decide(ctx, s.snap.Load(), req, -1, d, false)
	if err != nil {
		return nil, err
	}
	return rep, nil
}

// Response answers the response phase: the response unchanged, with the
// service's response_statements applied.
func (l *Local) Response(ctx context.Context, rr *sideband.ResponseRequest) (*sideband.Response, error) {
	return l.s.respond(l.s.snap.Load(), rr), nil
}

// statusError is a sideband error that is not a decision.
func statusError(status int, code, msg string) *sideband.StatusError {
	return &sideband.StatusError{Status: status, Body: sideband.Error{ID: requestid.UUID(), Code: code, Message: msg}}
}

// Error codes of sideband errors.
const (
	codeInvalid      = "INVALID_REQUEST"
	codeUnauthorized = "UNAUTHORIZED"
	codeTooLarge     = "REQUEST_TOO_LARGE"
	codeNotFound     = "NOT_FOUND"
	codeMethod       = "METHOD_NOT_ALLOWED"
	codeUnavailable  = "UNAVAILABLE"
)
