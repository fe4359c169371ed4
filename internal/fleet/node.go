package fleet

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/edgeward/edgeward/internal/httpcache"
)

// Timings of the loops that follow Redis.
const (
	readBlock    = time.Second            // XREAD BLOCK
	minBackoff   = 50 * time.Millisecond  // first retry after a Redis error
	maxBackoff   = 500 * time.Millisecond // retries never wait longer
	readBatch    = 256                    // entries per XREAD / XRANGE
	nodesHistory = 10 * time.Minute       // an offline node is listed for this long
	recordTTL    = 24 * time.Hour         // P:inv:ID
	tombstoneTTL = time.Minute            // an invalidated path's tier key bars older fills
)

// Options are a Node's dependencies.
type Options struct {
	// Logger receives state changes (Redis lost, back, cache dropped);
	// nil discards.
	Logger *slog.Logger
	// Registerer receives the fleet's metrics; nil registers none.
	Registerer prometheus.Registerer
}

// Node is this edge's membership in the fleet: it publishes the
// invalidations accepted here, applies the others', and keeps the local
// cache honest when it cannot.
type Node struct {
	cfg      Config
	rdb      *redis.Client
	store    *httpcache.Store
	log      *slog.Logger
	instance string // this process; entries it published are not applied twice
	k        keys
	m        *metrics
	tier     *Tier
	counters *Counters

	linkUp atomic.Bool // the last Redis command succeeded
	synced atomic.Bool // the reader has applied every entry up to pos

	mu       sync.Mutex
	pos      string    // last stream entry applied ("" before the first sync)
	epoch    string    // P:epoch at the last sync
	lastRead time.Time // last time the reader proved it saw every entry
	lastDrop time.Time // last whole-cache drop
	lastErr  string
	queue    []pending

	pubMu  sync.Mutex // one publisher at a time: entries keep their order
	wake   chan struct{}
	kick   chan struct{}
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// pending is an invalidation accepted here and not yet in the stream.
type pending struct {
	inv   httpcache.Invalidation
	paths []string
	at    time.Time
}

// keys are the fleet's Redis key names.
type keys struct{ prefix, stream, epoch, nodes, tgen string }

func (k keys) alive(node string) string { return k.prefix + ":alive:" + node }
func (k keys) record(id string) string  { return k.prefix + ":inv:" + id }
func (k keys) tier(path string) string  { return k.prefix + ":t:" + path }
func (k keys) lock(sum string) string   { return k.prefix + ":lock:" + sum }
func (k keys) rate(key string) string   { return k.prefix + ":rate:" + key }

// New builds the node of a validated (and defaulted) configuration over
// store. It does not contact Redis: Start does, in the background, so an
// edge starts and serves with Redis away.
func New(cfg Config, store *httpcache.Store, opts Options) (*Node, error) {
	ro, err := cfg.Redis.options()
	if err != nil {
		return nil, err
	}
	n := &Node{
		cfg:      cfg,
		rdb:      redis.NewClient(ro),
		store:    store,
		log:      opts.Logger,
		instance: rand.Text()[:16],
		k: keys{prefix: cfg.KeyPrefix, stream: cfg.Stream, epoch: cfg.KeyPrefix + ":epoch",
			nodes: cfg.KeyPrefix + ":nodes", tgen: cfg.KeyPrefix + ":tgen"},
		lastRead: time.Now(),
		wake:     make(chan struct{}, 1),
		kick:     make(chan struct{}, 1),
	}
	if n.log == nil {
		n.log = slog.New(slog.DiscardHandler)
	}
	n.log = n.log.With("node", cfg.Node)
	if n.m, err = newMetrics(opts.Registerer, n); err != nil {
		n.rdb.Close()
		return nil, err
	}
	n.tier = &Tier{n: n, cfg: cfg.SharedTier}
	n.counters = newCounters(n)
	return n, nil
}

// Name is the node's name in the fleet.
func (n *Node) Name() string { return n.cfg.Node }

// Tier is the shared second cache tier on this node's Redis.
func (n *Node) Tier() *Tier { return n.tier }

// Counters are the fleet-wide rate counters on this node's Redis.
func (n *Node) Counters() *Counters { return n.counters }

// Start runs the node's loops until Close: following the stream, the
// heartbeat (which also drops the local cache past disconnect_bound), and
// publishing queued invalidations.
func (n *Node) Start(ctx context.Context) {
	ctx, n.cancel = context.WithCancel(context.WithoutCancel(ctx))
	n.wg.Add(3)
	go func() { defer n.wg.Done(); n.follow(ctx) }()
	go func() { defer n.wg.Done(); n.heartbeat(ctx) }()
	go func() { defer n.wg.Done(); n.publisher(ctx) }()
}

// Close stops the loops and closes the Redis connections. Invalidations
// still queued are lost for the other nodes (they were applied here).
func (n *Node) Close() {
	if n.cancel != nil {
		n.cancel()
		n.wg.Wait()
	}
	if q := n.queued(); q > 0 {
		n.log.Warn("invalidations never reached the fleet", "queued", q)
	}
	n.rdb.Close()
}

// ok records a successful Redis command.
func (n *Node) ok() {
	if !n.linkUp.Swap(true) {
		n.log.Info("redis reachable")
		select {
		case n.kick <- struct{}{}:
		default:
		}
	}
}

// fail records a failed Redis command: the node no longer knows it sees
// every invalidation until the reader syncs again.
func (n *Node) fail(err error) {
	if err == nil || errors.Is(err, context.Canceled) {
		return
	}
	n.mu.Lock()
	n.lastErr = err.Error()
	n.mu.Unlock()
	n.synced.Store(false)
	if n.linkUp.Swap(false) {
		n.log.Warn("redis unreachable: shared tier bypassed, invalidations queued", "error", err)
	}
}

// transient reports whether err is about reaching Redis (the link is
// down), rather than an answer (a script refusing, a missing key).
func transient(err error) bool {
	if err == nil || errors.Is(err, redis.Nil) {
		return false
	}
	var re redis.Error
	return !errors.As(err, &re) || strings.HasPrefix(err.Error(), "LOADING") || strings.HasPrefix(err.Error(), "READONLY")
}

// follow keeps the local cache in step with the stream.
func (n *Node) follow(ctx context.Context) {
	backoff := minBackoff
	for ctx.Err() == nil {
		if !n.synced.Load() {
			if err := n.resync(ctx); err != nil {
				n.fail(err)
				if !n.sleep(ctx, backoff, n.kick) {
					return
				}
				backoff = min(backoff*2, maxBackoff)
				continue
			}
			backoff = minBackoff
		}
		if err := n.read(ctx); err != nil {
			n.fail(err)
		}
	}
}

// sleep waits d, or less when woken; false when ctx is done.
func (n *Node) sleep(ctx context.Context, d time.Duration, wake <-chan struct{}) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
	case <-wake:
	}
	return true
}

