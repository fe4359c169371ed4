package fleet

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/edgeward/edgeward/internal/httpcache"
)

// Tier is the shared second cache tier: one Redis hash per path (so that
// invalidating a path is one command), holding each cache key's object
// and the Redis time it was stored at. It implements httpcache.Tier. It
// never waits for a Redis it knows is away.
type Tier struct {
	n   *Node
	cfg SharedTierConfig
}

// errBypassed is every call's error while Redis is away.
var errBypassed = errors.New("fleet: redis unreachable, shared tier bypassed")

// loadScript reads one object, the path's generation, the prefix
// generation and Redis's clock.
//
//	KEYS: tier key, tgen   ARGV: field
var loadScript = redis.NewScript(`
local v = redis.call('HMGET', KEYS[1], ARGV[1], ARGV[1] .. '\0t', '\0g')
local g = redis.call('GET', KEYS[2])
local t = redis.call('TIME')
return {v[1], v[2], v[3], g, t[1], t[2]}
`)

// storeScript stores one object unless the path was invalidated since the
// Load that returned the token.
//
//	KEYS: tier key, tgen   ARGV: field, data, ttl ms, token, new generation
var storeScript = redis.NewScript(`
local tok = redis.call('HGET', KEYS[1], '\0g') or ''
local g = redis.call('GET', KEYS[2]) or ''
if tok .. '/' .. g ~= ARGV[4] then return 0 end
if tok == '' then redis.call('HSET', KEYS[1], '\0g', ARGV[5]) end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2], ARGV[1] .. '\0t', now)
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[3]) then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
return 1
`)

// unlockScript releases a lock only for its holder.
var unlockScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

// tombstoneScript invalidates one path: its objects go, and a new
// generation bars fills that read the old one.
var tombstoneScript = redis.NewScript(`
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], '\0g', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`)

// call runs one tier command: bypassed at once while Redis is away, bounded
// by the Redis timeout, and marking Redis away on a network error.
func (t *Tier) call(ctx context.Context, fn func(ctx context.Context) error) error {
	if !t.n.linkUp.Load() {
		t.n.m.tier.WithLabelValues("bypassed").Inc()
		return errBypassed
	}
	ctx, cancel := context.WithTimeout(ctx, t.n.cfg.Redis.Timeout)
	defer cancel()
	err := fn(ctx)
	if transient(err) && !errors.Is(err, context.Canceled) {
		t.n.fail(err)
	}
	if err != nil && !errors.Is(err, redis.Nil) {
		t.n.m.tier.WithLabelValues("error").Inc()
	}
	return err
}

// Load implements httpcache.Tier.
func (t *Tier) Load(ctx context.Context, path, key string) (httpcache.TierObject, error) {
	var obj httpcache.TierObject
	err := t.call(ctx, func(ctx context.Context) error {
		v, err := loadScript.Run(ctx, t.n.rdb, []string{t.n.k.tier(path), t.n.k.tgen}, key).Slice()
		if err != nil {
			return err
		}
		if len(v) != 6 {
			return fmt.Errorf("fleet: tier load: %d values", len(v))
		}
		gen, _ := v[2].(string)
		tgen, _ := v[3].(string)
		obj.Token = gen + "/" + tgen
		data, _ := v[0].(string)
		stored, ok := v[1].(string)
		if data == "" || !ok {
			t.n.m.tier.WithLabelValues("miss").Inc()
			return nil
		}
		now := redisTime(v[4], v[5])
		var at int64
		fmt.Sscan(stored, &at)
		obj.Data = []byte(data)
		obj.Elapsed = max(now.Sub(time.UnixMilli(at)), 0)
		t.n.m.tier.WithLabelValues("hit").Inc()
		return nil
	})
	return obj, err
}

// redisTime is the time TIME returned (seconds, microseconds as strings).
func redisTime(sec, usec any) time.Time {
	var s, u int64
	fmt.Sscan(fmt.Sprint(sec), &s)
	fmt.Sscan(fmt.Sprint(usec), &u)
	return time.Unix(s, u*1000)
}

// Store implements httpcache.Tier.
func (t *Tier) Store(ctx context.Context, path, key string, data []byte, ttl time.Duration, tok string) error {
	if int64(len(data)) > int64(t.cfg.MaxObjectSize)+64<<10 {
		return nil
	}
	return t.call(ctx, func(ctx context.Context) error {
		ms := max(ttl.Milliseconds(), 1)
		n, err := storeScript.Run(ctx, t.n.rdb, []string{t.n.k.tier(path), t.n.k.tgen}, key, data, ms, tok, token()).Int()
		if err == nil {
			if n == 1 {
				t.n.m.tierStores.WithLabelValues("stored").Inc()
			} else {
				t.n.m.tierStores.WithLabelValues("invalidated").Inc()
			}
		}
		return err
	})
}

// Lock implements httpcache.Tier.
func (t *Tier) Lock(ctx context.Context, key string) (func(), bool, error) {
	name := t.lockKey(key)
	me := token()
	var held bool
	err := t.call(ctx, func(ctx context.Context) error {
		var err error
		held, err = t.n.rdb.SetNX(ctx, name, me, t.cfg.LockTTL).Result()
		return err
	})
	if err != nil || !held {
		return nil, false, err
	}
	t.n.m.collapse.WithLabelValues("lock").Inc()
	return func() {
		_ = t.call(context.Background(), func(ctx context.Context) error {
			return unlockScript.Run(ctx, t.n.rdb, []string{name}, me).Err()
		})
	}, true, nil
}

// Wait implements httpcache.Tier: it polls for the object while the lock
// is held, at most collapse_wait.
func (t *Tier) Wait(ctx context.Context, path, key string) (httpcache.TierObject, error) {
	ctx, cancel := context.WithTimeout(ctx, t.cfg.CollapseWait)
	defer cancel()
	name := t.lockKey(key)
	delay := 5 * time.Millisecond
	for {
		timer := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			timer.Stop()
			t.n.m.collapse.WithLabelValues("timeout").Inc()
			return httpcache.TierObject{}, nil
		case <-timer.C:
		}
		obj, err := t.Load(ctx, path, key)
		if err != nil || obj.Data != nil {
			if obj.Data != nil {
				t.n.m.collapse.WithLabelValues("filled").Inc()
			}
			return obj, err
		}
		var locked int64
		if err := t.call(ctx, func(ctx context.Context) error {
			var err error
			locked, err = t.n.rdb.Exists(ctx, name).Result()
			return err
		}); err != nil {
			return obj, err
		}
		if locked == 0 { // the fill stored nothing: not cacheable
			t.n.m.collapse.WithLabelValues("unfilled").Inc()
			return obj, nil
		}
		delay = min(delay*2, 50*time.Millisecond)
	}
}

// Invalidate implements httpcache.Tier.
func (t *Tier) Invalidate(ctx context.Context, path string) error {
	return t.call(ctx, func(ctx context.Context) error {
		return tombstoneScript.Run(ctx, t.n.rdb, []string{t.n.k.tier(path)}, token(), tombstoneTTL.Milliseconds()).Err()
	})
}

func (t *Tier) lockKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return t.n.k.lock(hex.EncodeToString(sum[:16]))
}

var _ httpcache.Tier = (*Tier)(nil)
