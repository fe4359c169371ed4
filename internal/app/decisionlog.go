package app

import (
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgeward/edgeward/internal/decision"
	"github.com/edgeward/edgeward/internal/decisionapi"
)

// newService builds the decision service's front doors over engine, with
// its decision log opened from cfg (stdout, stderr, a file, or none).
func newService(engine *decision.Engine, cfg decision.LogConfig, log *slog.Logger, reg prometheus.Registerer) (*decisionapi.Service, error) {
	var dlog *decisionapi.Log
	if cfg.Path != "" {
		var w io.Writer
		switch cfg.Path {
		case "stdout":
			w = os.Stdout
		case "stderr":
			w = os.Stderr
		default:
			f, err := os.OpenFile(cfg.Path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o640)
			if err != nil {
				return nil, fmt.Errorf("decision_log: %w", err)
			}
			w = f
		}
		dlog = decisionapi.NewLog(w, decisionapi.LogOptions{Buffer: cfg.Buffer, Registerer: reg, Logger: log})
	}
	return decisionapi.NewService(engine, decisionapi.Options{Logger: log, Registerer: reg, Log: dlog}), nil
}
