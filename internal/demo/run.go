package demo

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Run is `edgeward demo`: it starts the demo, prints what is where, runs
// the self-check and prints it (unless opts.NoCheck), prints curl commands
// with ready tokens, and serves until ctx is done. It returns an error if
// the demo cannot start, if the self-check fails (after printing it), or
// if the edge stops on its own.
func Run(ctx context.Context, opts Options, out io.Writer) error {
	d, err := Start(ctx, opts)
	if err != nil {
		return err
	}
	defer d.Close()
	printWhere(out, d)

	if !opts.NoCheck {
		results := d.Check(ctx)
		printCheck(out, results)
		if !Passed(results) {
			d.Close()
			return fmt.Errorf("self-check failed: %d of %d requests did not get what they should", failed(results), len(results))
		}
	}

	read, err := RequestToken(ctx, nil, d.IssuerURL(), ScopeRead, "")
	if err != nil {
		return err
	}
	write, err := RequestToken(ctx, nil, d.IssuerURL(), ScopeWrite, "")
	if err != nil {
		return err
	}
	forged, err := Forge(read.AccessToken, ScopeRead+" "+ScopeWrite)
	if err != nil {
		return err
	}
	printTry(out, d, tryTokens{read: read.AccessToken, write: write.AccessToken, forged: forged, ttl: time.Duration(read.ExpiresIn) * time.Second})

	fmt.Fprintln(out, "Serving until Ctrl-C.")
	select {
	case <-ctx.Done():
	case <-d.Done():
	}
	err = d.Close()
	if err != nil {
		return fmt.Errorf("edge stopped: %w", err)
	}
	fmt.Fprintln(out, "Stopped.")
	return nil
}

func failed(results []CheckResult) int {
	n := 0
	for _, r := range results {
		if !r.OK {
			n++
		}
	}
	return n
}

func printWhere(out io.Writer, d *Demo) {
	fmt.Fprintln(out, "edgeward demo: an authorizing edge in front of an Orders API, all on loopback")
	fmt.Fprintln(out)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  edge\t%s\tsend API requests here (authorized, then cached or forwarded)\n", d.EdgeURL())
	if d.AdminURL() != "" {
		fmt.Fprintf(tw, "  status page\t%s\tbehaviors, origin health, cache, decisions, last denies (open it in a browser)\n", d.AdminURL()+"/status")
		fmt.Fprintf(tw, "  admin\t%s\t/healthz /readyz /metrics /invalidations\n", d.AdminURL())
	}
	fmt.Fprintf(tw, "  origin\t%s\tthe Orders API (stage /prod), reachable without a token: the edge is the gate\n", d.OriginURL())
	fmt.Fprintf(tw, "  token issuer\t%s\tJWKS, OpenID discovery, POST /token (client credentials)\n", d.IssuerURL())
	fmt.Fprintf(tw, "  decision service\tembedded in the edge\tGET needs %s; POST, PUT, PATCH, DELETE need %s\n", ScopeRead, ScopeWrite)
	if d.traceEndpoint != "" {
		fmt.Fprintf(tw, "  tracing\t%s\tOTLP/HTTP: one trace per request, spans per stage, traceparent sent to the origin\n", d.traceEndpoint)
	} else {
		fmt.Fprintf(tw, "  tracing\toff\tto see traces: start a collector with an OTLP/HTTP port, e.g.\n")
		fmt.Fprintf(tw, "  \t\t  docker run --rm -p 4318:4318 -p 16686:16686 jaegertracing/all-in-one\n")
		fmt.Fprintf(tw, "  \t\tthen: edgeward demo --trace-endpoint http://127.0.0.1:4318 (traces at http://127.0.0.1:16686)\n")
	}
	tw.Flush()
	fmt.Fprintln(out)
	fmt.Fprintln(out, "The edge runs examples/edgeward.yaml with these ports (the real loader and builder of `edgeward serve`).")
	fmt.Fprintln(out)
}

func printCheck(out io.Writer, results []CheckResult) {
	fmt.Fprintln(out, "Self-check, through the edge:")
	fmt.Fprintln(out)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  request\ttoken\texpected\tgot\t\twhy")
	for _, r := range results {
		mark := "✓"
		if !r.OK {
			mark = "✗"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", r.Request, r.Token, r.Want, r.Got, mark, clip(r.Note, 60))
	}
	tw.Flush()
	fmt.Fprintln(out)
	if n := failed(results); n > 0 {
		fmt.Fprintf(out, "%d of %d failed.\n\n", n, len(results))
	} else {
		fmt.Fprintf(out, "All %d passed.\n\n", len(results))
	}
}

func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

type tryTokens struct {
	read, write, forged string
	ttl                 time.Duration
}

func printTry(out io.Writer, d *Demo, t tryTokens) {
	edge := d.EdgeURL()
	issuer := ""
	if d.IssuerURL() != DefaultIssuerURL {
		issuer = " --issuer " + d.IssuerURL()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Try it (the tokens are valid for %s; new ones: edgeward token --scope %s%s):\n\n", duration(t.ttl), ScopeRead, issuer)
	fmt.Fprintf(&b, "  READ_TOKEN='%s'\n", t.read)
	fmt.Fprintf(&b, "  WRITE_TOKEN='%s'\n", t.write)
	fmt.Fprintf(&b, "  FORGED_TOKEN='%s'\n\n", t.forged)
	cmds := []struct{ why, cmd string }{
		{"no token: 401", "curl -i " + edge + "/orders"},
		{"read token: 200, the list", `curl -i -H "Authorization: Bearer $READ_TOKEN" ` + edge + "/orders"},
		{"one order: 200, X-Cache: Miss, then Hit for 30 seconds", `curl -i -H "Authorization: Bearer $READ_TOKEN" ` + edge + "/orders/1"},
		{"read token on a write: 403 insufficient_scope", `curl -i -H "Authorization: Bearer $READ_TOKEN" -H 'Content-Type: application/json' -d '{"item":"tea","quantity":2}' ` + edge + "/orders"},
		{"write token: 201 Created (created_by is the token's subject)", `curl -i -H "Authorization: Bearer $WRITE_TOKEN" -H 'Content-Type: application/json' -d '{"item":"tea","quantity":2}' ` + edge + "/orders"},
		{"write token: 204 No Content", `curl -i -X DELETE -H "Authorization: Bearer $WRITE_TOKEN" ` + edge + "/orders/2"},
		{"scope widened by hand, signature kept: 401 invalid_token", `curl -i -H "Authorization: Bearer $FORGED_TOKEN" -H 'Content-Type: application/json' -d '{"item":"tea","quantity":2}' ` + edge + "/orders"},
		{"a new token from the issuer, as a client-credentials client gets one", "curl -s -d grant_type=client_credentials -d scope=" + ScopeRead + " " + d.IssuerURL() + TokenPath},
	}
	if d.AdminURL() != "" {
		cmds = append(cmds, struct{ why, cmd string }{"what the edge counted (the series that are not zero; all of them: /metrics)", MetricsCommand(d.AdminURL())})
	}
	for _, c := range cmds {
		fmt.Fprintf(&b, "  # %s\n  %s\n\n", c.why, c.cmd)
	}
	io.WriteString(out, b.String())
}

// duration prints d the way a person says it: "1h", "30m", "90s".
func duration(d time.Duration) string {
	switch {
	case d >= time.Hour && d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d >= time.Minute && d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return d.String()
}
