package edge

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"
	"golang.org/x/net/netutil"
)

// Options are the Server's collaborators.
type Options struct {
	// Logger receives the edge's own diagnostics (nil: discarded).
	Logger *slog.Logger
	// AccessLog receives one Record per finished request (nil: none).
	AccessLog Logger
	// Registerer receives the edge's metrics (nil: none).
	Registerer prometheus.Registerer
	// OwnedHeaders are headers the functions own (the gateway credential
	// header, every header a decision can set): inbound copies are stripped
	// on every behavior, as for Config.OwnedHeaders.
	OwnedHeaders []string
	// Tracer, when set, traces every request (see trace.go); nil is off
	// and costs nothing.
	Tracer trace.Tracer
}

// Server is the viewer side of the edge: an http.Handler running the
// pipeline, and the listener that feeds it.
type Server struct {
	cfg    Config // as given to New: the listener's settings
	log    *slog.Logger
	m      *metrics
	ids    *idSource
	tlsCfg *tls.Config
	fails  *failureLog
	tracer trace.Tracer // nil: tracing off

	snap atomic.Pointer[snapshot]
	swap sync.Mutex // serialises Reload
	pool sync.Pool
	addr atomic.Pointer[net.Addr]
}

// New builds a Server from a validated Config (Defaults is applied to a
// copy) and the behaviors to serve. It loads the TLS certificate, if any,
// and compiles the behaviors: an error names every problem.
func New(cfg Config, behaviors []Behavior, opts Options) (*Server, error) {
	cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Server{
		cfg:    cfg,
		log:    opts.Logger,
		ids:    newIDSource(),
		fails:  newFailureLog(),
		tracer: opts.Tracer,
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if cfg.TLS.Enabled() {
		cert, err := tls.LoadX509KeyPair(cfg.TLS.CertFile, cfg.TLS.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("tls: %w", err)
		}
		s.tlsCfg = &tls.Config{
			Certificates: []tls.Certificate{cert},
			MinVersion:   tls.VersionTLS12,
			NextProtos:   []string{"h2", "http/1.1"},
		}
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	s.m = m
	err = s.Reload(Generation{Config: cfg, Behaviors: behaviors, OwnedHeaders: opts.OwnedHeaders, AccessLog: opts.AccessLog})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// OwnedHeaders lists the header names the edge currently strips from every
// inbound request ("X-Forwarded-*" stands for the prefix).
func (s *Server) OwnedHeaders() []string { return s.snap.Load().owned.sorted() }

// Addr returns the listener's address once Serve has started, else nil.
func (s *Server) Addr() net.Addr {
	if a := s.addr.Load(); a != nil {
		return *a
	}
	return nil
}

// ListenAndServe listens on Config.Listen and serves until ctx is done,
// then shuts down gracefully (see Serve).
func (s *Server) ListenAndServe(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves viewers on ln until ctx is done. Then it stops accepting
// connections, lets in-flight requests finish for up to
// Config.ShutdownGrace, and closes what is left. It returns nil after a
// graceful shutdown.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	limit := int(s.cfg.Limits.MaxHeaderBytes)
	if n := s.cfg.Limits.MaxConnections; n > 0 {
		ln = netutil.LimitListener(ln, n)
	}
	if s.tlsCfg != nil {
		ln = newTLSListener(ln, s.tlsCfg, s.cfg.Limits.ReadHeaderTimeout, limit)
	} else {
		ln = &framingListener{Listener: ln, limit: limit, headTimeout: s.cfg.Limits.ReadHeaderTimeout}
	}
	addr := ln.Addr()
	s.addr.Store(&addr)
	s.log.Info("edge listening", "addr", addr.String(), "tls", s.tlsCfg != nil, "h2c", s.cfg.H2C && s.tlsCfg == nil)
	srv := s.httpServer()
	if !isTrue(s.cfg.HTTP1FastLane, true) {
		return s.serveStd(ctx, srv, ln, addr)
	}
	h := newH1Server(s, srv, addr)
	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(h.handoff) }()
	go func() { errc <- h.serve(ln) }()
	var early error
	running := 2 // the fast lane and net/http behind it
	select {
	case early = <-errc:
		running--
	case <-ctx.Done():
	}
	s.log.Info("edge shutting down", "addr", addr.String(), "grace", s.grace())
	h.shutting.Store(true)
	ln.Close()
	sctx, cancel := context.WithTimeout(context.Background(), s.grace())
	defer cancel()
	herr := make(chan error, 1)
	go func() { herr <- h.shutdown(sctx) }()
	err := srv.Shutdown(sctx)
	if ferr := <-herr; err == nil {
		err = ferr
	}
	if err != nil {
		_ = srv.Close()
		err = fmt.Errorf("shutdown: requests still in flight after %s were cut: %w", s.grace(), err)
	}
	for range running {
		if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) && early == nil {
			early = serr
		}
	}
	if early != nil && !errors.Is(early, http.ErrServerClosed) {
		return early
	}
	return err
}

// serveStd serves every connection with net/http alone (http1_fast_lane:
// false).
func (s *Server) serveStd(ctx context.Context, srv *http.Server, ln net.Listener, addr net.Addr) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.log.Info("edge shutting down", "addr", addr.String(), "grace", s.grace())
	sctx, cancel := context.WithTimeout(context.Background(), s.grace())
	defer cancel()
	err := srv.Shutdown(sctx)
	if err != nil {
		_ = srv.Close()
		err = fmt.Errorf("shutdown: requests still in flight after %s were cut: %w", s.grace(), err)
	}
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}

