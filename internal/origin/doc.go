// Package origin is the last hop of the request flow: after the viewer
// request was accepted, authorized by the viewer-request function and missed
// the cache, an Origin forwards it to the behavior's origin (CloudFront's
// custom origin, such as an API Gateway stage) and streams the answer back to
// the viewer. It implements edge.Origin.
//
// What the origin receives:
//
//   - the URL scheme://host:port from the origin's url and protocol policy,
//     the origin path (the stage, e.g. /prod) joined with the request's
//     canonical path, escaped form kept exactly, and the query as received;
//   - Host set to the origin's host (as CloudFront does for custom origins);
//   - X-Forwarded-For: the trusted chain the edge accepted plus the TCP
//     peer's address; X-Forwarded-Proto and X-Forwarded-Host from what the
//     viewer used; Via appended; X-Request-Id set to the request id;
//   - the origin's custom headers, replacing any copies;
//   - no hop-by-hop headers (RFC 9110 section 7.6.1), in either direction,
//     except what a WebSocket upgrade needs.
//
// Errors follow edge.Origin's contract: Forward returns an *edge.Error only
// when it wrote nothing: 502 "origin unreachable" (refused, unreachable,
// TLS failure), 502 "bad origin response" (a broken answer), 504 "origin
// timeout" (connect, response header, or waiting for a pooled connection).
// When the viewer itself went away the error has status 499 ("client closed
// request", nginx's code) and wraps context.Canceled: it is not an origin
// failure, and nothing needs to be written. A failure after the response
// header was written aborts the response with panic(http.ErrAbortHandler),
// as httputil.ReverseProxy does.
//
// Requests go through httputil.ReverseProxy with Rewrite and a tuned
// http.Transport. Requests to a plain-HTTP origin that are GET or HEAD
// without a body take a lean HTTP/1.1 path instead (see fast.go), chosen
// automatically; both paths apply the same header rules, timeouts and error
// mapping, and the tests run against both.
package origin
