package httpcache

import (
	"fmt"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/maypok86/otter/v2"
	"github.com/prometheus/client_golang/prometheus"
)

// Limits of the store's structures. They bound memory and work per path;
// past them objects are simply not cached.
const (
	maxWeight        = math.MaxUint32 >> 1 // the largest weight of one path
	maxKeysPerPath   = 1024                // variant keys (query, key headers...) per path
	maxVaryPerKey    = 16                  // Vary variants per key
	nodeOverhead     = 256                 // bytes counted per path beyond its objects
	entryOverhead    = 256                 // bytes counted per object beyond body and headers
	passTTL          = 10 * time.Second    // how long an uncacheable key skips collapsing
	emptyNodeTTL     = time.Minute         // how long a path with no object lingers
	defaultRefresh   = 30 * time.Second    // background refresh timeout
	invalidationRing = 4096                // recent invalidations kept for in-flight fills
	coarseResolution = 10 * time.Millisecond
)

// Options are a Store's dependencies.
type Options struct {
	// Logger receives background refresh failures at debug level; nil
	// discards.
	Logger *slog.Logger
	// Registerer receives the cache metrics; nil registers none.
	Registerer prometheus.Registerer
	// Clock replaces time.Now (tests).
	Clock func() time.Time
	// RefreshTimeout bounds a background (stale-while-revalidate)
	// refresh. Default 30s.
	RefreshTimeout time.Duration
}

// Store is the memory shared by every behavior's cache: a byte-weighted
// W-TinyLFU cache (otter) of paths, each holding the objects stored for
// it, plus request collapsing and invalidations. One Store serves a whole
// edge across configuration reloads; Policy gives each behavior its Cache.
type Store struct {
	cfg            StoreConfig
	log            *slog.Logger
	now            func() time.Time
	refreshTimeout time.Duration
	cache          *otter.Cache[string, *node]
	flights        flightGroup
	inval          invalidationLog
	metrics        *metrics
	keys           sync.Pool
	bg             sync.WaitGroup
	coarse         *otter.CoarseClock // nil with Options.Clock
	history        history
	maxObject      atomic.Int64 // StoreConfig.MaxObjectSize; Resize changes it

	// Shared header values, never modified (cap == len, so an append by
	// a later stage copies them).
	xHit, xRefreshHit, xMiss, xError []string
}

// node holds the objects of one path. Objects are grouped by path so that
// an invalidation of a path, whatever the query, headers or cookies in
// the key, is one removal.
type node struct {
	path      string
	weight    atomic.Uint32
	expiresAt atomic.Int64 // unix nanoseconds

	mu   sync.RWMutex
	dead bool                 // removed by an invalidation: writers must not use it
	sets map[string]*variants // by variant key
}

// variants are the objects stored under one variant key: one per Vary
// signature, newest first. The slice is replaced, never modified, so
// readers may use it after unlocking.
type variants struct {
	entries   []*entry
	passUntil int64 // unix nanoseconds: the last response was not cacheable
}

// NewStore builds the shared store. cfg is defaulted and validated here
// too, so a zero StoreConfig works.
func NewStore(cfg StoreConfig, opts Options) (*Store, error) {
	cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Store{
		cfg:            cfg,
		log:            opts.Logger,
		now:            opts.Clock,
		refreshTimeout: opts.RefreshTimeout,
		xHit:           []string{"Hit from edgeward"},
		xRefreshHit:    []string{"RefreshHit from edgeward"},
		xMiss:          []string{"Miss from edgeward"},
		xError:         []string{"Error from edgeward"},
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		// Reading the precise time is a large part of a hit; freshness is
		// counted in seconds, so a clock read every 10ms is plenty.
		s.coarse = otter.NewCoarseClock(coarseResolution)
		s.now = func() time.Time { return time.Unix(0, s.coarse.NowNano()) }
	}
	if s.refreshTimeout <= 0 {
		s.refreshTimeout = defaultRefresh
	}
	s.maxObject.Store(int64(cfg.MaxObjectSize))
	s.keys.New = func() any { b := make([]byte, 0, 512); return &b }
	s.flights.m = map[string]*flight{}
	s.history.byID = map[string]Invalidation{}
	m, err := newMetrics(opts.Registerer, s)
	if err != nil {
		return nil, err
	}
	s.metrics = m
	o := &otter.Options[string, *node]{
		MaximumWeight:    uint64(cfg.MaxSize),
		Weigher:          func(_ string, n *node) uint32 { return n.weight.Load() },
		ExpiryCalculator: nodeExpiry{s},
		OnDeletion: func(e otter.DeletionEvent[string, *node]) {
			if e.Cause == otter.CauseOverflow {
				s.metrics.evictions.Inc()
			}
		},
	}
	if opts.Clock != nil {
		o.Clock = clock{opts.Clock}
	} else {
		o.Clock = s.coarse
	}
	c, err := otter.New(o)
	if err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	s.cache = c
	return s, nil
}

