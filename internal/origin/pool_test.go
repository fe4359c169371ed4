package origin

import (
	"bufio"
	"net"
	"testing"
	"time"
)

// pipeConn returns a pooled-connection stub and a channel closed when the
// pool closes it.
func pipeConn(t *testing.T, idleAt time.Time) (*fconn, <-chan struct{}) {
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	closed := make(chan struct{})
	go func() {
		buf := make([]byte, 1)
		b.Read(buf) // returns when a is closed
		close(closed)
	}()
	fc := &fconn{c: a, idleAt: idleAt}
	fc.br = bufio.NewReader(fc)
	return fc, closed
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	case <-time.After(5 * time.Second):
		return false
	}
}

func TestPool_ReusesNewestAndClosesStale(t *testing.T) {
	t.Parallel()
	f := &fastClient{maxIdle: 2, idleTimeout: time.Hour}
	a, aClosed := pipeConn(t, time.Time{})
	b, _ := pipeConn(t, time.Time{})
	c, cClosed := pipeConn(t, time.Time{})
	f.put(a)
	f.put(b)
	f.put(c) // over max_idle_conns: closed
	if !isClosed(cClosed) {
		t.Error("a connection beyond max_idle_conns was kept open")
	}
	if got := f.pop(); got != b || !got.reused {
		t.Errorf("pop() = %p, want the newest (%p), marked reused", got, b)
	}
	// a has been idle "too long": pop closes it and reports none.
	f.idleTimeout = time.Nanosecond
	if got := f.pop(); got != nil {
		t.Errorf("pop() = %p, want nil for a stale connection", got)
	}
	if !isClosed(aClosed) {
		t.Error("a stale connection was not closed by pop")
	}
	if len(f.idle) != 0 {
		t.Errorf("pool holds %d connections, want 0", len(f.idle))
	}
}

func TestPool_PutEvictsStaleFromTheOldEnd(t *testing.T) {
	t.Parallel()
	f := &fastClient{maxIdle: 10, idleTimeout: time.Minute}
	old, oldClosed := pipeConn(t, time.Time{})
	f.idle = append(f.idle, old) // idle since the zero time: stale
	fresh, _ := pipeConn(t, time.Time{})
	f.put(fresh)
	if !isClosed(oldClosed) {
		t.Error("a stale idle connection was not closed by put")
	}
	if len(f.idle) != 1 || f.idle[0] != fresh {
		t.Errorf("pool = %v, want only the fresh connection", f.idle)
	}
}

// A pool closed by a reload must not keep the connections of requests that
// were in flight when it closed: each one is closed when it comes back.
func TestPool_ClosedPoolKeepsNothing(t *testing.T) {
	t.Parallel()
	f := &fastClient{maxIdle: 4, idleTimeout: time.Hour}
	idle, idleClosed := pipeConn(t, time.Time{})
	inFlight, inFlightClosed := pipeConn(t, time.Time{})
	f.put(idle)
	f.close()
	if !isClosed(idleClosed) {
		t.Error("close left an idle connection open")
	}
	f.put(inFlight) // its request ended after close
	if !isClosed(inFlightClosed) {
		t.Error("a connection returned after close was kept open")
	}
	if len(f.idle) != 0 {
		t.Errorf("closed pool holds %d connections, want 0", len(f.idle))
	}
}
