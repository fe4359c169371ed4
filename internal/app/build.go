package app

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/edgeward/edgeward/internal/accesslog"
	"github.com/edgeward/edgeward/internal/authorizer"
	"github.com/edgeward/edgeward/internal/config"
	"github.com/edgeward/edgeward/internal/decision"
	"github.com/edgeward/edgeward/internal/decisionapi"
	"github.com/edgeward/edgeward/internal/edge"
	"github.com/edgeward/edgeward/internal/httpcache"
	"github.com/edgeward/edgeward/internal/origin"
	"github.com/edgeward/edgeward/internal/protect"
	"github.com/edgeward/edgeward/internal/sideband"
)

// snapshot is everything built from one configuration file that a reload
// replaces as a whole. The cache store and the listeners outlive snapshots.
type snapshot struct {
	behaviors []edge.Behavior
	owned     []string
	origins   map[string]*origin.Origin
	decision  *decisionapi.Service // nil without a decision section
	access    *accesslog.Log       // nil with access_log: off
	reg       *prometheus.Registry

	// closers release what was built for the snapshot, registered where
	// each part is built (as Caddy modules implement Cleanup) and run in
	// reverse order by close.
	closers []func()
	once    sync.Once
}

// onClose registers f to run when the snapshot closes.
func (s *snapshot) onClose(f func()) { s.closers = append(s.closers, f) }

// close releases everything the snapshot holds: origin pools, the
// decision service (its log flushed, its JWKS refreshers stopped),
// sideband clients, the access log. The edge calls it once the
// snapshot's last request has ended (edge.Generation.Drained), or at
// shutdown; it runs once.
func (s *snapshot) close() {
	s.once.Do(func() {
		for _, f := range slices.Backward(s.closers) {
			f()
		}
	})
}

// build constructs a snapshot from a validated file. Nothing is started
// and nothing global changes: a failing build releases what it built and
// leaves the running snapshot untouched.
func build(ctx context.Context, f *config.Edge, store *httpcache.Store, counter protect.Counter, log *slog.Logger) (_ *snapshot, err error) {
	ctx, cancel := context.WithCancel(ctx)
	s := &snapshot{origins: map[string]*origin.Origin{}, reg: prometheus.NewRegistry()}
	s.onClose(cancel)
	defer func() {
		if err != nil {
			s.close()
		}
	}()

	if f.Logging.AccessLog.Path != accesslog.PathOff {
		if s.access, err = accesslog.New(f.Logging.AccessLog, accesslog.Options{Registerer: s.reg, TraceID: f.Tracing.Enabled()}); err != nil {
			return nil, fmt.Errorf("access log: %w", err)
		}
		s.onClose(func() { s.access.Close() })
	}

	for _, id := range slices.Sorted(maps.Keys(f.Origins)) {
		o, err := origin.New(id, f.Origins[id], origin.Options{Logger: log, Registerer: s.reg})
		if err != nil {
			return nil, fmt.Errorf("origin %q: %w", id, err)
		}
		s.origins[id] = o
		s.onClose(o.Close)
	}

	var local authorizer.Decider
	if f.Decision != nil {
		engine, err := decision.New(ctx, *f.Decision, decision.Options{Logger: log, Registerer: s.reg})
		if err != nil {
			return nil, fmt.Errorf("decision: %w", err)
		}
		if s.decision, err = newService(engine, f.Decision.DecisionLog, log, s.reg); err != nil {
			engine.Close()
			return nil, err
		}
		s.onClose(s.decision.Close)
		local = decisionapi.NewLocal(s.decision)
		s.owned = append(s.owned, f.Decision.HeaderNames()...)
	}

	functions := map[string]*authorizer.Authorizer{}
	for _, name := range slices.Sorted(maps.Keys(f.Functions)) {
		fc := f.Functions[name]
		d := local
		if fc.Remote() {
			client, err := authorizer.NewDecider(fc)
			if err != nil {
				return nil, fmt.Errorf("function %q: %w", name, err)
			}
			s.onClose(client.Close)
			d = client
		}
		fn, err := authorizer.New(name, fc, d, authorizer.Options{Logger: log, Registerer: s.reg})
		if err != nil {
			return nil, fmt.Errorf("function %q: %w", name, err)
		}
		functions[name] = fn
		s.owned = append(s.owned, fc.OwnedHeaders()...)
	}

	for i, b := range f.Behaviors {
		eb := edge.Behavior{
			PathPattern:    b.PathPattern,
			AllowedMethods: b.AllowedMethods,
			OriginID:       b.Origin,
			Origin:         s.origins[b.Origin],
			FunctionName:   b.ViewerRequest,
		}
		if fn := functions[b.ViewerRequest]; fn != nil {
			eb.Function = fn
			if f.Functions[b.ViewerRequest].ResponsePhase {
				eb.ResponseFunction = fn
			}
		}
		if b.Cache != nil && b.Cache.Enabled() {
			c, err := store.Policy(b.PathPattern, *b.Cache)
			if err != nil {
				return nil, fmt.Errorf("behaviors[%d].cache: %w", i, err)
			}
			eb.Cache = c
		}
		if b.ResponseHeaders != nil {
			if eb.ResponseHeaders, err = edge.NewResponseHeaders(*b.ResponseHeaders); err != nil {
				return nil, fmt.Errorf("behaviors[%d].response_headers: %w", i, err)
			}
		}
		s.behaviors = append(s.behaviors, eb)
	}
	if err := protectBehaviors(ctx, f, s.behaviors, counter, log, s.reg); err != nil {
		return nil, err
	}
	return s, nil
}

// explain is the snapshot's decision explain endpoint, or nil without an
// embedded decision service.
func (s *snapshot) explain() http.Handler {
	if s.decision == nil {
		return nil
	}
	return s.decision.ExplainHandler()
}

var (
	_ authorizer.Decider = (*sideband.Client)(nil)
	_ authorizer.Decider = (*decisionapi.Local)(nil)
)

// newRegistry returns a registry with the Go runtime and process
// collectors, the part of /metrics that outlives every snapshot.
func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// loggerOf returns the configured logger, or one that discards.
func loggerOf(opts Options) *slog.Logger {
	if opts.Logger != nil {
		return opts.Logger
	}
	return slog.New(slog.DiscardHandler)
}
