package transport

import (
	"log/slog"
	"net"
	"net/http"
)

// gen is one generation of limits: the connections accepted while they
// were current, and the net/http server that serves those of them it is
// handed. net/http reads its timeouts from http.Server fields that cannot
// change while it serves, so new limits get a new http.Server, and the old
// one serves its connections to the end and is then dropped.
type gen struct {
	lim     Limits
	srv     *http.Server
	handoff *handoffListener
	done    chan struct{} // srv.Serve returned
	s       *Server

	// Guarded by s.mu.
	refs    int  // connections accepted under this generation still open
	retired bool // no longer current
}

// newGen builds the generation for l and starts its net/http server.
// s.mu is held.
func (s *Server) newGen(l Limits, addr net.Addr) *gen {
	var p http.Protocols
	p.SetHTTP1(true)
	if s.tls != nil {
		p.SetHTTP2(true)
	} else if s.opts.H2C {
		p.SetUnencryptedHTTP2(true)
	}
	g := &gen{lim: l, handoff: newHandoffListener(addr), done: make(chan struct{}), s: s}
	g.srv = &http.Server{
		Handler:           s.std,
		Protocols:         &p,
		ReadHeaderTimeout: l.ReadHeaderTimeout,
		ReadTimeout:       l.ReadTimeout,
		WriteTimeout:      l.WriteTimeout,
		IdleTimeout:       l.IdleTimeout,
		// net/http allows 4KiB more than this; the framing guard refuses
		// larger heads first, with the handler's own 431.
		MaxHeaderBytes: l.MaxHeaderBytes,
		HTTP2:          http2Config(),
		// OPTIONS * reaches the handler, which may refuse it, instead of
		// net/http's built-in 200.
		DisableGeneralOptionsHandler: true,
		ConnContext:                  connContext,
		ErrorLog:                     slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	s.gens[g] = true
	go func() {
		defer close(g.done)
		_ = g.srv.Serve(g.handoff)
	}()
	return g
}

// join returns the current generation with a reference taken for a new
// connection, or nil once shutting down.
func (s *Server) join() *gen {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return nil
	}
	s.cur.refs++
	return s.cur
}

// release drops a connection's reference; the last one of a retired
// generation stops its net/http server.
func (g *gen) release() {
	s := g.s
	s.mu.Lock()
	defer s.mu.Unlock()
	g.refs--
	if g.retired && g.refs == 0 && !s.closing {
		s.dropLocked(g)
	}
}

// dropLocked stops a generation that serves nothing any more. s.mu is
// held.
func (s *Server) dropLocked(g *gen) {
	if !s.gens[g] {
		return
	}
	delete(s.gens, g)
	g.handoff.Close()
	go g.srv.Close() // returns at once: it has no connections
}
