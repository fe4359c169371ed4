package app

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgeward/edgeward/internal/accesslog"
	"github.com/edgeward/edgeward/internal/config"
	"github.com/edgeward/edgeward/internal/edge"
	"github.com/edgeward/edgeward/internal/protect"
)

// protectBehaviors compiles the file's protection sets (the CRS once per
// distinct WAF configuration) and gives each behavior the set it names.
// Rate rules count fleet-wide through counter when the edge is in a fleet
// (nil: on this node only). What it opens (the WAF log, the IP set watchers, the limiters) lives as
// long as ctx, the snapshot's. A behavior without protection keeps a nil
// Protection and pays nothing.
func protectBehaviors(ctx context.Context, f *config.Edge, bs []edge.Behavior, counter protect.Counter, log *slog.Logger, reg prometheus.Registerer) error {
	if len(f.Protections.Sets) == 0 {
		return nil
	}
	opts := protect.Options{Logger: log, Registerer: reg, Counter: counter}
	if f.Protections.Log.Path != accesslog.PathOff {
		sink, err := accesslog.NewSink(f.Protections.Log, accesslog.Options{Registerer: reg, Logger: log, Name: "waf"})
		if err != nil {
			return fmt.Errorf("protections.log: %w", err)
		}
		context.AfterFunc(ctx, func() { _ = sink.Close() })
		opts.Log = sink
	}
	p, err := protect.New(ctx, f.Protections, opts)
	if err != nil {
		return fmt.Errorf("protections: %w", err)
	}
	context.AfterFunc(ctx, p.Close)
	for i, b := range f.Behaviors {
		if s := p.Set(b.Protection); s != nil && i < len(bs) {
			bs[i].Protection = s
		}
	}
	return nil
}
