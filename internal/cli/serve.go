package cli

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"

	"github.com/edgeward/edgeward/internal/app"
	"github.com/edgeward/edgeward/internal/config"
)

func serveCmd() *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the edge (with the embedded decision service if the file has decision:)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := config.LoadEdge(file, nil)
			if err != nil {
				return err
			}
			lv := new(slog.LevelVar)
			log := newLogger(stderrOf(cmd), f.Logging, lv)
			e, err := app.NewEdge(cmd.Context(), file, f, app.Options{Logger: log, Level: lv, Version: versionString()})
			if err != nil {
				return err
			}
			go app.Watch(cmd.Context(), file, e, log)
			return e.Run(cmd.Context())
		},
	}
	cmd.Flags().StringVarP(&file, "config", "c", "edgeward.yaml", "configuration file")
	return cmd
}

func decisionCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "decision",
		Short: "The decision service (PingOne Authorize's API Access Management, sideband-compatible)",
	}
	var file string
	serve := &cobra.Command{
		Use:   "serve",
		Short: "Run the decision service alone, serving the sideband API",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := config.LoadDecision(file, nil)
			if err != nil {
				return err
			}
			lv := new(slog.LevelVar)
			log := newLogger(stderrOf(cmd), f.Logging, lv)
			d, err := app.NewDecision(cmd.Context(), file, f, app.Options{Logger: log, Level: lv})
			if err != nil {
				return err
			}
			go app.Watch(cmd.Context(), file, d, log)
			return d.Run(cmd.Context())
		},
	}
	serve.Flags().StringVarP(&file, "config", "c", "decision.yaml", "configuration file")
	cmd.AddCommand(serve)
	return cmd
}

func validateCmd() *cobra.Command {
	var file string
	var kind string
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Validate a configuration file strictly: prints ok or every error with file, line and key",
		Long: `Reads the file as serve would: strict YAML (unknown keys, wrong types and a second
document are errors), every ${ENV} reference resolved, every section validated, then
everything built that serve builds before it listens (certificates and CA bundles
loaded, rules compiled). Prints ok, or every problem with file, line and key.

The kind of file is told from its content: one with origins or behaviors is an
edge's (edgeward serve); one with only a decision section is a standalone decision
service's (edgeward decision serve). --kind overrides it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			k := kind
			if k == "auto" {
				k = config.DetectKind(file)
			}
			var err error
			switch k {
			case config.KindEdge:
				var f *config.Edge
				if f, err = config.LoadEdge(file, nil); err == nil {
					err = app.CheckEdge(cmd.Context(), f)
				}
			case config.KindDecision:
				var f *config.Decision
				if f, err = config.LoadDecision(file, nil); err == nil {
					err = app.CheckDecision(cmd.Context(), f)
				}
			default:
				return fmt.Errorf("--kind: want auto, edge or decision, got %q", kind)
			}
			if err != nil {
				fmt.Fprintln(cmd.OutOrStdout(), err)
				return fmt.Errorf("%s is not a valid %s file", file, kindName(k))
			}
			fmt.Fprintf(cmd.OutOrStdout(), "ok\nread as: %s file\n", kindName(k))
			restart := config.RestartKeys
			if k == config.KindDecision {
				restart = config.DecisionRestartKeys
			}
			fmt.Fprintf(cmd.OutOrStdout(), "note: a reload applies every key but these, which take effect on restart: %s\n", strings.Join(restart, ", "))
			return nil
		},
	}
	cmd.Flags().StringVarP(&file, "config", "c", "edgeward.yaml", "configuration file")
	cmd.Flags().StringVar(&kind, "kind", "auto", "file kind: auto (told from the content), edge (edgeward serve) or decision (edgeward decision serve)")
	return cmd
}

func kindName(k string) string {
	if k == config.KindDecision {
		return "decision service"
	}
	return "edge"
}
