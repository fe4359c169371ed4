package transport

import (
	"net"
	"sync"
)

// limiter bounds the connections open at once (max_connections). Unlike
// netutil.LimitListener its bound can change while serving: a lower bound
// holds new connections back until enough old ones have closed, a higher
// one admits waiting connections at once.
type limiter struct {
	mu     sync.Mutex
	cond   sync.Cond
	n, max int
	closed bool
}

func newLimiter(max int) *limiter {
	l := &limiter{max: max}
	l.cond.L = &l.mu
	return l
}

// acquire waits for a free slot; false once the limiter is closed.
func (l *limiter) acquire() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for !l.closed && l.max > 0 && l.n >= l.max {
		l.cond.Wait()
	}
	if l.closed {
		return false
	}
	l.n++
	return true
}

// settle waits, holding a slot taken before a lower bound was set, until
// the connections are within the bound again; false once the limiter is
// closed.
func (l *limiter) settle() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for !l.closed && l.max > 0 && l.n > l.max {
		l.cond.Wait()
	}
	return !l.closed
}

func (l *limiter) release() {
	l.mu.Lock()
	l.n--
	l.mu.Unlock()
	l.cond.Broadcast()
}

func (l *limiter) setMax(max int) {
	l.mu.Lock()
	l.max = max
	l.mu.Unlock()
	l.cond.Broadcast()
}

// close wakes every waiter for good.
func (l *limiter) close() {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	l.cond.Broadcast()
}

// rawConn is an accepted TCP connection. Closing it, by whichever layer
// owns it by then (the fast lane, net/http, a WebSocket proxy), gives back
// its max_connections slot and its reference on the generation of limits
// it was accepted under.
type rawConn struct {
	net.Conn
	once sync.Once
	lim  *limiter
	gen  *gen
}

// Close implements net.Conn.
func (c *rawConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		c.lim.release()
		c.gen.release()
	})
	return err
}

// handoffListener passes connections to net/http's Serve.
type handoffListener struct {
	addr  net.Addr
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func newHandoffListener(addr net.Addr) *handoffListener {
	return &handoffListener{addr: addr, conns: make(chan net.Conn), done: make(chan struct{})}
}

// give hands c over, or closes it once the listener is closed.
func (l *handoffListener) give(c net.Conn) bool {
	select {
	case l.conns <- c:
		return true
	case <-l.done:
		c.Close()
		return false
	}
}

// Accept implements net.Listener.
func (l *handoffListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close implements net.Listener.
func (l *handoffListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

// Addr implements net.Listener.
func (l *handoffListener) Addr() net.Addr { return l.addr }

// handoffConn is a framingConn handed to net/http with the bytes the fast
// lane read and did not serve, which net/http reads first.
type handoffConn struct {
	*framingConn
	pending []byte
}

// Read implements net.Conn.
func (c *handoffConn) Read(p []byte) (int, error) {
	if len(c.pending) > 0 {
		n := copy(p, c.pending)
		c.pending = c.pending[n:]
		return n, nil
	}
	return c.framingConn.Read(p)
}