// Close waits for background refreshes and stops the store's goroutines.
func (s *Store) Close() {
	s.bg.Wait()
	s.cache.StopAllGoroutines()
	if s.coarse != nil {
		s.coarse.Stop()
	}
}

// Size is the number of bytes held, as weighed against max_size.
func (s *Store) Size() int64 {
	s.cache.CleanUp()
	return int64(s.cache.WeightedSize())
}

// clock adapts Options.Clock for otter; it has no ticks, so expired paths
// leave on access or eviction (tests).
type clock struct{ now func() time.Time }

func (c clock) NowNano() int64                      { return c.now().UnixNano() }
func (c clock) Tick(time.Duration) <-chan time.Time { return nil }

// nodeExpiry expires a path when its longest-lived object may go.
type nodeExpiry struct{ s *Store }

func (x nodeExpiry) ExpireAfterCreate(e otter.Entry[string, *node]) time.Duration {
	return time.Duration(e.Value.expiresAt.Load() - x.s.now().UnixNano())
}

func (x nodeExpiry) ExpireAfterUpdate(e otter.Entry[string, *node], _ *node) time.Duration {
	return x.ExpireAfterCreate(e)
}

func (x nodeExpiry) ExpireAfterRead(e otter.Entry[string, *node]) time.Duration {
	return e.ExpiresAfter()
}

func (s *Store) key() *[]byte { return s.keys.Get().(*[]byte) }
func (s *Store) putKey(b *[]byte) {
	if cap(*b) <= 16<<10 {
		*b = (*b)[:0]
		s.keys.Put(b)
	}
}

// get returns the objects stored under path and variant key, and whether
// the key is marked uncacheable (skip collapsing).
func (s *Store) get(path string, key []byte, now time.Time) ([]*entry, bool) {
	n, ok := s.cache.GetIfPresent(path)
	if !ok {
		return nil, false
	}
	n.mu.RLock()
	v := n.sets[string(key)]
	dead := n.dead
	n.mu.RUnlock()
	if v == nil || dead {
		return nil, false
	}
	return v.entries, v.passUntil > now.UnixNano()
}

// node returns the live node of path, creating it.
func (s *Store) node(path string, now time.Time) *node {
	if n, ok := s.cache.GetIfPresent(path); ok {
		return n
	}
	n := &node{path: path, sets: map[string]*variants{}}
	n.weight.Store(nodeOverhead + uint32(len(path)))
	n.expiresAt.Store(now.Add(emptyNodeTTL).UnixNano())
	n, _ = s.cache.SetIfAbsent(path, n)
	return n
}

// update applies fn to the variants of key under path and re-weighs the
// path. fn returns the new variants (nil removes the key) and false to
// leave everything unchanged. Unless gen0 is 0, nothing is written if
// path was invalidated after gen0 was read: a fill that started before an
// invalidation must not store what it fetched.
func (s *Store) update(path, key string, gen0 uint64, now time.Time, fn func(old *variants) (*variants, bool)) bool {
	for range 3 {
		n := s.node(path, now)
		n.mu.Lock()
		if n.dead {
			n.mu.Unlock()
			continue
		}
		if gen0 != 0 && s.inval.since(gen0, path) {
			n.mu.Unlock()
			return false
		}
		old, exists := n.sets[key]
		nv, ok := fn(old)
		if !ok {
			n.mu.Unlock()
			return false
		}
		if nv == nil {
			delete(n.sets, key)
		} else {
			if !exists && len(n.sets) >= maxKeysPerPath {
				for k := range n.sets { // make room: drop an arbitrary key
					delete(n.sets, k)
					break
				}
			}
			n.sets[key] = nv
		}
		if !n.reweigh(now) {
			// One path may not outweigh what otter can count: undo.
			if exists {
				n.sets[key] = old
			} else {
				delete(n.sets, key)
			}
			n.reweigh(now)
			n.mu.Unlock()
			return false
		}
		n.mu.Unlock()
		s.cache.Compute(path, func(old *node, found bool) (*node, otter.ComputeOp) {
			if found && old == n {
				return n, otter.WriteOp
			}
			return old, otter.CancelOp
		})
		return true
	}
	return false
}

// reweigh drops expired objects and recomputes the weight and expiry of
// the path; false if the weight is past maxWeight. n.mu must be held.
func (n *node) reweigh(now time.Time) bool {
	w := int64(nodeOverhead + len(n.path))
	exp := now.Add(emptyNodeTTL).UnixNano()
	nowNano := now.UnixNano()
	for k, v := range n.sets {
		live := v.entries[:0:0]
		for _, e := range v.entries {
			if e.removeAt > nowNano {
				live = append(live, e)
			}
		}
		if len(live) != len(v.entries) {
			if len(live) == 0 && v.passUntil <= nowNano {
				delete(n.sets, k)
				continue
			}
			n.sets[k] = &variants{entries: live, passUntil: v.passUntil}
		}
		w += int64(len(k)) + 64
		for _, e := range live {
			w += e.size
			exp = max(exp, e.removeAt)
		}
		exp = max(exp, v.passUntil)
	}
	n.weight.Store(uint32(min(w, maxWeight)))
	n.expiresAt.Store(exp)
	return w <= maxWeight
}

