package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Limits bound a viewer's connections. They are read once per accepted
// connection: see Server.SetLimits.
type Limits struct {
	// ReadHeaderTimeout bounds the TLS handshake and each request head from
	// its first byte (the first head from the connection's start).
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading a whole request (0: none).
	ReadTimeout time.Duration
	// WriteTimeout bounds writing a response (0: none).
	WriteTimeout time.Duration
	// IdleTimeout closes a keep-alive connection idle this long.
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds a request head; a larger one is refused (431).
	MaxHeaderBytes int
	// MaxConnections bounds the connections open at once (0: none);
	// further ones wait in the kernel's accept queue.
	MaxConnections int
}

// Options configure a Server for its whole life.
type Options struct {
	// Limits are the initial limits (see SetLimits).
	Limits Limits
	// Certificate turns the listener into HTTPS with HTTP/2 and HTTP/1.1
	// (ALPN); nil serves plain HTTP.
	Certificate *tls.Certificate
	// H2C serves HTTP/2 with prior knowledge on a plain listener.
	H2C bool
	// FastLane serves plain bodiless GET and HEAD requests with the
	// transport's own reader and writer (see h1.go); false hands every
	// connection to net/http.
	FastLane bool
	// ShutdownGrace returns how long in-flight requests may take to
	// finish once Serve's context is done; it is asked then, so that a
	// reload can change it (nil: no grace).
	ShutdownGrace func() time.Duration
	// Logger receives the transport's diagnostics (nil: discarded).
	Logger *slog.Logger
}

// Server serves viewer connections on one listener: TLS, the framing
// guard, the fast lane and net/http, feeding every request to one
// HandlerFunc.
type Server struct {
	h     HandlerFunc
	std   stdHandler
	opts  Options
	log   *slog.Logger
	tls   *tls.Config // nil: plain HTTP
	lim   atomic.Pointer[Limits]
	cert  atomic.Pointer[tls.Certificate]
	serve atomic.Bool // Serve was called

	mu      sync.Mutex
	cur     *gen          // the generation new connections join; nil before Serve
	gens    map[*gen]bool // generations with connections, or current
	closing bool
	conns   *limiter
	fast    *h1Server
	hs      sync.WaitGroup // TLS handshakes in flight
}

// New returns a Server that gives every request to h.
func New(h HandlerFunc, o Options) *Server {
	s := &Server{h: h, std: stdHandler{h: h}, opts: o, log: o.Logger, gens: map[*gen]bool{}}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.lim.Store(&o.Limits)
	if o.Certificate != nil {
		s.cert.Store(o.Certificate)
		s.tls = &tls.Config{
			GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return s.cert.Load(), nil },
			MinVersion:     tls.VersionTLS12,
			NextProtos:     []string{"h2", "http/1.1"},
		}
	}
	return s
}

// SetLimits replaces the limits for connections accepted from now on.
// Connections already open keep the limits they were accepted under until
// they close (a timeout or header limit never changes under a request in
// progress); the connection bound applies at once: a lower
// MaxConnections holds new connections back until enough old ones have
// closed.
func (s *Server) SetLimits(l Limits) {
	s.lim.Store(&l)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur == nil || s.closing {
		return
	}
	old := s.cur
	s.cur = s.newGen(l, old.handoff.addr)
	s.conns.setMax(l.MaxConnections)
	old.retired = true
	if old.refs == 0 {
		s.dropLocked(old)
	}
}

// Limits returns the limits new connections get.
func (s *Server) Limits() Limits { return *s.lim.Load() }

// SetCertificate replaces the TLS certificate for handshakes from now on;
// connections already open keep theirs. It fails on a plain-HTTP server:
// turning TLS on or off needs a new listener.
func (s *Server) SetCertificate(c *tls.Certificate) error {
	if s.tls == nil {
		return errors.New("the listener serves plain HTTP: adding a certificate needs a restart")
	}
	if c == nil {
		return errors.New("no certificate: turning TLS off needs a restart")
	}
	s.cert.Store(c)
	return nil
}

// TLS reports whether the server terminates TLS.
func (s *Server) TLS() bool { return s.tls != nil }

