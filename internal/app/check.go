package app

import (
	"context"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgeward/edgeward/internal/accesslog"
	"github.com/edgeward/edgeward/internal/config"
	"github.com/edgeward/edgeward/internal/decision"
	"github.com/edgeward/edgeward/internal/edge"
	"github.com/edgeward/edgeward/internal/httpcache"
)

// CheckEdge builds, from a validated file, everything `serve` builds
// before it binds a listener (origins, functions, the decision engine with
// its compiled rules, the cache policies, the listener's certificate) and
// releases it again. It is `edgeward validate`'s second half: a file that
// passes it fails `serve` only on what needs the running system (a port in
// use). Like serve, it opens the access log (creating the file if it is
// missing), which proves the path writable; it binds nothing.
func CheckEdge(ctx context.Context, f *config.Edge) error {
	store, err := httpcache.NewStore(f.Cache, httpcache.Options{Registerer: prometheus.NewRegistry()})
	if err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	defer store.Close()
	if p := f.Logging.AccessLog.Path; p == accesslog.PathStdout || p == accesslog.PathStderr {
		// Nothing to check there, and its header would mix with validate's
		// own output.
		g := *f
		g.Logging.AccessLog.Path = accesslog.PathOff
		f = &g
	}
	s, err := build(ctx, f, store, nil, loggerOf(Options{})) // no fleet: validate connects to nothing
	if err != nil {
		return err
	}
	defer s.close()
	if _, err := edge.New(f.Config, s.behaviors, edge.Options{OwnedHeaders: s.owned}); err != nil {
		return err
	}
	return nil
}

// CheckDecision is CheckEdge for the file of `edgeward decision serve`.
func CheckDecision(ctx context.Context, f *config.Decision) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if _, err := decision.New(ctx, f.Decision, decision.Options{Registerer: prometheus.NewRegistry()}); err != nil {
		return fmt.Errorf("decision: %w", err)
	}
	return nil
}
