package transport

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"
)

// Memory of idle keep-alive connections (issue 15).
//
// A connection that waits for its next request needs none of the buffers
// a request in flight needs, nor the stack its handler grew. The guard's
// read-ahead buffer and the fast lane's read buffer, its bufio.Writer,
// header map and scratch slices come from pools; a kept-alive connection
// waits for its next request as before, with them, for idleGrace (a busy
// connection's next request is usually already there: no extra system
// call, no extra allocation). If none comes, it gives them back and the
// wait moves to a fresh goroutine (h1Conn.run), which starts with a
// minimal stack and waits without a buffer: an idle connection holds its
// structs, its context and a parked goroutine, about 5 KiB in all,
// instead of the ~25 KiB it held before.
//
// Waiting without a buffer: where the connection is a TCP socket, the wait
// is a syscall.RawConn.Read whose callback peeks at one byte
// (MSG_PEEK|MSG_DONTWAIT) and asks to be parked in the netpoller while
// there is none, read deadline included; the real read follows with
// pooled buffers. (The callback must look at the socket: RawConn.Read
// forgets a readiness the poller reported before it was called.) Elsewhere
// (TLS, whose record buffers are crypto/tls's, or a connection that is not
// a socket) the connection keeps the buffer of its pending read, as
// before; connections handed to net/http keep net/http's buffers.

// readBufPool holds the standard read buffers of the guard and the fast
// lane (arrays, so that Put does not allocate).
var readBufPool = sync.Pool{New: func() any { return new([initialBuffer]byte) }}

func getReadBuf() []byte { return readBufPool.Get().(*[initialBuffer]byte)[:] }

// putReadBuf gives b back, if it is a standard buffer; a grown one (a long
// head) is left to the collector.
func putReadBuf(b []byte) {
	if cap(b) == initialBuffer {
		readBufPool.Put((*[initialBuffer]byte)(b[:initialBuffer]))
	}
}

// idleWaiter parks a goroutine until its socket is readable, without a
// buffer; nil when the connection is not a socket.
type idleWaiter struct {
	rc   syscall.RawConn
	fn   func(fd uintptr) bool // made once per connection: no allocation per wait
	peek [1]byte
}

// newIdleWaiter returns the waiter of c's socket, or nil.
func newIdleWaiter(c net.Conn) *idleWaiter {
	if !canPeek {
		return nil
	}
	for {
		switch x := c.(type) {
		case *rawConn:
			c = x.Conn
			continue
		case syscall.Conn:
			rc, err := x.SyscallConn()
			if err != nil {
				return nil
			}
			w := &idleWaiter{rc: rc}
			w.fn = func(fd uintptr) bool { return peekReady(fd, &w.peek) }
			return w
		}
		return nil
	}
}

// wait returns once the socket is readable (data, end of stream or an
// error: nil), its read deadline has passed or it is closed (the error).
func (w *idleWaiter) wait() error {
	if w == nil {
		return nil
	}
	return w.rc.Read(w.fn)
}

// idleGrace is how long a kept-alive connection waits for its next request
// on the goroutine that served the last one, with that goroutine's grown
// stack, before the wait moves to a fresh goroutine (h1Conn.run).
const idleGrace = 20 * time.Millisecond

// errPark is readHead's signal that the connection stayed idle for
// idleGrace.
var errPark = errors.New("idle: wait on a fresh goroutine")

// laneBufs is what a fast-lane connection holds only while a request is in
// flight: its read buffer and its writer's buffers.
type laneBufs struct {
	rd         []byte // the standard read buffer (h1Conn.buf may have outgrown it)
	bw         *bufio.Writer
	keep       http.Header
	fields     []byte
	held       []byte
	connection []string
	declared   []string
}

var laneBufPool = sync.Pool{New: func() any {
	return &laneBufs{
		rd:   make([]byte, initialBuffer),
		bw:   bufio.NewWriterSize(nil, 4096),
		keep: make(http.Header, 16),
	}
}}

// acquire takes the buffers for a request; with idle set, once the
// connection is readable (the guard holds bytes, or the socket has some).
func (c *h1Conn) acquire(idle bool) {
	if idle && !c.fc.buffered() {
		_ = c.fc.idle.wait() // the read that follows sees any error
	}
	b := laneBufPool.Get().(*laneBufs)
	b.bw.Reset(c.fc)
	c.b, c.buf, c.r, c.w = b, b.rd, 0, 0
}

// release gives the buffers back when nothing read is left unserved (a
// pipelined request keeps them), and drops what the last request left in
// the writer.
func (c *h1Conn) release() {
	b := c.b
	if b == nil || c.r != c.w {
		return
	}
	w := &c.wr
	b.fields, b.held = w.fields[:0], w.held[:0]
	b.connection, b.declared = clearStrings(w.connection), clearStrings(w.declared)
	b.bw.Reset(nil)
	clear(b.keep)
	*w = h1Writer{c: c}
	c.b, c.buf, c.r, c.w = nil, nil, 0, 0
	laneBufPool.Put(b)
}

// clearStrings empties s, dropping the strings it referred to.
func clearStrings(s []string) []string {
	clear(s)
	return s[:0]
}
