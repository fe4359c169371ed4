// Package token verifies OAuth 2.0 JWT access tokens against trusted
// issuers' JWKS, and caches what it verified. It is the decision service's
// hot path: a verified token is remembered by its SHA-256 until it expires.
//
// In the request flow it sits inside the decision service (internal/decision):
// for a request to an API service that names a token issuer, the decision
// engine passes the bearer token to that issuer's Verifier and checks the
// returned Claims (audience, scopes, groups, conditions) itself.
//
// What a Verifier checks, in order, before any key is used: the token's
// size (at most 8KiB), its three base64url segments and JSON, its alg
// against the issuer's allow-list ("none" and HMAC are never on it), the
// absence of headers that name a key (jku, jwk, x5u, x5c: a token never
// chooses the key that verifies it, so such tokens are refused outright
// rather than having the header ignored), the absence of a crit header, and
// its iss against the configured issuer (a wrong iss never causes a JWKS
// fetch). Then the kid is looked up in the issuer's JWKS (an unknown kid
// causes at most one rate-limited refresh, bounded by the request's
// context), the signature is verified, and exp (required), nbf and iat are
// checked with the configured clock skew.
//
// Verified tokens are cached in a Cache shared by the Verifiers of a
// decision service: the key is SHA-256 over the issuer's name, NUL, a
// fingerprint of its settings, NUL and the token; a verified token is kept
// until min(exp, ttl) and never served past its exp, an invalid one for
// negative_ttl (unless the reason may heal by itself: unknown kid, keys
// unavailable, not yet valid). A cache hit costs one SHA-256 and a lookup,
// without allocating.
//
// Keys come from the issuer's jwks_url, or from OpenID discovery at
// issuer + /.well-known/openid-configuration (whose issuer must match),
// through github.com/MicahParks/keyfunc/v3: fetched at start (in the
// background; New never waits for it), refreshed every refresh_interval,
// and on an unknown kid at most once per refresh_rate_limit. A fetch that
// a request causes is bounded by the request's context and by 2s.
//
// Metrics (WithRegisterer): edgeward_token_verifications_total{issuer,
// result}, edgeward_token_cache_requests_total{issuer,result},
// edgeward_token_jwks_fetches_total{issuer} and
// edgeward_token_jwks_fetch_failures_total{issuer}.
package token
