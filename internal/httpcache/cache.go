package httpcache

import (
	"context"
	"fmt"
	"hash/crc32"
	"net/http"
	"net/textproto"
	"slices"
	"strings"
	"time"

	"github.com/edgeward/edgeward/internal/edge"
)

// Cache is one behavior's cache: its policy over the shared Store. It
// implements edge.Cache.
type Cache struct {
	s        *Store
	behavior string
	prefix   string // behavior and key-layout fingerprint, first in every key
	enabled  bool
	options  bool // OPTIONS responses are cached
	ttl      ttls
	m        *behaviorMetrics

	keyQuery, keyCookies             matcher
	keyHeaders                       []string // canonical
	keyHeaderSet                     map[string]bool
	fwdHeaders, fwdCookies, fwdQuery matcher
	compress, surrogate              bool
}

// Policy returns the cache of the behavior named behavior (its path
// pattern or any stable name: it is part of every key and of the metrics'
// labels). cfg is defaulted and validated here too.
func (s *Store) Policy(behavior string, cfg PolicyConfig) (*Cache, error) {
	cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &Cache{
		s:        s,
		behavior: behavior,
		enabled:  cfg.Enabled(),
		m:        s.metrics.behavior(behavior),
		ttl: ttls{
			min: cfg.MinTTL, def: *cfg.DefaultTTL, max: *cfg.MaxTTL,
			errorMin: *cfg.ErrorCachingMinTTL, errorTTLs: cfg.ErrorTTLs,
			staleIfError: cfg.StaleIfError, staleWhileReval: cfg.StaleWhileRevalidate,
			keepStale: *cfg.KeepStale, cacheSetCookie: cfg.CacheSetCookie,
			unreachable: *cfg.StaleIfUnreachable,
		},
		keyQuery:     compileList(cfg.Key.QueryStrings, false),
		keyCookies:   compileList(cfg.Key.Cookies, false),
		keyHeaderSet: map[string]bool{},
		fwdHeaders:   compileList(cfg.Forward.Headers, true),
		fwdCookies:   compileList(cfg.Forward.Cookies, false),
		fwdQuery:     compileList(cfg.Forward.QueryStrings, false),
		compress:     cfg.Compress,
		surrogate:    *cfg.SurrogateControl,
	}
	for _, m := range cfg.CachedMethods {
		c.options = c.options || m == http.MethodOptions
	}
	for _, h := range cfg.Key.Headers {
		h = textproto.CanonicalMIMEHeaderKey(h)
		if !c.keyHeaderSet[h] {
			c.keyHeaderSet[h] = true
			c.keyHeaders = append(c.keyHeaders, h)
		}
	}
	// A reload that changes the key's layout must not let new keys meet
	// old objects: the layout's fingerprint is part of every key.
	layout := fmt.Sprintf("%q %q %q %v", cfg.Key.QueryStrings, c.keyHeaders, cfg.Key.Cookies, cfg.Compress)
	c.prefix = fmt.Sprintf("%s\x00%08x", behavior, crc32.ChecksumIEEE([]byte(layout)))
	return c, nil
}

