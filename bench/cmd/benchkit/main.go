// Command benchkit is the side-by-side benchmark harness's helper: what
// bench/run.sh cannot do in shell. It makes the benchmark's signing key and
// token, plays the trivial authorizer every system under test asks (in
// nginx auth_request / Caddy forward_auth style and in sideband style),
// holds thousands of idle keep-alive connections open during a load run,
// drives a constant-rate load, and turns the runs' raw records into the
// results table (medians of interleaved rounds, ratios edgeward/peer).
//
//	benchkit setup  -dir DIR                 key, JWKS, public key PEM, token
//	benchkit authz  -plain ADDR -sideband ADDR -credential C
//	benchkit idle   -url URL -n 5000          hold idle connections until SIGTERM
//	benchkit rate   -url URL -rate R -duration D
//	benchkit report -raw FILE [-out FILE]
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	args := os.Args[2:]
	switch os.Args[1] {
	case "setup":
		err = runSetup(args)
	case "authz":
		err = runAuthz(ctx, args)
	case "idle":
		err = runIdle(ctx, args)
	case "rate":
		err = runRate(ctx, args)
	case "report":
		err = runReport(args, os.Stdout)
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "benchkit %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: benchkit setup|authz|idle|rate|report [flags] (see -h of each)")
	os.Exit(2)
}
