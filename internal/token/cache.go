package token

import (
	"crypto/sha256"
	"time"

	"github.com/maypok86/otter/v2"

	"github.com/edgeward/edgeward/internal/size"
)

// Cache is the verified-token cache shared by every Verifier of a decision
// service. It is keyed by SHA-256 of the issuer name and the token, bounded
// in (estimated) bytes, and holds a verified token's claims until
// min(exp, TTL) and an invalid token's error for NegativeTTL.
//
// A nil *Cache caches nothing.
type Cache struct {
	c      *otter.Cache[[32]byte, *entry]
	ttl    time.Duration
	negTTL time.Duration
	now    func() time.Time
}

// entry is a cached verification: claims, or the reason the token is
// invalid.
type entry struct {
	claims *Claims
	err    *Error
	ttl    time.Duration
	weight uint32
}

// NewCache returns a cache bounded by cfg (its Defaults applied; values
// that Validate would refuse fall back to the defaults). Of opts, only
// WithClock applies.
func NewCache(cfg CacheConfig, opts ...Option) *Cache {
	o := newOptions(opts)
	cfg.Defaults()
	if cfg.MaxSize < 4*size.KiB {
		cfg.MaxSize = DefaultCacheSize
	}
	if cfg.TTL <= 0 {
		cfg.TTL = DefaultCacheTTL
	}
	c := &Cache{ttl: cfg.TTL, negTTL: max(cfg.NegativeTTL, 0), now: o.now}
	oo := &otter.Options[[32]byte, *entry]{
		MaximumWeight: uint64(cfg.MaxSize),
		Weigher:       func(_ [32]byte, e *entry) uint32 { return e.weight },
		ExpiryCalculator: otter.ExpiryCreatingFunc(func(e otter.Entry[[32]byte, *entry]) time.Duration {
			return e.Value.ttl
		}),
		Logger: &otter.NoopLogger{},
	}
	if o.clock {
		oo.Clock = clock{o.now}
	}
	c.c = otter.Must(oo)
	return c
}

// key is the cache key of raw for the issuer whose key prefix (name + NUL)
// is prefix. Tokens up to the stack buffer's size are hashed without an
// allocation.
func key(prefix, raw string) [32]byte {
	var buf [2048]byte
	if len(prefix)+len(raw) <= len(buf) {
		n := copy(buf[:], prefix)
		n += copy(buf[n:], raw)
		return sha256.Sum256(buf[:n])
	}
	h := sha256.New()
	h.Write([]byte(prefix))
	h.Write([]byte(raw))
	var k [32]byte
	h.Sum(k[:0])
	return k
}

// get returns the cached verification of k. A verified entry is never
// returned past its exp, whatever the cache's own expiry says.
func (c *Cache) get(k [32]byte) (*entry, bool) {
	if c == nil {
		return nil, false
	}
	e, ok := c.c.GetIfPresent(k)
	if !ok {
		return nil, false
	}
	if e.claims != nil && !c.now().Before(e.claims.ExpiresAt) {
		c.c.Invalidate(k)
		return nil, false
	}
	return e, true
}

// putClaims remembers a verified token until min(exp, ttl). size is the
// token's length, the base of the entry's weight.
func (c *Cache) putClaims(k [32]byte, cl *Claims, size int) {
	if c == nil {
		return
	}
	ttl := min(cl.ExpiresAt.Sub(c.now()), c.ttl)
	if ttl <= 0 {
		return
	}
	// The claims as Go maps take a few times the JSON's size.
	c.c.Set(k, &entry{claims: cl, ttl: ttl, weight: uint32(512 + 3*size)})
}

// putError remembers an invalid token for the negative TTL, unless the
// error may go away on its own.
func (c *Cache) putError(k [32]byte, e *Error) {
	if c == nil || c.negTTL <= 0 || e.transient() {
		return
	}
	c.c.Set(k, &entry{err: e, ttl: c.negTTL, weight: 160})
}

// clock is an otter.Clock over an injected time source. Its ticks (for
// the cache's periodic clean-up) are real time; the ticker is collected
// with the cache.
type clock struct{ now func() time.Time }

func (c clock) NowNano() int64                        { return c.now().UnixNano() }
func (c clock) Tick(d time.Duration) <-chan time.Time { return time.Tick(d) }

var _ otter.Clock = clock{}
