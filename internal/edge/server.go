package edge

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"

	"github.com/edgeward/edgeward/internal/requestid"
	"github.com/edgeward/edgeward/internal/transport"
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
	// Drained is the first generation's Generation.Drained: it releases
	// what was built for the behaviors given to New once a Reload has
	// replaced them and their last request has ended.
	Drained func()
}

// Server is the viewer side of the edge: an http.Handler running the
// pipeline, and the listener that feeds it.
type Server struct {
	cfg    Config // as given to New: the listener's settings
	log    *slog.Logger
	m      *metrics
	ids    *requestid.Source
	tr     *transport.Server // the listener: TLS, framing guard, fast lane
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
		ids:    requestid.New(),
		fails:  newFailureLog(),
		tracer: opts.Tracer,
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	topts := transport.Options{
		Limits:        cfg.Limits.transport(),
		H2C:           cfg.H2C,
		FastLane:      isTrue(cfg.HTTP1FastLane, true),
		ShutdownGrace: s.grace,
		Logger:        s.log,
	}
	if cfg.TLS.Enabled() {
		cert, err := loadCertificate(cfg.TLS)
		if err != nil {
			return nil, err
		}
		topts.Certificate = cert
	}
	s.tr = transport.New(s.serve, topts)
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	s.m = m
	err = s.Reload(Generation{Config: cfg, Behaviors: behaviors, OwnedHeaders: opts.OwnedHeaders, AccessLog: opts.AccessLog, Drained: opts.Drained})
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
// connections, lets in-flight requests finish for up to the current
// generation's shutdown_grace, and closes what is left. It returns nil
// after a graceful shutdown.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	addr := ln.Addr()
	s.addr.Store(&addr)
	return s.tr.Serve(ctx, ln)
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