// resync brings a node that lost track (start, Redis lost) back: it
// replays the stream from its position, or drops its whole local cache
// when it cannot prove the stream still holds everything since then.
func (n *Node) resync(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 4*n.cfg.Redis.Timeout)
	defer cancel()
	epoch := rand.Text()
	if _, err := n.rdb.SetNX(ctx, n.k.epoch, epoch, 0).Result(); err != nil {
		return err
	}
	epoch, err := n.rdb.Get(ctx, n.k.epoch).Result()
	if err != nil {
		return err
	}
	last, maxDeleted, exists, trimmed := "0-0", "0-0", true, false
	info, err := n.rdb.XInfoStream(ctx, n.k.stream).Result()
	switch {
	case err != nil && strings.Contains(err.Error(), "no such key"):
		exists = false
	case err != nil:
		return err
	default:
		last, maxDeleted = info.LastGeneratedID, info.MaxDeletedEntryID
		trimmed = info.EntriesAdded > info.Length // something was removed, somewhere
	}
	n.mu.Lock()
	pos, known := n.pos, n.epoch
	n.mu.Unlock()
	// Trimming removes the oldest entries (and, in Redis 7.0, does not move
	// max-deleted-entry-id): every entry after pos is still there exactly
	// when pos itself is (or nothing was ever removed).
	if trimmed && pos != "" && pos != "0-0" && compareID(maxDeleted, pos) <= 0 {
		at, err := n.rdb.XRangeN(ctx, n.k.stream, pos, pos, 1).Result()
		if err != nil {
			return err
		}
		trimmed = len(at) == 0
	}
	reason := ""
	switch {
	case pos == "":
		reason = "first contact" // whatever was cached before is of unknown age
	case known != epoch:
		reason = "redis lost its data"
	case !exists && pos != "0-0":
		reason = "the stream is gone"
	case trimmed:
		reason = "the stream was trimmed past this node's position"
	}
	if reason != "" {
		n.drop(reason, pos != "")
		pos = last
	} else {
		for {
			msgs, err := n.rdb.XRangeN(ctx, n.k.stream, "("+pos, "+", readBatch).Result()
			if err != nil {
				return err
			}
			pos = n.apply(msgs, pos)
			if len(msgs) < readBatch {
				break
			}
		}
	}
	n.mu.Lock()
	n.pos, n.epoch, n.lastRead = pos, epoch, time.Now()
	n.mu.Unlock()
	n.synced.Store(true)
	n.ok()
	if err := n.ack(ctx); err != nil {
		return err
	}
	n.log.Info("invalidations in sync", "position", pos, "dropped", reason)
	return nil
}

