package connpool

import (
	"bufio"
	"context"
	"net"
	"testing"
	"time"
)

// conn is a client's connection type, as the clients declare theirs.
type conn struct{ Conn }

// pipeConn returns a pooled-connection stub and a channel closed when the
// pool closes it.
func pipeConn(t *testing.T) (*conn, <-chan struct{}) {
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	closed := make(chan struct{})
	go func() {
		buf := make([]byte, 1)
		b.Read(buf) // returns when a is closed
		close(closed)
	}()
	c := &conn{Conn{C: a}}
	c.BR = bufio.NewReader(a)
	return c, closed
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	case <-time.After(5 * time.Second):
		return false
	}
}

func newPool(maxIdle int, idleTimeout time.Duration) *Pool[*conn] {
	return &Pool[*conn]{MaxIdle: maxIdle, IdleTimeout: idleTimeout}
}

func TestPool_ReusesNewestAndClosesStale(t *testing.T) {
	t.Parallel()
	p := newPool(2, time.Hour)
	a, aClosed := pipeConn(t)
	b, _ := pipeConn(t)
	c, cClosed := pipeConn(t)
	p.Put(a)
	p.Put(b)
	p.Put(c) // over MaxIdle: closed
	if !isClosed(cClosed) {
		t.Error("a connection beyond MaxIdle was kept open")
	}
	if got, ok := p.pop(); !ok || got != b || !got.Reused {
		t.Errorf("pop() = %p, want the newest (%p), marked reused", got, b)
	}
	// a has been idle "too long": pop closes it and reports none.
	p.IdleTimeout = time.Nanosecond
	if got, ok := p.pop(); ok {
		t.Errorf("pop() = %p, want none for a stale connection", got)
	}
	if !isClosed(aClosed) {
		t.Error("a stale connection was not closed by pop")
	}
	if n := p.Idle(); n != 0 {
		t.Errorf("pool holds %d connections, want 0", n)
	}
}

func TestPool_PutEvictsStaleFromTheOldEnd(t *testing.T) {
	t.Parallel()
	p := newPool(10, time.Minute)
	old, oldClosed := pipeConn(t)
	p.idle = append(p.idle, old) // idle since the zero time: stale
	fresh, _ := pipeConn(t)
	p.Put(fresh)
	if !isClosed(oldClosed) {
		t.Error("a stale idle connection was not closed by Put")
	}
	if len(p.idle) != 1 || p.idle[0] != fresh {
		t.Errorf("pool = %v, want only the fresh connection", p.idle)
	}
}

// A pool closed by a reload must not keep the connections of requests that
// were in flight when it closed: each one is closed when it comes back.
func TestPool_ClosedPoolKeepsNothing(t *testing.T) {
	t.Parallel()
	p := newPool(4, time.Hour)
	idle, idleClosed := pipeConn(t)
	inFlight, inFlightClosed := pipeConn(t)
	p.Put(idle)
	p.Close()
	if !isClosed(idleClosed) {
		t.Error("Close left an idle connection open")
	}
	p.Put(inFlight) // its request ended after Close
	if !isClosed(inFlightClosed) {
		t.Error("a connection returned after Close was kept open")
	}
	if n := p.Idle(); n != 0 {
		t.Errorf("closed pool holds %d connections, want 0", n)
	}
}

// Get must not hand out a connection the peer closed, or one with bytes
// the peer sent unasked (they would be taken for the next answer): it
// dials instead.
func TestPool_GetSkipsClosedAndNoisyConnections(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	dials := 0
	p := newPool(4, time.Hour)
	p.Dial = func(ctx context.Context) (*conn, error) {
		dials++
		c, err := (&net.Dialer{}).DialContext(ctx, "tcp", ln.Addr().String())
		if err != nil {
			return nil, err
		}
		pc := &conn{Conn{C: c}}
		pc.BR = bufio.NewReader(c)
		return pc, nil
	}
	tests := []struct {
		name string
		peer func(net.Conn)
	}{
		{"closed by the peer", func(c net.Conn) { c.Close() }},
		{"unsolicited bytes", func(c net.Conn) { c.Write([]byte("HTTP/1.1 200 OK\r\n\r\n")) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := p.Get(context.Background(), false)
			if err != nil {
				t.Fatal(err)
			}
			server := <-accepted
			defer server.Close()
			p.Put(c)
			tt.peer(server)
			// The peer's close or bytes reach the socket asynchronously.
			deadline := time.Now().Add(5 * time.Second)
			for c.idleOK() && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			before := dials
			got, err := p.Get(context.Background(), false)
			if err != nil {
				t.Fatal(err)
			}
			defer got.C.Close()
			if got == c || dials != before+1 {
				t.Errorf("Get reused the connection (%v) or did not dial (dials %d -> %d)", got == c, before, dials)
			}
			<-accepted
		})
	}
}
