package fleet

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/edgeward/edgeward/internal/httpcache"
)

// ErrQueueFull is Accept's answer when queue_size invalidations already
// wait for Redis: the invalidation is refused rather than applied here
// only.
var ErrQueueFull = errors.New("fleet: too many invalidations wait for redis; retry later")

// publishScript clears the shared tier's objects of the exact paths
// (leaving a tombstone that bars fills started before), appends the entry
// to the stream and records where it is, in one step.
//
//	KEYS: stream, record, tier keys...   ARGV: maxlen, id, inst, node, paths, at, count, tombstone, ttl ms
var publishScript = redis.NewScript(`
for i = 3, #KEYS do
  redis.call('DEL', KEYS[i])
  redis.call('HSET', KEYS[i], '\0g', ARGV[8])
  redis.call('PEXPIRE', KEYS[i], ARGV[9])
end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*',
  'id', ARGV[2], 'inst', ARGV[3], 'node', ARGV[4], 'paths', ARGV[5], 'at', ARGV[6])
redis.call('HSET', KEYS[2], 'entry', id, 'paths', ARGV[7], 'at', ARGV[6], 'node', ARGV[4])
redis.call('EXPIRE', KEYS[2], 86400)
return id
`)

// Accept applies an invalidation to the local cache (httpcache's
// validation and semantics) and publishes it to the fleet, or queues it
// when Redis is away. It returns the local record; ErrQueueFull when the
// queue is full, a validation error for bad paths.
func (n *Node) Accept(ctx context.Context, paths []string) (httpcache.Invalidation, error) {
	n.mu.Lock()
	if len(n.queue) >= n.cfg.QueueSize {
		n.mu.Unlock()
		return httpcache.Invalidation{}, ErrQueueFull
	}
	inv, err := n.store.Invalidate(paths)
	if err != nil {
		n.mu.Unlock()
		return inv, err
	}
	n.queue = append(n.queue, pending{inv: inv, paths: paths, at: time.Now()})
	n.mu.Unlock()
	if n.linkUp.Load() {
		_ = n.flush(ctx)
	}
	select {
	case n.wake <- struct{}{}:
	default:
	}
	return inv, nil
}

// queued is the number of invalidations waiting for Redis.
func (n *Node) queued() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.queue)
}

// pendingOf returns the queued invalidation id.
func (n *Node) pendingOf(id string) (pending, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, p := range n.queue {
		if p.inv.ID == id {
			return p, true
		}
	}
	return pending{}, false
}

// publisher publishes what Accept could not, in order, retrying while
// Redis is away.
func (n *Node) publisher(ctx context.Context) {
	backoff := minBackoff
	for {
		if n.queued() == 0 {
			backoff = minBackoff
			if !n.sleep(ctx, time.Hour, n.wake) {
				return
			}
			continue
		}
		if err := n.flush(ctx); err != nil {
			if !n.sleep(ctx, backoff, n.kick) {
				return
			}
			backoff = min(backoff*2, maxBackoff)
			continue
		}
		backoff = minBackoff
	}
}

// flush publishes the queue's head until it is empty or Redis fails.
func (n *Node) flush(ctx context.Context) error {
	n.pubMu.Lock()
	defer n.pubMu.Unlock()
	for {
		n.mu.Lock()
		if len(n.queue) == 0 {
			n.mu.Unlock()
			return nil
		}
		p := n.queue[0]
		n.mu.Unlock()
		if err := n.publish(ctx, p); err != nil {
			if transient(err) {
				n.fail(err)
				return err
			}
			n.log.Error("invalidation not published", "id", p.inv.ID, "error", err)
		} else {
			n.ok()
			n.m.published.Inc()
		}
		n.mu.Lock()
		n.queue = n.queue[1:]
		n.mu.Unlock()
	}
}

// publish clears the shared tier for p's paths, then appends p to the
// stream. Prefixes bump P:tgen first (so that no fill that started before
// stores), then their tier keys are removed by a scan.
func (n *Node) publish(ctx context.Context, p pending) error {
	targets, err := httpcache.InvalidationTargets(p.paths)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 20*n.cfg.Redis.Timeout)
	defer cancel()
	keys := []string{n.k.stream, n.k.record(p.inv.ID)}
	var prefixes []string
	for _, t := range targets {
		if pre, ok := strings.CutSuffix(t, "*"); ok {
			prefixes = append(prefixes, pre)
		} else {
			keys = append(keys, n.k.tier(t))
		}
	}
	if len(prefixes) > 0 {
		if err := n.rdb.Incr(ctx, n.k.tgen).Err(); err != nil {
			return err
		}
		for _, pre := range prefixes {
			if err := n.unlinkMatching(ctx, globEscape(n.k.tier(pre))+"*"); err != nil {
				return err
			}
		}
	}
	raw, _ := json.Marshal(p.paths)
	return publishScript.Eval(ctx, n.rdb, keys,
		n.cfg.StreamMaxLen, p.inv.ID, n.instance, n.cfg.Node, string(raw),
		strconv.FormatInt(p.at.UnixMilli(), 10), len(p.paths), token(), tombstoneTTL.Milliseconds()).Err()
}

// unlinkMatching removes every key matching a glob pattern.
func (n *Node) unlinkMatching(ctx context.Context, pattern string) error {
	it := n.rdb.Scan(ctx, 0, pattern, 512).Iterator()
	var batch []string
	for it.Next(ctx) {
		batch = append(batch, it.Val())
		if len(batch) == 512 {
			if err := n.rdb.Unlink(ctx, batch...).Err(); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	if err := it.Err(); err != nil {
		return err
	}
	if len(batch) > 0 {
		return n.rdb.Unlink(ctx, batch...).Err()
	}
	return nil
}

// globEscape quotes the characters Redis's MATCH treats specially.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '*', '?', '[', ']', '\\':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// token is a random value that marks a tier key's generation or a lock's
// holder.
func token() string { return rand.Text() }
