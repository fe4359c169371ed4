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
			e, err := app.NewEdge(cmd.Context(), file, f, app.Options{Logger: log, Level: lv})
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
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			switch kind {
			case "edge":
				_, err = config.LoadEdge(file, nil)
			case "decision":
				_, err = config.LoadDecision(file, nil)
			default:
				return fmt.Errorf("--kind: want edge or decision, got %q", kind)
			}
			if err != nil {
				fmt.Fprintln(cmd.OutOrStdout(), err)
				return fmt.Errorf("%s is not valid", file)
			}
			fmt.Fprintln(cmd.OutOrStdout(), "ok")
			restart := config.RestartKeys
			if kind == "decision" {
				restart = config.DecisionRestartKeys
			}
			fmt.Fprintf(cmd.OutOrStdout(), "note: a reload applies every key but these, which take effect on restart: %s\n", strings.Join(restart, ", "))
			return nil
		},
	}
	cmd.Flags().StringVarP(&file, "config", "c", "edgeward.yaml", "configuration file")
	cmd.Flags().StringVar(&kind, "kind", "edge", "file kind: edge (edgeward serve) or decision (edgeward decision serve)")
	return cmd
}