// Serve implements edge.Cache: it answers r from the cache or through o,
// stores what may be stored and sets r.Result. Its error contract is
// Origin's: an error means nothing was written to w (X-Cache is set in
// w's header map, for the edge's error page).
func (c *Cache) Serve(w http.ResponseWriter, r *edge.Request, o edge.Origin) error {
	req := r.HTTP
	switch {
	case !c.enabled || len(req.Header["Upgrade"]) > 0:
		return c.pass(w, r, o, r, nil)
	case c.ttl.max <= 0 && safeMethod(req.Method):
		// max_ttl 0 (CachingDisabled): nothing is stored, so nothing is
		// looked up or collapsed; the forwarding rules still apply.
		return c.pass(w, r, o, c.originRequest(r, req.Context(), nil, false), nil)
	case req.Method == http.MethodGet || req.Method == http.MethodHead:
	case req.Method == http.MethodOptions && c.options:
	case safeMethod(req.Method):
		return c.pass(w, r, o, c.originRequest(r, req.Context(), nil, false), nil)
	default:
		return c.pass(w, r, o, c.originRequest(r, req.Context(), nil, false), func(status int, h http.Header) {
			if status >= 200 && status < 400 {
				c.invalidateAfter(r, h)
			}
		})
	}

	if len(req.Header["If-Match"]) > 0 || len(req.Header["If-Unmodified-Since"]) > 0 {
		// Preconditions for a change are the origin's to evaluate.
		return c.pass(w, r, o, c.originRequest(r, req.Context(), nil, false), nil)
	}
	now := c.s.now()
	kb := c.s.key()
	defer c.s.putKey(kb)
	*kb = c.appendKey((*kb)[:0], r)
	path := req.URL.Path
	e, passing := c.lookup(r, path, *kb, now)
	var rcc directives
	if v := req.Header["Cache-Control"]; len(v) > 0 {
		rcc = parseCacheControl(v)
	}
	if e != nil {
		if e.fresh(now) && !e.revalidate {
			c.serveEntry(w, r, e, now, edge.ResultHit)
			return nil
		}
		if req.Method != http.MethodHead && e.staleWhileRevalidate(now) {
			c.serveEntry(w, r, e, now, edge.ResultHit)
			c.refresh(r, o, path, string(*kb), e)
			return nil
		}
	}
	if rcc.has(ccOnlyIfCached) {
		r.Result = edge.ResultError
		w.Header()["X-Cache"] = c.s.xError
		c.count(r.Result)
		return &edge.Error{Status: http.StatusGatewayTimeout, Msg: "not in cache (only-if-cached)"}
	}
	if req.Method == http.MethodHead || rcc.has(ccNoStore) ||
		(e == nil && (conditional(req.Header) || len(req.Header["Range"]) > 0)) {
		// HEAD has no body to store; a viewer's conditional or range
		// request with nothing stored goes to the origin as it is.
		return c.pass(w, r, o, c.originRequest(r, req.Context(), nil, false), nil)
	}
	key := string(*kb)
	if passing {
		return c.fill(w, r, o, path, key, e, nil)
	}
	f, leader := c.s.flights.join(key)
	if !leader {
		return c.follow(w, r, o, path, key, f)
	}
	return c.fill(w, r, o, path, key, e, f)
}

// lookup returns the stored object for r, if one is usable, and whether
// its key was recently uncacheable.
func (c *Cache) lookup(r *edge.Request, path string, key []byte, now time.Time) (*entry, bool) {
	entries, passing := c.s.get(path, key, now)
	if len(entries) == 0 {
		return nil, passing
	}
	var sb *[]byte
	defer func() {
		if sb != nil {
			c.s.putKey(sb)
		}
	}()
	for _, e := range entries {
		if !e.usable(now) {
			continue
		}
		if len(e.vary) == 0 {
			return e, passing
		}
		if sb == nil {
			sb = c.s.key()
		}
		*sb = c.appendVarySig((*sb)[:0], r, e.vary)
		if string(*sb) == e.varySig {
			return e, passing
		}
	}
	return nil, passing
}

