// Package app builds a running edgeward from a validated configuration:
// origins, viewer-request functions, the embedded decision service, the
// cache, the edge's behaviors, the access log and the admin listener. It
// owns the process lifecycle: start, reload (build a new snapshot, swap it
// atomically, keep the old one if the new file is bad) and graceful stop.
package app
