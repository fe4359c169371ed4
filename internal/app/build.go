package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sort"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/edgeward/edgeward/internal/authorizer"
	"github.com/edgeward/edgeward/internal/config"
	"github.com/edgeward/edgeward/internal/decision"
	"github.com/edgeward/edgeward/internal/decisionapi"
	"github.com/edgeward/edgeward/internal/edge"
	"github.com/edgeward/edgeward/internal/httpcache"
	"github.com/edgeward/edgeward/internal/origin"
	"github.com/edgeward/edgeward/internal/sideband"
)

// snapshot is everything built from one configuration file that a reload
// replaces as a whole. The cache store and the listeners outlive snapshots.
type snapshot struct {
	behaviors []edge.Behavior
	owned     []string
	origins   map[string]*origin.Origin
	decision  *decisionapi.Service // nil without a decision section
	reg       *prometheus.Registry
	cancel    context.CancelFunc
}

// close releases what the snapshot holds (idle origin connections, JWKS
// refreshers). It is called once no request can reach the snapshot.
func (s *snapshot) close() {
	for _, o := range s.origins {
		o.Close()
	}
	if s.cancel != nil {
		s.cancel()
	}
}

// build constructs a snapshot from a validated file. Nothing is started
// and nothing global changes: a failing build leaves the running snapshot
// untouched.
func build(ctx context.Context, f *config.Edge, store *httpcache.Store, log *slog.Logger) (_ *snapshot, err error) {
	ctx, cancel := context.WithCancel(ctx)
	s := &snapshot{origins: map[string]*origin.Origin{}, reg: prometheus.NewRegistry(), cancel: cancel}
	defer func() {
		if err != nil {
			s.close()
		}
	}()

	for _, id := range sortedKeys(f.Origins) {
		o, err := origin.New(id, f.Origins[id], origin.Options{Logger: log, Registerer: s.reg})
		if err != nil {
			return nil, fmt.Errorf("origin %q: %w", id, err)
		}
		s.origins[id] = o
	}

	var local authorizer.Decider
	if f.Decision != nil {
		engine, err := decision.New(ctx, *f.Decision, decision.Options{Logger: log, Registerer: s.reg})
		if err != nil {
			return nil, fmt.Errorf("decision: %w", err)
		}
		if s.decision, err = newService(engine, f.Decision.DecisionLog, log, s.reg); err != nil {
			return nil, err
		}
		local = decisionapi.NewLocal(s.decision)
		s.owned = append(s.owned, f.Decision.HeaderNames()...)
	}

	functions := map[string]*authorizer.Authorizer{}
	for _, name := range sortedKeys(f.Functions) {
		fc := f.Functions[name]
		d := local
		if fc.Remote() {
			if d, err = authorizer.NewDecider(fc); err != nil {
				return nil, fmt.Errorf("function %q: %w", name, err)
			}
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
		s.behaviors = append(s.behaviors, eb)
	}
	if err := protectBehaviors(ctx, f, s.behaviors, log, s.reg); err != nil {
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

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
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
