// Package decisionapi is the decision service's front doors: the ways a
// sideband call reaches the decision engine (internal/decision).
//
//   - Local answers in-process: the edge's authorize function calls it
//     through authorizer.Decider when the decision service is embedded, with
//     no HTTP hop and no JSON.
//   - Handler serves POST /sideband/request and /sideband/response over
//     HTTP for other gateways (Kong's ping-auth, other edgeward nodes), with
//     gateway credentials, body limits and every tolerance SIDEBAND.md asks
//     of a server.
//   - Explain serves POST /v1/decisions/explain on the admin listener: the
//     decision and the trace of every step, without sending traffic.
//
// All three read the engine from one Service, which a reload swaps
// atomically, and every decision of the first two is counted in metrics
// and written to the decision log off the request path.
package decisionapi
