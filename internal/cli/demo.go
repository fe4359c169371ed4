package cli

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"

	"github.com/edgeward/edgeward/internal/demo"
)

func demoCmd() *cobra.Command {
	opts := demo.DefaultOptions()
	var logLevel string
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the quick start: demo origin, token issuer, decision service and edge on 127.0.0.1",
		Long: `Runs everything on 127.0.0.1 in one process: a small Orders API (the origin, under
the stage path /prod), a token issuer (JWKS, OpenID discovery, POST /token), and the
edge with its embedded decision service (reads need orders:read, writes need
orders:write; single orders are cached). It prints what is where, runs a self-check
through the edge, prints curl commands with ready tokens, and serves until Ctrl-C.
It exits non-zero if the self-check fails.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var level slog.Level
			if err := level.UnmarshalText([]byte(logLevel)); err != nil {
				return fmt.Errorf("--log-level: want debug, info, warn or error, got %q", logLevel)
			}
			opts.Logger = slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: level}))
			opts.Version = versionString()
			return demo.Run(cmd.Context(), opts, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Listen, "listen", opts.Listen, "edge listener, host:port (port 0 picks a free one)")
	f.StringVar(&opts.Admin, "admin", opts.Admin, `admin listener, host:port, or "off"`)
	f.IntVar(&opts.OriginPort, "origin-port", opts.OriginPort, "loopback port of the demo Orders API (0 picks a free one)")
	f.IntVar(&opts.IssuerPort, "issuer-port", opts.IssuerPort, "loopback port of the demo token issuer (0 picks a free one)")
	f.BoolVar(&opts.NoCheck, "no-check", false, "skip the self-check")
	f.BoolVar(&opts.AccessLog, "access-log", false, "write the CloudFront-format access log to stdout")
	f.StringVar(&opts.TraceEndpoint, "trace-endpoint", "", "send OpenTelemetry spans to this OTLP/HTTP collector, e.g. http://127.0.0.1:4318 (default: tracing off)")
	f.StringVar(&logLevel, "log-level", "warn", "process log level on stderr: debug, info, warn or error")
	return cmd
}

func tokenCmd() *cobra.Command {
	var (
		scopes []string
		issuer string
		alg    string
	)
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Print a demo access token (from a running `edgeward demo`)",
		Long: `Asks the token issuer of a running ` + "`edgeward demo`" + ` for an access token (client
credentials grant) and prints it, for scripts:

  TOKEN=$(edgeward token --scope orders:read)
  curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8080/orders`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			tr, err := demo.RequestToken(cmd.Context(), nil, issuer, strings.Join(scopes, " "), alg)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), tr.AccessToken)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&scopes, "scope", []string{demo.ScopeRead}, "scope to ask for; repeat or space-separate for several (orders:read, orders:write)")
	f.StringVar(&issuer, "issuer", demo.DefaultIssuerURL, "the demo token issuer's URL")
	f.StringVar(&alg, "alg", demo.RS256, "signing algorithm: RS256 or ES256")
	return cmd
}