// read applies the next entries of the stream, waiting up to readBlock.
func (n *Node) read(ctx context.Context) error {
	n.mu.Lock()
	pos := n.pos
	n.mu.Unlock()
	rctx, cancel := context.WithTimeout(ctx, readBlock+n.cfg.Redis.Timeout)
	res, err := n.rdb.XRead(rctx, &redis.XReadArgs{Streams: []string{n.k.stream, pos}, Count: readBatch, Block: readBlock}).Result()
	cancel()
	if err != nil && !errors.Is(err, redis.Nil) {
		return err
	}
	if len(res) > 0 {
		pos = n.apply(res[0].Messages, pos)
	}
	n.mu.Lock()
	n.pos, n.lastRead = pos, time.Now()
	n.mu.Unlock()
	n.ok()
	if len(res) > 0 {
		return n.ack(ctx)
	}
	return nil
}

// apply applies entries to the local cache and returns the new position.
// Entries this process published were applied when it accepted them.
func (n *Node) apply(msgs []redis.XMessage, pos string) string {
	for _, msg := range msgs {
		pos = msg.ID
		if v, _ := msg.Values["inst"].(string); v == n.instance {
			continue
		}
		raw, _ := msg.Values["paths"].(string)
		var paths []string
		err := json.Unmarshal([]byte(raw), &paths)
		if err == nil {
			err = n.store.Apply(paths)
		}
		if err != nil {
			// Not ours to fix, but never to ignore: drop everything.
			n.log.Error("malformed invalidation entry: dropping the local cache", "entry", msg.ID, "error", err)
			n.store.Purge()
		}
		n.m.applied.Inc()
		if at, err := strconv.ParseInt(fmt.Sprint(msg.Values["at"]), 10, 64); err == nil {
			n.m.applyLatency.Observe(max(time.Since(time.UnixMilli(at)).Seconds(), 0))
		}
	}
	return pos
}

// ack publishes the node's position (and that it is alive).
func (n *Node) ack(ctx context.Context) error {
	n.mu.Lock()
	pos := n.pos
	n.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, n.cfg.Redis.Timeout)
	defer cancel()
	_, err := n.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, n.k.alive(n.cfg.Node), pos, 3*n.cfg.Heartbeat)
		p.ZAdd(ctx, n.k.nodes, redis.Z{Score: float64(time.Now().UnixMilli()), Member: n.cfg.Node})
		return nil
	})
	return err
}

// heartbeat says the node is alive while it is in sync, and drops the
// local cache when the node could not follow the stream for longer than
// disconnect_bound.
func (n *Node) heartbeat(ctx context.Context) {
	t := time.NewTicker(n.cfg.Heartbeat)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if n.synced.Load() {
			err := n.ack(ctx)
			if err == nil {
				n.ok()
				n.rdb.ZRemRangeByScore(ctx, n.k.nodes, "-inf", strconv.FormatInt(time.Now().Add(-nodesHistory).UnixMilli(), 10))
			} else {
				n.fail(err)
			}
		} else if err := n.rdb.Ping(ctx).Err(); err == nil {
			n.ok()
		}
		n.mu.Lock()
		now := time.Now()
		past := now.Sub(n.lastRead) > n.cfg.DisconnectBound && now.Sub(n.lastDrop) > n.cfg.DisconnectBound
		n.mu.Unlock()
		if past {
			n.drop("out of touch with redis for longer than disconnect_bound", true)
		}
	}
}

// dropReasons are the reasons a node drops its local cache and counts it.
var dropReasons = []string{
	"redis lost its data",
	"the stream is gone",
	"the stream was trimmed past this node's position",
	"out of touch with redis for longer than disconnect_bound",
}

// drop empties the local cache.
func (n *Node) drop(reason string, count bool) {
	n.store.Purge()
	if count {
		n.mu.Lock()
		n.lastDrop = time.Now()
		n.mu.Unlock()
		n.m.drops.WithLabelValues(reason).Inc()
		n.log.Warn("local cache dropped", "reason", reason)
	}
}

// compareID orders two stream IDs ("ms-seq").
func compareID(a, b string) int {
	am, as := splitID(a)
	bm, bs := splitID(b)
	switch {
	case am != bm:
		return cmpUint(am, bm)
	default:
		return cmpUint(as, bs)
	}
}

func splitID(id string) (uint64, uint64) {
	ms, seq, _ := strings.Cut(id, "-")
	m, _ := strconv.ParseUint(ms, 10, 64)
	s, _ := strconv.ParseUint(seq, 10, 64)
	return m, s
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// RedisLogger adapts log for go-redis's own messages (a pool that cannot
// dial...), which go-redis sends to one process-wide logger
// (redis.SetLogger): at debug level, since the node logs each state change
// itself.
type RedisLogger struct{ Log *slog.Logger }

// Printf implements go-redis's internal logging interface.
func (l RedisLogger) Printf(ctx context.Context, format string, v ...any) {
	if l.Log != nil && l.Log.Enabled(ctx, slog.LevelDebug) {
		l.Log.DebugContext(ctx, fmt.Sprintf(format, v...), "component", "go-redis")
	}
}
