// Package authorizer is the built-in "authorize" viewer-request function:
// the Lambda@Edge function of Ping's AWS integration kit, rebuilt inside the
// edge. It asks a Decider for a sideband decision on every request, applies
// an allow as a diff to the forwarded request, answers the viewer with a
// deny, and fails closed when there is no decision.
//
// With decision_cache on, a decision the service already made for the
// same call (every input it sees, see keyOf) is taken from memory before
// any call, and identical decisions in flight share one call; otherwise
// the call goes through the breaker and retries to the Decider.
package authorizer

import (
	"context"

	"github.com/edgeward/edgeward/internal/sideband"
)

// Decider answers sideband calls. It is satisfied by the sideband HTTP
// client (a remote PingOne Authorize, PingAuthorize or edgeward decision
// service) and by the embedded decision service (in-process, no JSON), so
// the function does not know which one it has.
//
// Request returns the request-phase reply (an allow or a deny) or an error
// when no decision was made; an error that is a *sideband.StatusError
// carries the service's HTTP status (413 and 429 are relayed to the viewer).
type Decider interface {
	Request(ctx context.Context, req *sideband.Request) (*sideband.Reply, error)
	Response(ctx context.Context, req *sideband.ResponseRequest) (*sideband.Response, error)
}
