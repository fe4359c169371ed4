// Package cli is edgeward's command line: serve, decision serve, validate,
// demo, token, invalidate and version. Each command parses its flags and
// hands over to the package that does the work.
package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"github.com/edgeward/edgeward/internal/config"
)

// Version is set at build time with -ldflags "-X ...cli.Version=v1.2.3".
var Version = "dev"

// Root returns the edgeward command tree. Output goes to out and errOut.
func Root(out, errOut io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "edgeward",
		Short:         "A self-hosted authorizing edge: CloudFront + Lambda@Edge + PingOne Authorize in one program",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(out)
	root.SetErr(errOut)
	root.AddCommand(serveCmd(), decisionCmd(), validateCmd(), demoCmd(), tokenCmd(), invalidateCmd(), versionCmd(), importCmd())
	return root
}

// Execute runs the command line with ctx (cancelled on SIGINT/SIGTERM by
// main) and returns the process exit code.
func Execute(ctx context.Context, args []string, out, errOut io.Writer) int {
	root := Root(out, errOut)
	root.SetArgs(args)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(errOut, "edgeward:", err)
		return 1
	}
	return 0
}

func versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintln(cmd.OutOrStdout(), "edgeward", Version)
		},
	}
}

// newLogger builds the process logger from the file's logging section. Its
// level is lv, set here from the file and by reloads.
func newLogger(w io.Writer, l config.Logging, lv *slog.LevelVar) *slog.Logger {
	lv.Set(l.SlogLevel())
	opts := &slog.HandlerOptions{Level: lv}
	if l.Format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

func stderrOf(cmd *cobra.Command) io.Writer {
	if w := cmd.ErrOrStderr(); w != nil {
		return w
	}
	return os.Stderr
}
