package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgeward/edgeward/internal/config"
	"github.com/edgeward/edgeward/internal/edge"
	"github.com/edgeward/edgeward/internal/fleet"
	"github.com/edgeward/edgeward/internal/httpcache"
	"github.com/edgeward/edgeward/internal/tracing"
)

// Options are what a command gives the app beyond the configuration file.
type Options struct {
	// Logger is the process log (stderr JSON by default).
	Logger *slog.Logger
	// Lookup resolves ${ENV} references on reload (os.LookupEnv if nil).
	Lookup config.LookupEnv
	// Tracing replaces the provider the file's tracing section would build
	// (tests pass one with an in-memory exporter).
	Tracing *tracing.Provider
	// Version is the program's version, for the status page.
	Version string
	// Level, when set, is the process log's level: a reload of
	// logging.level sets it.
	Level *slog.LevelVar
}

// Edge is a running edge: listeners, admin, and the current snapshot.
type Edge struct {
	path   string
	opts   Options
	log    *slog.Logger
	cfg    atomic.Pointer[config.Edge]
	snap   atomic.Pointer[snapshot]
	reg    *prometheus.Registry
	store  *httpcache.Store
	fleet  *fleet.Node // nil without a fleet section (fleet.go)
	server *edge.Server
	admin  *http.Server
	reload sync.Mutex
	tp     *tracing.Provider
	status *status
	last   atomic.Pointer[ReloadResult]

	adminLn net.Listener
	ready   atomic.Bool
	closed  sync.Once
}

// ReloadResult is what the last reload did, for logs and the admin API.
type ReloadResult struct {
	At time.Time
	// Err is why the file was refused (the running configuration stayed).
	Err error
	// Changed lists the key paths that differ from the running file;
	// RestartRequired those of them that only a restart applies.
	Changed, RestartRequired []string
}

// NewEdge builds an edge from a validated file read from path (kept for
// reloads). It binds no listener yet.
func NewEdge(ctx context.Context, path string, f *config.Edge, opts Options) (*Edge, error) {
	log := loggerOf(opts)
	e := &Edge{path: path, opts: opts, log: log, reg: newRegistry(), status: newStatus(path)}

	var err error
	if e.store, err = httpcache.NewStore(f.Cache, httpcache.Options{Logger: log, Registerer: e.reg}); err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	// Until the edge is built, a failure releases what was started so far.
	var s *snapshot
	fail := func(err error) (*Edge, error) {
		if s != nil {
			s.close()
		}
		e.stopTracing()
		e.closeFleet()
		e.store.Close()
		return nil, err
	}
	if err := e.startFleet(ctx, f); err != nil {
		return fail(err)
	}
	tracer, err := e.startTracing(f)
	if err != nil {
		return fail(err)
	}
	if s, err = build(ctx, f, e.store, e.counter(), log); err != nil {
		return fail(err)
	}
	g := e.generation(f, s)
	eo := edge.Options{Logger: log, Registerer: e.reg, OwnedHeaders: g.OwnedHeaders, Tracer: tracer,
		AccessLog: g.AccessLog, Drained: g.Drained}
	if e.server, err = edge.New(f.Config, s.behaviors, eo); err != nil {
		return fail(err)
	}
	e.cfg.Store(f)
	e.snap.Store(s)
	return e, nil
}

// generation is the edge's share of a snapshot.
func (e *Edge) generation(f *config.Edge, s *snapshot) edge.Generation {
	g := edge.Generation{Config: f.Config, Behaviors: s.behaviors, OwnedHeaders: s.owned, Drained: s.close}
	if s.access != nil {
		g.AccessLog = s.access
	}
	g.AccessLog = e.status.denies(g.AccessLog)
	return g
}

// Run serves until ctx is done, then shuts down gracefully: the edge
// drains in-flight requests for up to its shutdown grace.
func (e *Edge) Run(ctx context.Context) error {
	f := e.cfg.Load()
	ln, err := net.Listen("tcp", f.Listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", f.Listen, err)
	}
	return e.Serve(ctx, ln)
}

