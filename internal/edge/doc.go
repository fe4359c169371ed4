// Package edge is the viewer side of edgeward: the listener the API clients
// connect to (CloudFront's "distribution") and the pipeline every request
// goes through before anything else sees it.
//
// The request flows one way, through stages named after the reference
// system:
//
//	viewer request      framing, request limits, target form, request id,
//	                    header hygiene (hop-by-hop and owned headers),
//	                    canonical path
//	behavior            first path pattern that matches the canonical path;
//	                    405 for a method the behavior does not allow
//	CORS preflight      Behavior.ResponseHeaders with preflight: edge answers
//	                    a preflight here, before the function (no credentials)
//	viewer-request fn   Behavior.Function: allow (possibly changed) or answer
//	cache / origin      Behavior.Cache, which calls Behavior.Origin on a miss
//	viewer response     Behavior.ResponseHeaders (response headers policy:
//	                    CORS, security, custom and removed headers,
//	                    Server-Timing) as the header is written, and
//	                    Behavior.ResponseFunction on the buffered answer
//	log                 one access-log Record and the metrics
//
// Everything a stage needs travels in one per-request struct (Request);
// errors are rendered in one place (a small JSON body with the request id).
// The path is made canonical once (see Canonicalize), and that one value is
// matched, authorized, cached and forwarded. Headers the edge owns are
// stripped from every inbound request before any stage reads them, and the
// headers a client nominates in Connection are removed before a function
// adds its own, so a client can never remove or spoof them.
//
// The package declares the interfaces its stages call (Function, Cache,
// Origin, Logger). It imports two edgeward packages, which import none:
// internal/size for its configuration, and internal/transport, the
// HTTP/1.1 transport in front of the first stage (TLS, the framing guard,
// the fast lane, the hand-off to net/http), which calls the pipeline with
// each request and the framing guard's verdict on it (transport.Framing).
// That departs from "edge imports no other internal package" on purpose:
// the transport is the listener half of the viewer side, cut out so that
// it can be read, fuzzed and reloaded on its own, and it knows nothing of
// the pipeline.
package edge