// follow waits for the leader of f, then serves what it stored; if it
// stored nothing usable, the follower goes to the origin itself. It never
// waits past its own request's context.
func (c *Cache) follow(w http.ResponseWriter, r *edge.Request, o edge.Origin, path, key string, f *flight) error {
	ctx := r.HTTP.Context()
	select {
	case <-f.done:
	case <-ctx.Done():
		r.Result = edge.ResultError
		w.Header()["X-Cache"] = c.s.xError
		c.count(r.Result)
		return &edge.Error{Status: http.StatusGatewayTimeout, Msg: "origin timeout", Err: fmt.Errorf("waiting for a collapsed origin request: %w", ctx.Err())}
	}
	c.m.collapsed.Inc()
	now := c.s.now()
	e, _ := c.lookup(r, path, []byte(key), now)
	if e != nil && e.fresh(now) && !e.revalidate {
		c.serveEntry(w, r, e, now, edge.ResultHit)
		return nil
	}
	if f.err != nil {
		if e != nil && e.staleIfUnreachable(now) {
			c.serveEntry(w, r, e, now, edge.ResultHit)
			return nil
		}
		r.Result = edge.ResultError
		w.Header()["X-Cache"] = c.s.xError
		c.count(r.Result)
		return f.err
	}
	return c.fill(w, r, o, path, key, e, nil)
}

// fill fetches r from the origin, revalidating stale when it has a
// validator, streams the answer to the viewer and stores it if it may be
// stored. f, when set, is the flight it leads: finished on return, with
// the origin's error for the followers.
func (c *Cache) fill(w http.ResponseWriter, r *edge.Request, o edge.Origin, path, key string, stale *entry, f *flight) (err error) {
	ctx := r.HTTP.Context()
	var validators *entry
	if stale != nil && stale.hasValidator() {
		validators = stale
	}
	fr := c.originRequest(r, ctx, validators, true)
	authorization := c.identified(r)
	gen0 := c.s.inval.current()
	reqTime := c.s.now()
	var m *meta
	var why reason
	cw := newCapture(w, c.s.maxObject.Load(), func(status int, h http.Header) mode {
		m = parseMeta(status, h, c.surrogate, reqTime, c.s.now())
		switch {
		case status == http.StatusNotModified && validators != nil:
			return modeDiscard
		case stale != nil && serverError(status) && stale.staleIfError(m.responseTime):
			return modeDiscard
		}
		c.setResult(h, r, status)
		if why = c.ttl.storable(m, authorization); why != "" {
			return modeStream
		}
		return modeTee
	})

	done := false
	if f != nil {
		defer func() {
			if !done {
				f.err = nil // the leader panicked: followers try themselves
			}
			c.s.flights.finish(key, f)
		}()
	}
	ferr := o.Forward(cw, fr)
	done = true
	r.OriginTime = fr.OriginTime
	now := c.s.now()
	if ferr != nil {
		if stale != nil && stale.staleIfUnreachable(now) {
			c.serveEntry(w, r, stale, now, edge.ResultHit)
			return nil
		}
		if f != nil && ctx.Err() == nil {
			f.err = ferr
		}
		r.Result = edge.ResultError
		w.Header()["X-Cache"] = c.s.xError
		c.count(r.Result)
		return ferr
	}
	switch {
	case cw.mode == modeDiscard && cw.status == http.StatusNotModified:
		vary := m.vary
		if len(vary) == 0 {
			vary = stale.vary
		}
		e, _ := stale.refreshed(cw.header, m, &c.ttl, c.surrogate, vary, string(c.appendVarySig(nil, r, vary)))
		if c.s.update(path, key, gen0, now, swapFn(stale, e)) {
			c.m.stored.Inc()
		}
		c.serveEntry(w, r, e, now, edge.ResultRefreshHit)
	case cw.mode == modeDiscard:
		c.serveEntry(w, r, stale, now, edge.ResultHit)
	case cw.complete():
		e := newEntry(m, &c.ttl, storedHeader(cw.header, &m.cc), cw.buf, m.vary, string(c.appendVarySig(nil, r, m.vary)))
		if c.s.insert(path, key, e, gen0, now) {
			c.m.stored.Inc()
		}
	default:
		if why != "" || cw.overflow {
			c.s.markPass(path, key, now)
		}
		if stale != nil && why != "" && cw.status < 500 {
			c.s.remove(path, key, stale, now) // the origin no longer lets it be kept
		}
	}
	return nil
}

