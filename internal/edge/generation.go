package edge

import (
	"crypto/tls"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Generation is one configuration's worth of what the pipeline serves. A
// reload builds a new Generation and hands it to Reload; requests already
// in the pipeline finish with the generation they started with.
type Generation struct {
	// Config is the viewer side of the new file. Its request rules
	// (trusted_proxies, paths, owned and override headers, the body, URI
	// and response-buffer limits) apply to the next request; its
	// listener limits and certificate to the next connection (see
	// live.go). listen, h2c and the fast lane stay as the listener
	// started.
	Config Config
	// Behaviors are compiled and validated by Reload.
	Behaviors []Behavior
	// OwnedHeaders are the functions' owned headers (Options.OwnedHeaders).
	OwnedHeaders []string
	// AccessLog receives one Record per finished request (nil: none).
	AccessLog Logger
	// Drained is called once, after this generation has been replaced and
	// its last request has finished, or the replacing generation's
	// shutdown grace has passed with requests still in it. It releases
	// what was built for the generation (origin pools, files, goroutines).
	Drained func()
}

// lifetime counts a generation's requests so that what was built for it is
// released exactly when nothing can use it any more.
//
// The protocol needs no lock on the request path: a request adds itself,
// then checks retired; Reload stores the new generation, sets retired, then
// reads the count. With sequentially consistent atomics either the request
// sees retired (and moves to the new generation) or Reload sees the
// request (and the last release drains).
type lifetime struct {
	inflight atomic.Int64
	retired  atomic.Bool
	once     sync.Once
	drained  func()
	timer    atomic.Pointer[time.Timer]
}

// acquire returns the current snapshot with the request counted in it.
func (s *Server) acquire() *snapshot {
	for {
		sn := s.snap.Load()
		sn.life.inflight.Add(1)
		if !sn.life.retired.Load() {
			return sn
		}
		sn.release() // replaced in between: the new one is stored already
	}
}

// release ends a request's use of sn.
func (sn *snapshot) release() {
	if sn.life.inflight.Add(-1) == 0 && sn.life.retired.Load() {
		sn.drain()
	}
}

// retire marks sn replaced: it drains when its last request ends, or after
// grace at the latest.
func (sn *snapshot) retire(grace time.Duration) {
	sn.life.retired.Store(true)
	if sn.life.inflight.Load() == 0 {
		sn.drain()
		return
	}
	t := time.AfterFunc(grace, sn.drain)
	sn.life.timer.Store(t)
}

// drain runs the generation's Drained once.
func (sn *snapshot) drain() {
	sn.life.once.Do(func() {
		if t := sn.life.timer.Load(); t != nil {
			t.Stop()
		}
		if sn.life.drained != nil {
			sn.life.drained()
		}
	})
}

// Reload validates g and makes it the generation every new request uses.
// The previous generation drains (see Generation.Drained). On error the
// running generation stays and g.Drained is not called.
func (s *Server) Reload(g Generation) error {
	s.swap.Lock()
	defer s.swap.Unlock()
	sn, err := s.compile(g)
	if err != nil {
		return err
	}
	prev := s.snap.Swap(sn)
	s.applyListener(sn)
	if prev != nil {
		prev.retire(sn.cfg.ShutdownGrace)
	}
	return nil
}

// Update swaps the behaviors and the functions' owned headers, keeping
// the running Config and access log, for callers that own no
// per-generation resources; Reload is the whole swap.
func (s *Server) Update(behaviors []Behavior, owned []string) error {
	cur := s.snap.Load()
	return s.Reload(Generation{Config: *cur.cfg, Behaviors: behaviors, OwnedHeaders: owned, AccessLog: cur.access})
}

// compile builds a snapshot from g, or says everything wrong with it.
func (s *Server) compile(g Generation) (*snapshot, error) {
	cfg := g.Config
	cfg.Defaults()
	var errs []error
	if err := cfg.Validate(); err != nil {
		errs = append(errs, err)
	}
	routes, err := compileBehaviors(g.Behaviors)
	if err != nil {
		errs = append(errs, err)
	}
	for _, h := range g.OwnedHeaders {
		if !validHeaderName(h) {
			errs = append(errs, fmt.Errorf("owned header %q: not a header name", h))
		}
	}
	var cert *tls.Certificate
	if len(errs) == 0 {
		if cert, err = s.listenerCert(&cfg); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for i := range routes {
		routes[i].m = s.m.forRoute(routes[i].b.PathPattern, routes[i].b.OriginID)
	}
	sn := &snapshot{
		routes:   routes,
		owned:    newOwnedSet(isTrue(cfg.StripOverrideHeaders, true), cfg.OwnedHeaders, g.OwnedHeaders),
		early:    s.m.forRoute("-", "-"),
		cfg:      &cfg,
		pathOpts: cfg.PathOptions(),
		access:   g.AccessLog,
		cert:     cert,
	}
	sn.life.drained = g.Drained
	for _, p := range cfg.TrustedProxies {
		pfx, _ := parsePrefix(p) // checked by Validate
		sn.trusted = append(sn.trusted, pfx)
	}
	return sn, nil
}

// grace is the current generation's shutdown grace: a reload changes it.
func (s *Server) grace() time.Duration { return s.snap.Load().cfg.ShutdownGrace }
