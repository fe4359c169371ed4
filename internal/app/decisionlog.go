package app

import (
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgeward/edgeward/internal/accesslog"
	"github.com/edgeward/edgeward/internal/decision"
	"github.com/edgeward/edgeward/internal/decisionapi"
)

// newService builds the decision service's front doors over engine, with
// its decision log (stdout, stderr, a size-rotated file, or none) written
// through the access log's bounded sink. Service.Close closes the log.
func newService(engine *decision.Engine, cfg decision.LogConfig, log *slog.Logger, reg prometheus.Registerer) (*decisionapi.Service, error) {
	var dlog *decisionapi.Log
	if cfg.Path != "" {
		sink, err := accesslog.NewSink(decisionSink(cfg), accesslog.Options{Registerer: reg, Logger: log, Name: "decision"})
		if err != nil {
			return nil, fmt.Errorf("decision_log: %w", err)
		}
		dlog = decisionapi.NewLog(sink, decisionapi.LogOptions{Registerer: reg})
	}
	return decisionapi.NewService(engine, decisionapi.Options{Logger: log, Registerer: reg, Log: dlog}), nil
}

// decisionSink is the sink configuration of a decision log.
func decisionSink(cfg decision.LogConfig) accesslog.SinkConfig {
	return accesslog.SinkConfig{Path: cfg.Path, Buffer: cfg.Buffer, MaxSize: cfg.MaxSize, MaxBackups: cfg.MaxBackups}
}
