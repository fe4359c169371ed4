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

// Root returns the edgeward command tree. Output goes to out and errOut.
func Root(out, errOut io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "edgeward",
		Short:         "A self-hosted authorizing edge: CloudFront + Lambda@Edge + PingOne Authorize in one program",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.Version = versionString()
	root.SetVersionTemplate("edgeward {{.Version}}\n")
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

// newLogger builds the process logger from the file's logging section. Its
// level is lv, set here from the file and by reloads. Durations are
// written as Go duration strings ("1.5ms", "2s") in both formats: slog's
// JSON handler would write nanoseconds as an integer, which nobody reads
// right at a glance.
func newLogger(w io.Writer, l config.Logging, lv *slog.LevelVar) *slog.Logger {
	lv.Set(l.SlogLevel())
	opts := &slog.HandlerOptions{Level: lv, ReplaceAttr: readableDurations}
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

// readableDurations is the process log's ReplaceAttr: a duration becomes
// its string ("1.5ms").
func readableDurations(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		return slog.String(a.Key, a.Value.Duration().String())
	}
	return a
}
