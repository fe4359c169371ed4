// Package decision is edgeward's decision engine: PingOne Authorize's API
// Access Management, self-hosted. It sits behind the sideband protocol's
// server side (internal/decisionapi), which converts each sideband call into
// an Input and each Decision back into a reply; the engine itself knows
// nothing of HTTP or of the wire format.
//
// A decision runs in a fixed order, and the first failure decides:
//
//  1. the API service: the longest base URL that is a prefix of the request
//     URL (scheme, host, port with defaults removed, path on segment
//     boundaries); none is a 404;
//  2. the path, which must be canonical (400 otherwise), relative to the base
//     URL's path;
//  3. the operation: EXACT and PARAMETER patterns compiled into a segment
//     trie, so that lookup cost does not depend on the number of operations;
//     precedence EXACT, then more literal segments, then fewer wildcards;
//     none is a 403, a wrong method a 405 with Allow;
//  4. access control: the access token (401), scopes (403
//     insufficient_scope), groups (403), a CEL condition (403);
//  5. on allow, the service's statements (headers to set and remove).
//
// Everything that can be checked is checked when the configuration is
// loaded: pattern grammar, precedence ties, issuer references, CEL
// conditions and template variables are configuration errors, never request
// time surprises.
package decision