// Serve serves viewers on ln until ctx is done. Then it stops accepting
// connections, lets in-flight requests finish for up to
// Options.ShutdownGrace, and closes what is left. It returns nil after a
// graceful shutdown. A Server serves once.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if s.serve.Swap(true) {
		return errors.New("transport: Serve called twice")
	}
	addr := ln.Addr()
	lim := s.Limits()
	s.mu.Lock()
	s.conns = newLimiter(lim.MaxConnections)
	if s.opts.FastLane {
		s.fast = newH1Server(s)
	}
	s.cur = s.newGen(lim, addr)
	s.mu.Unlock()
	s.log.Info("edge listening", "addr", addr.String(), "tls", s.tls != nil, "h2c", s.opts.H2C && s.tls == nil)

	hctx, stopHandshakes := context.WithCancel(context.Background())
	defer stopHandshakes()
	accepted := make(chan error, 1)
	go func() { accepted <- s.accept(hctx, ln) }()
	var early error
	select {
	case early = <-accepted:
	case <-ctx.Done():
	}

	var grace time.Duration
	if s.opts.ShutdownGrace != nil {
		grace = s.opts.ShutdownGrace()
	}
	s.log.Info("edge shutting down", "addr", addr.String(), "grace", grace)
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
	if s.fast != nil {
		s.fast.shutting.Store(true)
	}
	ln.Close()
	s.conns.close()
	if ctx.Err() != nil {
		early = <-accepted
	}
	stopHandshakes()
	s.hs.Wait()

	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err := s.shutdown(sctx)
	if err != nil {
		err = fmt.Errorf("shutdown: requests still in flight after %s were cut: %w", grace, err)
	}
	if early != nil && !errors.Is(early, http.ErrServerClosed) {
		return early
	}
	return err
}

// shutdown shuts the fast lane and every generation's net/http server down
// at once, bounded by ctx.
func (s *Server) shutdown(ctx context.Context) error {
	s.mu.Lock()
	gens := make([]*gen, 0, len(s.gens))
	for g := range s.gens {
		gens = append(gens, g)
	}
	s.mu.Unlock()
	errc := make(chan error, len(gens)+1)
	if s.fast != nil {
		go func() { errc <- s.fast.shutdown(ctx) }()
	} else {
		errc <- nil
	}
	for _, g := range gens {
		go func() {
			err := g.srv.Shutdown(ctx)
			if err != nil {
				_ = g.srv.Close()
			}
			<-g.done
			errc <- err
		}()
	}
	var first error
	for range len(gens) + 1 {
		if err := <-errc; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// accept accepts connections until ln fails or closes.
func (s *Server) accept(hctx context.Context, ln net.Listener) error {
	var delay time.Duration
	for {
		if !s.conns.acquire() {
			return http.ErrServerClosed
		}
		c, err := ln.Accept()
		if err != nil {
			s.conns.release()
			if s.isClosing() || errors.Is(err, net.ErrClosed) {
				return http.ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				// As net/http does for temporary accept errors.
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			return err
		}
		delay = 0
		if !s.conns.settle() {
			c.Close()
			s.conns.release()
			return http.ErrServerClosed
		}
		g := s.join()
		if g == nil {
			c.Close()
			s.conns.release()
			return http.ErrServerClosed
		}
		rc := &rawConn{Conn: c, lim: s.conns, gen: g}
		if s.tls != nil {
			s.hs.Add(1)
			go s.handshake(hctx, rc, g)
			continue
		}
		s.dispatch(newFramingConn(rc, g.lim.MaxHeaderBytes, g.lim.ReadHeaderTimeout), g)
	}
}

func (s *Server) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// handshake terminates TLS itself, bounded by ReadHeaderTimeout, so that
// HTTP/1.1 over TLS gets the framing guard too: a connection that
// negotiated "h2" goes to net/http as the *tls.Conn it expects (HTTP/2
// framing has no such ambiguity), any other under the guard. Handshakes
// run in their own goroutines, so a slow client never holds up Accept.
func (s *Server) handshake(hctx context.Context, c net.Conn, g *gen) {
	defer s.hs.Done()
	tc := tls.Server(c, s.tls)
	ctx, cancel := context.WithTimeout(hctx, g.lim.ReadHeaderTimeout)
	err := tc.HandshakeContext(ctx)
	cancel()
	if err != nil {
		_ = c.Close()
		return
	}
	st := tc.ConnectionState()
	if st.NegotiatedProtocol == "h2" {
		g.handoff.give(tc)
		return
	}
	fc := newFramingConn(tc, g.lim.MaxHeaderBytes, g.lim.ReadHeaderTimeout)
	fc.tls = &st
	s.dispatch(fc, g)
}

// dispatch gives an HTTP/1.x connection to the fast lane, or to net/http.
func (s *Server) dispatch(fc *framingConn, g *gen) {
	if s.fast == nil {
		g.handoff.give(fc)
		return
	}
	if hc := s.fast.track(fc, g); hc != nil {
		go hc.serve()
	}
}