// swapFn replaces old by e among a key's variants, if old is still there.
func swapFn(old, e *entry) func(*variants) (*variants, bool) {
	return func(v *variants) (*variants, bool) {
		if v == nil {
			return nil, false
		}
		i := indexOf(v.entries, old)
		if i < 0 {
			return nil, false
		}
		entries := append([]*entry{e}, v.entries[:i]...)
		entries = append(entries, v.entries[i+1:]...)
		return &variants{entries: entries}, true
	}
}

// refresh revalidates (or refetches) e in the background while it is
// served stale (stale-while-revalidate), once at a time per object, with
// a context detached from the viewer's and bounded by RefreshTimeout.
func (c *Cache) refresh(r *edge.Request, o edge.Origin, path, key string, e *entry) {
	if !e.refreshing.CompareAndSwap(false, true) {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.HTTP.Context()), c.s.refreshTimeout)
	var validators *entry
	if e.hasValidator() {
		validators = e
	}
	fr := c.originRequest(r, ctx, validators, true)
	authorization := c.identified(r)
	sig := string(c.appendVarySig(nil, r, e.vary)) // now: r is not ours after return
	c.s.bg.Add(1)
	go func() {
		defer c.s.bg.Done()
		defer cancel()
		defer e.refreshing.Store(false)
		defer func() {
			if p := recover(); p != nil {
				c.s.log.Debug("cache refresh aborted", "behavior", c.behavior, "path", path, "panic", fmt.Sprint(p))
			}
		}()
		gen0 := c.s.inval.current()
		reqTime := c.s.now()
		var m *meta
		var why reason
		cw := newCapture(nil, c.s.maxObject.Load(), func(status int, h http.Header) mode {
			m = parseMeta(status, h, c.surrogate, reqTime, c.s.now())
			if status == http.StatusNotModified && validators != nil {
				return modeDiscard
			}
			if why = c.ttl.storable(m, authorization); why != "" {
				return modeDiscard
			}
			return modeBuffer
		})
		if err := o.Forward(cw, fr); err != nil {
			c.s.log.Debug("cache refresh failed", "behavior", c.behavior, "path", path, "error", err)
			return
		}
		now := c.s.now()
		switch {
		case cw.status == http.StatusNotModified && validators != nil:
			ne, _ := e.refreshed(cw.header, m, &c.ttl, c.surrogate, e.vary, sig)
			if c.s.update(path, key, gen0, now, swapFn(e, ne)) {
				c.m.stored.Inc()
			}
		case cw.complete() && slices.Equal(m.vary, e.vary):
			ne := newEntry(m, &c.ttl, storedHeader(cw.header, &m.cc), cw.buf, m.vary, sig)
			if c.s.insert(path, key, ne, gen0, now) {
				c.m.stored.Inc()
			}
		case why != "" && cw.status < 500:
			c.s.remove(path, key, e, now)
		}
	}()
}

// identified reports whether the request tells the origin who the viewer
// is in a way the key does not capture: an Authorization header, or a
// header the viewer-request function set (an owned header other than the
// edge's own request id and forwarding headers, e.g. x-user-id). Its
// response is stored only if the origin marks it public, s-maxage or
// must-revalidate (RFC 9111 3.5), so that a decision that swaps the token
// for an identity header cannot make a per-user answer shared.
func (c *Cache) identified(r *edge.Request) bool {
	for name := range r.HTTP.Header {
		if c.keyHeaderSet[name] {
			continue
		}
		if name == "Authorization" || (r.Owned(name) && !edgeHeader(name)) {
			return true
		}
	}
	return false
}

// edgeHeader reports whether an owned header is one the edge itself sets
// on every request (so it says nothing about the viewer).
func edgeHeader(name string) bool {
	switch name {
	case "X-Request-Id", "Forwarded", "Via", "X-Real-Ip", "True-Client-Ip":
		return true
	}
	return strings.HasPrefix(name, "X-Forwarded-")
}

