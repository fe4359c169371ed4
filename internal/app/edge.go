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

	"github.com/edgeward/edgeward/internal/accesslog"
	"github.com/edgeward/edgeward/internal/config"
	"github.com/edgeward/edgeward/internal/edge"
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
	access *accesslog.Log
	server *edge.Server
	admin  *http.Server
	reload sync.Mutex
	tp     *tracing.Provider
	status *status

	adminLn net.Listener
	ready   atomic.Bool
	closed  sync.Once
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
	tracer, err := e.startTracing(f)
	if err != nil {
		return nil, err
	}
	if f.Logging.AccessLog.Path != accesslog.PathOff {
		if e.access, err = accesslog.New(f.Logging.AccessLog, accesslog.Options{Registerer: e.reg, TraceID: tracer != nil}); err != nil {
			return nil, fmt.Errorf("access log: %w", err)
		}
	}
	s, err := build(ctx, f, e.store, log)
	if err != nil {
		return nil, err
	}
	eo := edge.Options{Logger: log, Registerer: e.reg, OwnedHeaders: s.owned, Tracer: tracer}
	if e.access != nil {
		eo.AccessLog = e.access
	}
	eo.AccessLog = denyRecorder{s: e.status, next: eo.AccessLog} // the status page's last denies
	if e.server, err = edge.New(f.Config, s.behaviors, eo); err != nil {
		s.close()
		if e.access != nil {
			e.access.Close()
		}
		return nil, err
	}
	e.cfg.Store(f)
	e.snap.Store(s)
	return e, nil
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
	e.ready.Store(true)
	go func() { errc <- e.server.Serve(ctx, ln) }()

	var runErr error
	select {
	case runErr = <-errc:
	case <-ctx.Done():
		runErr = <-errc // the edge drains and returns
	}
	e.ready.Store(false)
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
		if e.access != nil {
			e.access.Close()
		}
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

// Reload reads the file again and swaps in a new snapshot. A file that
// does not load or build leaves the running configuration untouched; the
// error says why.
func (e *Edge) Reload(ctx context.Context) error {
	e.reload.Lock()
	defer e.reload.Unlock()
	f, err := config.LoadEdge(e.path, e.opts.Lookup)
	if err != nil {
		return err
	}
	old := e.cfg.Load()
	if f.Listen != old.Listen || f.Admin != old.Admin {
		e.log.Warn("listen and admin addresses change only on restart", "listen", old.Listen, "admin", old.Admin)
	}
	s, err := build(ctx, f, e.store, e.log)
	if err != nil {
		return err
	}
	if err := e.server.Update(s.behaviors, s.owned); err != nil {
		s.close()
		return err
	}
	e.cfg.Store(f)
	prev := e.snap.Swap(s)
	// Requests already inside the old snapshot finish with it; its idle
	// connections and refreshers are released after the longest request
	// time the edge allows.
	time.AfterFunc(time.Minute, prev.close)
	e.log.Info("configuration reloaded", "file", e.path)
	return nil
}
