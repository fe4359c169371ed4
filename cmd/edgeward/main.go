// Command edgeward is a self-hosted authorizing edge: an HTTP edge with
// CloudFront-style behaviors, origins and cache, an authorize function at
// the viewer-request stage, and a PingOne Authorize-compatible decision
// service. See README.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/edgeward/edgeward/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Execute(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
