// Package attack is edgeward's adversarial end-to-end suite. Its tests
// build the edgeward binary, run it as a separate process with the
// decision service embedded, put a lenient recording origin behind it, and
// attack it the way forward-auth gateways and CDNs have been broken before:
// path confusion, request smuggling, header spoofing, token forgery,
// decision-service faults, cache poisoning and deception, resource
// exhaustion.
//
// The recording origin is deliberately the worst origin an edge can sit in
// front of: it decodes the path twice, treats a backslash as a slash, and
// drops ;parameters from segments. For each case the suite asserts what the
// client got and exactly what reached the origin, so that a request whose
// spelling the edge authorized as one resource can never be read by the
// origin as another.
//
// Each group of rules in docs/security.md has its own file: path_test.go,
// framing_test.go, owned_test.go, token_test.go, decision_test.go,
// cache_test.go and robust_test.go.
package attack
