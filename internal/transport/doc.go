// Package transport is the HTTP/1.1 transport of the viewer listener: it
// accepts viewer connections and turns them into requests for the edge's
// pipeline. It sits before the first pipeline stage:
//
//	TCP accept          max_connections; the limits of the moment
//	TLS                 handshake bounded by read_header_timeout; the
//	                    certificate of the moment (SetCertificate)
//	framing guard       every HTTP/1.x byte, both lanes (guard.go): heads
//	                    that would let a front proxy and the edge disagree
//	                    on where a request ends, and bytes that can never
//	                    be HTTP/1.x, are refused
//	fast lane           plain bodiless GET and HEAD (h1.go, h1writer.go)
//	net/http            everything else: bodies, upgrades, HTTP/2 over TLS
//	                    and h2c
//	HandlerFunc         the pipeline (internal/edge), with a Framing
//
// The pipeline learns what the transport knows about a request from the
// Framing value it is called with (refused or not, and why; the TLS state
// of HTTP/1.1 over TLS; a way to stop watching a hijacked connection), not
// from context values.
//
// An idle keep-alive connection of the fast lane holds no buffer and a
// minimal goroutine stack: its buffers are pooled while a request is in
// flight, and a connection idle for a moment waits for the next request
// on a fresh goroutine, parked in the netpoller without a buffer (idle.go).
//
// Limits and the certificate can change while serving, for a
// configuration reload: each accepted connection reads them once (see
// Server.SetLimits).
//
// Dependencies point one way: transport imports no other edgeward
// package; internal/edge imports it and gives it its pipeline as the
// HandlerFunc.
package transport
