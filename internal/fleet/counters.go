package fleet

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-redis/redis_rate/v10"
)

// Counters are fleet-wide rate counters (GCRA, in Redis through
// redis_rate), for rate rules that count across every node. They never
// wait for a Redis they know is away: Allow returns an error at once, and
// the caller falls back to its local limiter.
type Counters struct {
	n *Node
	l *redis_rate.Limiter
}

func newCounters(n *Node) *Counters {
	return &Counters{n: n, l: redis_rate.NewLimiter(n.rdb)}
}

// errCountersDown is Allow's error while Redis is away.
var errCountersDown = errors.New("fleet: redis unreachable, counters unavailable")

// Allow counts one event for key against limit events per window, across
// the fleet. allowed is false when the event is over the limit, and then
// retryAfter says when one more would be allowed. An error means no
// answer: use a local limiter.
func (c *Counters) Allow(ctx context.Context, key string, limit int, window time.Duration) (allowed bool, retryAfter time.Duration, err error) {
	if limit <= 0 || window <= 0 {
		return false, 0, fmt.Errorf("fleet: counter %q: limit and window must be > 0 (got %d per %s)", key, limit, window)
	}
	if !c.n.linkUp.Load() {
		c.n.m.counterErrors.Inc()
		return false, 0, errCountersDown
	}
	ctx, cancel := context.WithTimeout(ctx, c.n.cfg.Redis.Timeout)
	defer cancel()
	res, err := c.l.Allow(ctx, c.n.k.rate(key), redis_rate.Limit{Rate: limit, Burst: limit, Period: window})
	if err != nil {
		c.n.m.counterErrors.Inc()
		if transient(err) {
			c.n.fail(err)
		}
		return false, 0, fmt.Errorf("fleet: counter %q: %w", key, err)
	}
	if res.Allowed > 0 {
		return true, 0, nil
	}
	return false, max(res.RetryAfter, 0), nil
}