// connKey is the context key of a connection's framingConn.
type connKey struct{}

func (s *Server) httpServer() *http.Server {
	var p http.Protocols
	p.SetHTTP1(true)
	if s.tlsCfg != nil {
		p.SetHTTP2(true)
	} else if s.cfg.H2C {
		p.SetUnencryptedHTTP2(true)
	}
	l := s.cfg.Limits
	return &http.Server{
		Handler:           s,
		Protocols:         &p,
		ReadHeaderTimeout: l.ReadHeaderTimeout,
		ReadTimeout:       l.ReadTimeout,
		WriteTimeout:      l.WriteTimeout,
		IdleTimeout:       l.IdleTimeout,
		// net/http allows 4KiB more than this; the framing guard refuses
		// larger heads first, with the edge's own 431.
		MaxHeaderBytes: int(l.MaxHeaderBytes),
		// OPTIONS * reaches the pipeline, which refuses it, instead of
		// net/http's built-in 200.
		DisableGeneralOptionsHandler: true,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			switch fc := c.(type) {
			case *framingConn:
				return context.WithValue(ctx, connKey{}, fc)
			case *handoffConn:
				return context.WithValue(ctx, connKey{}, fc.framingConn)
			}
			return ctx
		},
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
}

// isTrusted reports whether a is one of the trusted proxies.
func (sn *snapshot) isTrusted(a netip.Addr) bool {
	for _, p := range sn.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// bodyCounter counts the request body bytes read, for the access log, and
// keeps the first error reading it, so that a stage that failed because the
// viewer's body was broken is answered as the viewer's fault. It is
// allocated per request (never pooled): a transport may still read or close
// a request body after the handler returned.
type bodyCounter struct {
	rc  io.ReadCloser
	n   atomic.Int64
	err atomic.Pointer[error]
}

func (b *bodyCounter) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	b.n.Add(int64(n))
	if err != nil && err != io.EOF && b.err.Load() == nil {
		b.err.CompareAndSwap(nil, &err)
	}
	return n, err
}

// readErr is the first error reading the body other than io.EOF, or nil.
func (b *bodyCounter) readErr() error {
	if e := b.err.Load(); e != nil {
		return *e
	}
	return nil
}

func (b *bodyCounter) Close() error { return b.rc.Close() }
