// Package demo is `edgeward demo`, the quick start: everything the
// reference deployment needs, on 127.0.0.1, in one process.
//
//   - an origin, the Orders API (Orders), served under a stage path as an
//     API Gateway REST API serves under /prod: steps 4 and 5 of the request
//     flow;
//   - a token issuer (Issuer) with RSA and EC keys, a JWKS, an OpenID
//     discovery document and a client-credentials token endpoint: the
//     identity provider whose access tokens the decision service trusts;
//   - the edge with its embedded decision service, built from a generated
//     configuration (Config) through the same loader and builder as
//     `edgeward serve`: steps 1 to 3 and 6.
//
// Start brings the three up; Check sends the requests of the self-check
// (no token, a bad signature, a read token on a write, a write, a miss
// then a hit) through the edge; Run does both and prints what is where and
// how to try it by hand.
package demo