// Serve is Run on a listener the caller bound (tests bind port 0).
func (e *Edge) Serve(ctx context.Context, ln net.Listener) error {
	f := e.cfg.Load()
	if f.Admin != "off" && e.adminLn == nil {
		aln, err := net.Listen("tcp", f.Admin)
		if err != nil {
			ln.Close()
			return fmt.Errorf("admin listen %s: %w", f.Admin, err)
		}
		e.adminLn = aln
	}
	errc := make(chan error, 2)
	if e.adminLn != nil {
		e.admin = &http.Server{Handler: e.adminHandler(), ReadHeaderTimeout: 10 * time.Second}
		e.log.Info("admin listening", "addr", e.adminLn.Addr().String())
		go func() {
			if err := e.admin.Serve(e.adminLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("admin: %w", err)
			}
		}()
	}
	// The listener outlives ctx by drain_delay: readiness turns 503 first,
	// so that load balancers stop sending before connections are refused.
	sctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	defer stop()
	e.ready.Store(true)
	go func() { errc <- e.server.Serve(sctx, ln) }()

	var runErr error
	select {
	case runErr = <-errc:
		e.ready.Store(false)
	case <-ctx.Done():
		e.ready.Store(false)
		delay := e.cfg.Load().DrainDelay
		e.log.Info("draining: readiness is 503", "drain_delay", delay.String())
		t := time.NewTimer(delay)
		select {
		case <-t.C:
			stop()
			runErr = <-errc // the edge drains and returns
		case runErr = <-errc:
			t.Stop()
		}
	}
	if e.admin != nil {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		_ = e.admin.Shutdown(sctx)
		cancel()
	}
	e.Close()
	return runErr
}

// Close releases what NewEdge built (the configuration's origins and key
// refreshes, the access log) for an edge that is not served, or no longer.
// Serve calls it on its way out; it is safe to call more than once.
func (e *Edge) Close() {
	e.closed.Do(func() {
		if s := e.snap.Load(); s != nil {
			s.close()
		}
		e.closeFleet()
		e.store.Close()
		e.stopTracing()
	})
}

// AdminAddr is the admin listener's address once Serve has started it.
func (e *Edge) AdminAddr() string {
	if e.adminLn == nil {
		return ""
	}
	return e.adminLn.Addr().String()
}

// ListenAdmin binds the admin listener ahead of Serve (tests use port 0).
func (e *Edge) ListenAdmin(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	e.adminLn = ln
	return nil
}

// Reload reads the file again and swaps in a new snapshot. Every key
// takes effect except config.RestartKeys, which the log line and the
// result name. A file that does not load or build leaves the running
// configuration untouched; the error says why. The replaced snapshot is
// closed when its last request ends, or after the shutdown grace.
func (e *Edge) Reload(ctx context.Context) error {
	e.reload.Lock()
	defer e.reload.Unlock()
	res := &ReloadResult{At: time.Now()}
	defer e.last.Store(res)
	f, err := config.LoadEdge(e.path, e.opts.Lookup)
	if err != nil {
		res.Err = err
		return err
	}
	old := e.cfg.Load()
	res.Changed = config.Changes(old, f)
	res.RestartRequired = config.RestartRequired(res.Changed)
	s, err := build(ctx, f, e.store, e.counter(), e.log)
	if err != nil {
		res.Err = err
		return err
	}
	if err := e.server.Reload(e.generation(f, s)); err != nil {
		s.close()
		res.Err = err
		return err
	}
	if err := e.store.Resize(f.Cache); err != nil { // validated with the file
		e.log.Error("cache section not applied", "err", err.Error())
	}
	if e.opts.Level != nil {
		e.opts.Level.Set(f.Logging.SlogLevel())
	}
	e.cfg.Store(f)
	e.snap.Store(s)
	e.log.Info("configuration reloaded", "file", e.path, "changed", res.Changed, "restart_required", res.RestartRequired)
	if len(res.RestartRequired) > 0 {
		e.log.Warn("some changed keys take effect only on restart; the running values stay", "keys", res.RestartRequired)
	}
	return nil
}

// LastReload returns the result of the last reload, or nil before one.
func (e *Edge) LastReload() *ReloadResult { return e.last.Load() }
