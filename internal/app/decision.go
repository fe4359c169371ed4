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
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/edgeward/edgeward/internal/config"
	"github.com/edgeward/edgeward/internal/decision"
	"github.com/edgeward/edgeward/internal/decisionapi"
)

// Decision is a running standalone decision service (`edgeward decision
// serve`): the sideband API on one listener, admin on another.
type Decision struct {
	path    string
	opts    Options
	log     *slog.Logger
	cfg     *config.Decision
	reg     *prometheus.Registry
	svc     *decisionapi.Service
	cancel  context.CancelFunc
	reload  sync.Mutex
	adminLn net.Listener
	ready   atomic.Bool
	running *config.Decision // the file in effect, for reload diffs (under reload)
}

// engineGrace is how long a replaced engine stays open for the decisions
// already inside it (a decision takes milliseconds; the sideband client's
// timeout is seconds) before its JWKS refreshers stop.
const engineGrace = 30 * time.Second

// NewDecision builds the decision service from a validated file.
func NewDecision(ctx context.Context, path string, f *config.Decision, opts Options) (*Decision, error) {
	log := loggerOf(opts)
	d := &Decision{path: path, opts: opts, log: log, cfg: f, running: f, reg: newRegistry()}
	ectx, cancel := context.WithCancel(ctx)
	engine, err := decision.New(ectx, f.Decision, decision.Options{Logger: log, Registerer: d.reg})
	if err != nil {
		cancel()
		return nil, fmt.Errorf("decision: %w", err)
	}
	d.cancel = cancel
	if d.svc, err = newService(engine, f.Decision.DecisionLog, log, d.reg); err != nil {
		cancel()
		return nil, err
	}
	return d, nil
}

// Run serves until ctx is done.
func (d *Decision) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", d.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", d.cfg.Listen, err)
	}
	return d.Serve(ctx, ln)
}

// Serve is Run on a listener the caller bound.
func (d *Decision) Serve(ctx context.Context, ln net.Listener) error {
	defer d.cancel()
	srv := &http.Server{Handler: d.svc.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	errc := make(chan error, 2)
	go func() {
		var err error
		if t := d.cfg.TLS; t != nil {
			err = srv.ServeTLS(ln, t.CertFile, t.KeyFile)
		} else {
			err = srv.Serve(ln)
		}
		if !errors.Is(err, http.ErrServerClosed) {
			errc <- err
		}
	}()
	var admin *http.Server
	if d.cfg.Admin != "off" {
		aln := d.adminLn
		if aln == nil {
			var err error
			if aln, err = net.Listen("tcp", d.cfg.Admin); err != nil {
				srv.Close()
				return fmt.Errorf("admin listen %s: %w", d.cfg.Admin, err)
			}
		}
		mux := http.NewServeMux()
		mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
		mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
			if !d.ready.Load() {
				w.WriteHeader(http.StatusServiceUnavailable)
				w.Write([]byte("not ready\n"))
				return
			}
			w.Write([]byte("ready\n"))
		})
		mux.Handle("GET /metrics", promhttp.HandlerFor(d.reg, promhttp.HandlerOpts{}))
		mux.Handle("POST /v1/decisions/explain", d.svc.ExplainHandler())
		handleProfiles(mux)
		admin = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go func() {
			if err := admin.Serve(aln); !errors.Is(err, http.ErrServerClosed) {
				errc <- err
			}
		}()
	}
	d.log.Info("decision service listening", "addr", ln.Addr().String(), "admin", d.cfg.Admin)
	d.ready.Store(true)
	var runErr error
	select {
	case runErr = <-errc:
	case <-ctx.Done():
	}
	d.ready.Store(false) // from the first instant of the drain
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	if admin != nil {
		_ = admin.Shutdown(sctx)
	}
	d.svc.Close()
	return runErr
}

// Reload rebuilds the engine from the file and swaps it in atomically; a
// bad file keeps the running model.
func (d *Decision) Reload(ctx context.Context) error {
	d.reload.Lock()
	defer d.reload.Unlock()
	f, err := config.LoadDecision(d.path, d.opts.Lookup)
	if err != nil {
		return err
	}
	ectx, cancel := context.WithCancel(ctx)
	// The registry already holds the first engine's collectors; the token
	// and decision packages reuse registered collectors.
	engine, err := decision.New(ectx, f.Decision, decision.Options{Logger: d.log, Registerer: d.reg})
	if err != nil {
		cancel()
		return err
	}
	old := d.svc.SetEngine(engine)
	oldCancel := d.cancel
	d.cancel = cancel
	// Decisions already inside the old engine finish with it; then its
	// verifiers and refreshers are released.
	time.AfterFunc(engineGrace, func() {
		if old != nil {
			old.Close()
		}
		oldCancel()
	})
	if d.opts.Level != nil {
		d.opts.Level.Set(f.Logging.SlogLevel())
	}
	changed := config.Changes(d.running, f)
	d.running = f
	restart := config.RestartRequiredDecision(changed)
	d.log.Info("decision model reloaded", "file", d.path, "changed", changed, "restart_required", restart)
	if len(restart) > 0 {
		d.log.Warn("some changed keys take effect only on restart; the running values stay", "keys", restart)
	}
	return nil
}
