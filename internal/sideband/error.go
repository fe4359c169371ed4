package sideband

import (
	"fmt"
	"time"
)

// StatusError is a sideband reply that is not a decision: an HTTP status
// other than 200 from the service (400, 401, 413, 429, 5xx, ...).
type StatusError struct {
	Status int
	// RetryAfter is the service's Retry-After, for 429 and 503.
	RetryAfter time.Duration
	// Body is the service's error body, if it was one.
	Body Error
}

// Error implements error.
func (e *StatusError) Error() string {
	if e.Body.Message != "" {
		return fmt.Sprintf("sideband service answered %d: %s", e.Status, e.Body.Message)
	}
	return fmt.Sprintf("sideband service answered %d", e.Status)
}
