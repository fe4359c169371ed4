// Package protect is edgeward's security protections, CloudFront's
// "security protections" (AWS WAF in front of a distribution): IP sets,
// custom rules, rate-based rules and a managed rule group, the OWASP Core
// Rule Set v4 run by Coraza. It has no rule engine of its own.
//
// Its place in the request flow: the edge matches a behavior, then calls
// the behavior's Set (an edge.Protection) before the viewer-request
// function, so that a blocked request costs no decision:
//
//	Inspect             ip_deny, ip_allow, custom rules in order, rate rules
//	                    keyed on ip or headers, the WAF (request line,
//	                    headers, query and the body, read whole up to
//	                    max_body_bytes and handed on to the origin intact)
//	viewer-request fn   (the authorize function establishes the identity)
//	InspectAuthorized   rate rules keyed on that identity
//
// The first terminating match wins (block: 403; rate limit: 429 with
// Retry-After; allow: no further protection); count matches are logged
// and the request goes on. Each finished inspection with a match writes one
// line in AWS WAF's log format and counts in the metrics per rule and
// action.
//
// Everything is compiled once by New, at start and at each configuration
// reload, and shared by all requests: the CRS once per distinct WAF
// configuration. IP set files are watched and replaced whole when they
// change. Rate rules count on the node (a token bucket per key, bounded in
// keys) or through a fleet-wide Counter, falling back to the node's own
// limiter when the Counter fails.
package protect