// insert stores e under path and key, replacing the object with the same
// Vary signature.
func (s *Store) insert(path, key string, e *entry, gen0 uint64, now time.Time) bool {
	return s.update(path, key, gen0, now, func(old *variants) (*variants, bool) {
		entries := []*entry{e}
		if old != nil {
			for _, o := range old.entries {
				if o.varySig != e.varySig && len(entries) < maxVaryPerKey {
					entries = append(entries, o)
				}
			}
		}
		return &variants{entries: entries}, true
	})
}

// replace swaps old for e (a refreshed copy) if old is still stored.
func (s *Store) replace(path, key string, old, e *entry, now time.Time) bool {
	return s.update(path, key, 0, now, func(v *variants) (*variants, bool) {
		if v == nil {
			return nil, false
		}
		i := indexOf(v.entries, old)
		if i < 0 {
			return nil, false
		}
		entries := append([]*entry{e}, v.entries[:i]...)
		entries = append(entries, v.entries[i+1:]...)
		return &variants{entries: entries, passUntil: v.passUntil}, true
	})
}

// remove drops old if it is still stored.
func (s *Store) remove(path, key string, old *entry, now time.Time) {
	s.update(path, key, 0, now, func(v *variants) (*variants, bool) {
		if v == nil {
			return nil, false
		}
		i := indexOf(v.entries, old)
		if i < 0 {
			return nil, false
		}
		entries := append(v.entries[:i:i], v.entries[i+1:]...)
		if len(entries) == 0 && v.passUntil <= now.UnixNano() {
			return nil, true
		}
		return &variants{entries: entries, passUntil: v.passUntil}, true
	})
}

// markPass records that key's last response could not be stored, so that
// requests for it stop waiting on each other for a while.
func (s *Store) markPass(path, key string, now time.Time) {
	s.update(path, key, 0, now, func(v *variants) (*variants, bool) {
		until := now.Add(passTTL).UnixNano()
		if v == nil {
			return &variants{passUntil: until}, true
		}
		return &variants{entries: v.entries, passUntil: until}, true
	})
}

func indexOf(es []*entry, e *entry) int {
	for i, x := range es {
		if x == e {
			return i
		}
	}
	return -1
}

// flight is one origin request that concurrent misses for the same key
// wait for instead of sending their own.
type flight struct {
	done chan struct{}
	// err is the origin error the leader got (nothing was written), for
	// followers to share; nil otherwise.
	err error
}

// flightGroup tracks the flights in progress.
type flightGroup struct {
	mu sync.Mutex
	m  map[string]*flight
}

// join returns the flight for key and whether the caller leads it.
func (g *flightGroup) join(key string) (*flight, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if f, ok := g.m[key]; ok {
		return f, false
	}
	f := &flight{done: make(chan struct{})}
	g.m[key] = f
	return f, true
}

// finish ends the leader's flight and wakes its followers.
func (g *flightGroup) finish(key string, f *flight) {
	g.mu.Lock()
	if g.m[key] == f {
		delete(g.m, key)
	}
	g.mu.Unlock()
	close(f.done)
}

// invalidationLog numbers invalidations and keeps the recent ones so that
// a fill that started before an invalidation of its path does not store.
type invalidationLog struct {
	gen  atomic.Uint64
	mu   sync.Mutex
	ring [invalidationRing]invalRecord
}

type invalRecord struct {
	gen    uint64
	path   string
	prefix bool
}

// current is the generation to read before fetching from the origin
// (never 0).
func (l *invalidationLog) current() uint64 { return l.gen.Load() + 1 }

// add records an invalidation of path (a prefix when prefix is set).
func (l *invalidationLog) add(path string, prefix bool) {
	l.mu.Lock()
	g := l.gen.Load() + 1
	l.ring[g%invalidationRing] = invalRecord{gen: g, path: path, prefix: prefix}
	l.gen.Store(g)
	l.mu.Unlock()
}

// since reports whether path was invalidated after generation gen0 (as
// returned by current), conservatively true when the records are gone.
func (l *invalidationLog) since(gen0 uint64, path string) bool {
	last := l.gen.Load()
	if last < gen0 {
		return false
	}
	if last-gen0+1 >= invalidationRing {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for g := gen0; g <= l.gen.Load(); g++ {
		rec := l.ring[g%invalidationRing]
		if rec.gen != g {
			return true
		}
		if rec.path == path || (rec.prefix && len(path) >= len(rec.path) && path[:len(rec.path)] == rec.path) {
			return true
		}
	}
	return false
}
