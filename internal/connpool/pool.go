// Package connpool keeps the idle keep-alive connections of edgeward's
// lean HTTP/1.1 clients: the origin hop's fast path (internal/origin) and
// the sideband hop to a remote decision service (internal/sideband). Both
// write a request straight from the caller's goroutine onto a pooled
// connection and read the answer on the same goroutine, without the
// per-connection read and write loop goroutines of http.Transport; this
// package is the one reuse rule they share: the newest idle connection is
// reused first, one idle for longer than the idle timeout is closed, one
// with bytes waiting (or closed by the peer) is never reused, and a closed
// pool keeps nothing.
package connpool

import (
	"bufio"
	"context"
	"net"
	"sync"
	"time"
)

// Conn is the part of a pooled connection the pool works with. A client
// embeds it in its own connection type, sets C, and sets BR to a reader
// whose source is C (directly or through the client's own bounded reader).
type Conn struct {
	C  net.Conn
	BR *bufio.Reader
	BW *bufio.Writer
	// Reused is true when Get took the connection from the pool (a
	// request that fails on it before any byte of the answer may have met
	// a connection the peer closed while it was idle).
	Reused bool
	// Budget is what may still be read of an answer's header with
	// ReadBudget; < 0 once the header was read.
	Budget int
	idleAt time.Time
	peek   peeker
}

// ReadBudget reads from C at most Budget bytes in all, and fails with
// tooLarge once they are spent: a client's reader under BR calls it while
// an answer's header is read, so that a header without end cannot grow
// without bound.
func (c *Conn) ReadBudget(p []byte, tooLarge error) (int, error) {
	if c.Budget == 0 {
		return 0, tooLarge
	}
	if len(p) > c.Budget {
		p = p[:c.Budget]
	}
	n, err := c.C.Read(p)
	c.Budget -= n
	return n, err
}

// NothingRead wraps an error that happened before any byte of an answer
// arrived. On a connection Get took from the pool (Reused) the peer most
// likely closed it while it sat idle: the clients send the request again,
// once, on a new connection.
type NothingRead struct{ Err error }

func (e NothingRead) Error() string { return e.Err.Error() }
func (e NothingRead) Unwrap() error { return e.Err }

// Pooled is a client's connection type: a pointer to a struct that embeds
// Conn.
type Pooled interface{ pooled() *Conn }

func (c *Conn) pooled() *Conn { return c }

// Pool is the idle connections of one peer. Dial makes a new connection
// when none is idle; MaxIdle bounds what is kept and IdleTimeout how long.
// A Pool is safe for concurrent use.
type Pool[T Pooled] struct {
	Dial        func(ctx context.Context) (T, error)
	MaxIdle     int
	IdleTimeout time.Duration

	mu     sync.Mutex
	idle   []T  // oldest first; the newest is reused first
	closed bool // set by Close: connections are no longer kept
}

// Get returns an idle connection that can carry a new request, or (when
// none is idle, or fresh is set) a new one from Dial.
func (p *Pool[T]) Get(ctx context.Context, fresh bool) (T, error) {
	if !fresh {
		if c, ok := p.pop(); ok {
			return c, nil
		}
	}
	return p.Dial(ctx)
}

// pop takes the newest idle connection; connections idle for longer than
// IdleTimeout are closed instead.
func (p *Pool[T]) pop() (T, bool) {
	var zero T
	now := time.Now()
	p.mu.Lock()
	for {
		n := len(p.idle)
		if n == 0 {
			p.mu.Unlock()
			return zero, false
		}
		c := p.idle[n-1]
		p.idle[n-1] = zero
		p.idle = p.idle[:n-1]
		pc := c.pooled()
		if now.Sub(pc.idleAt) >= p.IdleTimeout {
			// The newest is stale, so are all older ones.
			stale := p.idle
			p.idle = nil
			p.mu.Unlock()
			pc.C.Close()
			for _, s := range stale {
				s.pooled().C.Close()
			}
			return zero, false
		}
		p.mu.Unlock()
		if pc.idleOK() {
			pc.Reused = true
			return c, true
		}
		pc.C.Close()
		p.mu.Lock()
	}
}

// Put returns a connection whose answer was read to the end. Bytes after
// the answer mean the peer and the client disagree on framing: the
// connection is closed, never reused.
func (p *Pool[T]) Put(c T) {
	pc := c.pooled()
	if pc.BR.Buffered() > 0 {
		pc.C.Close()
		return
	}
	pc.idleAt = time.Now()
	p.mu.Lock()
	// Evict from the old end what has been idle too long.
	i := 0
	for i < len(p.idle) && pc.idleAt.Sub(p.idle[i].pooled().idleAt) >= p.IdleTimeout {
		i++
	}
	var stale []T
	if i > 0 {
		stale = append(stale, p.idle[:i]...)
		p.idle = append(p.idle[:0], p.idle[i:]...)
	}
	kept := false
	if !p.closed && len(p.idle) < p.MaxIdle {
		p.idle = append(p.idle, c)
		kept = true
	}
	p.mu.Unlock()
	for _, s := range stale {
		s.pooled().C.Close()
	}
	if !kept {
		pc.C.Close()
	}
}

// Close closes every idle connection, and every connection put back from
// then on: a closed pool keeps nothing.
func (p *Pool[T]) Close() {
	p.mu.Lock()
	idle := p.idle
	p.idle = nil
	p.closed = true
	p.mu.Unlock()
	for _, c := range idle {
		c.pooled().C.Close()
	}
}

// Idle returns the number of idle connections (for tests).
func (p *Pool[T]) Idle() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.idle)
}