// pass forwards fr (r itself, or its filtered copy) without caching.
func (c *Cache) pass(w http.ResponseWriter, r *edge.Request, o edge.Origin, fr *edge.Request, on func(int, http.Header)) error {
	sw := &statusWriter{ResponseWriter: w, c: c, r: r, on: on}
	err := o.Forward(sw, fr)
	if fr != r {
		r.OriginTime = fr.OriginTime
	}
	if err != nil {
		r.Result = edge.ResultError
		w.Header()["X-Cache"] = c.s.xError
		c.count(r.Result)
	}
	return err
}

// originRequest is the request sent to the origin for r: only the headers,
// cookies and query parameters that are in the key, in forward, or owned
// by the edge (see the package documentation); with validators' ETag and
// Last-Modified as conditions (a revalidation); with the viewer's own
// conditions and Range removed when strip is set (a fill, whose answer is
// stored whole).
func (c *Cache) originRequest(r *edge.Request, ctx context.Context, validators *entry, strip bool) *edge.Request {
	in := r.HTTP
	out := in.Clone(ctx)
	for name := range out.Header {
		if name != "Cookie" && name != "Accept-Encoding" && !c.forwarded(r, name) {
			delete(out.Header, name)
		}
	}
	if v := c.forwardCookies(in.Header["Cookie"]); v != "" {
		out.Header["Cookie"] = []string{v}
	} else {
		delete(out.Header, "Cookie")
	}
	switch {
	case c.compress:
		out.Header["Accept-Encoding"] = []string{normalizeEncoding(in.Header["Accept-Encoding"])}
	case !c.forwarded(r, "Accept-Encoding"):
		delete(out.Header, "Accept-Encoding")
	}
	out.URL.RawQuery = c.forwardQuery(in.URL.RawQuery)
	if c.surrogate {
		out.Header["Surrogate-Capability"] = []string{surrogateCapability}
	}
	if strip {
		for _, h := range [...]string{"If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since", "If-Range", "Range"} {
			delete(out.Header, h)
		}
	}
	if validators != nil {
		if validators.etag != "" {
			out.Header["If-None-Match"] = []string{validators.etag}
		}
		if validators.lastModified != "" {
			out.Header["If-Modified-Since"] = []string{validators.lastModified}
		}
	}
	fr := *r
	fr.HTTP = out
	return &fr
}

// invalidateAfter invalidates what an unsafe request changed: its own
// path, and the same-origin Location and Content-Location of its
// successful response (RFC 9111 4.4).
func (c *Cache) invalidateAfter(r *edge.Request, h http.Header) {
	c.s.invalidatePath(r.HTTP.URL.Path)
	for _, name := range [...]string{"Location", "Content-Location"} {
		v := h[name]
		if len(v) != 1 {
			continue
		}
		u, err := r.HTTP.URL.Parse(v[0])
		if err != nil || (u.Host != "" && !equalFoldHost(u.Host, r.Host)) || (u.Scheme != "" && u.Scheme != r.Scheme) {
			continue
		}
		c.s.invalidatePath(u.Path)
	}
}

func equalFoldHost(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// safeMethod reports whether a method is safe (RFC 9110 9.2.1): it does
// not invalidate stored responses.
func safeMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	return false
}

// conditional reports whether a request carries preconditions.
func conditional(h http.Header) bool {
	return len(h["If-None-Match"]) > 0 || len(h["If-Modified-Since"]) > 0 ||
		len(h["If-Match"]) > 0 || len(h["If-Unmodified-Since"]) > 0 || len(h["If-Range"]) > 0
}

// serverError lists the statuses stale-if-error covers (RFC 5861 4).
func serverError(status int) bool {
	switch status {
	case 500, 502, 503, 504:
		return true
	}
	return false
}

var _ edge.Cache = (*Cache)(nil)
