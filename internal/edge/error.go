package edge

import (
	"fmt"
	"net/http"
)

// Error is an HTTP error: what the viewer is told (Status, Msg, Header) kept
// apart from the internal cause (Err), which goes only to logs. It is
// rendered in one place, as a small JSON body that carries the request id.
type Error struct {
	Status int
	// Msg is the short text the viewer sees, e.g. "origin unreachable".
	Msg string
	// Header holds extra response headers such as Allow or Retry-After.
	Header http.Header
	// Err is the internal cause.
	Err error
}

// Error implements error.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%d %s: %v", e.Status, e.Msg, e.Err)
	}
	return fmt.Sprintf("%d %s", e.Status, e.Msg)
}

// Unwrap returns the internal cause.
func (e *Error) Unwrap() error { return e.Err }
