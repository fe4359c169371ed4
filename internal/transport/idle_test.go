package transport

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"runtime"
	"testing"
	"time"
)

// deepAnswer answers like answer, from a deeper stack, as the edge's
// handler does (its frames grow the serving goroutine's stack).
func deepAnswer(depth int) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request, f Framing) {
		var pad [1024]byte
		if depth > 0 {
			deepAnswer(depth-1)(w, r, f)
			return
		}
		pad[0] = 'x'
		w.Header().Set("Cache-Control", "max-age=60")
		w.Write(pad[:64])
	}
}

// openIdle opens n connections to addr, completes one request on each and
// leaves them idle.
func openIdle(t *testing.T, addr string, n int) []net.Conn {
	t.Helper()
	conns := make([]net.Conn, 0, n)
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	var buf [512]byte
	for range n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.WriteString(c, "GET /orders/1 HTTP/1.1\r\nHost: edge\r\nAuthorization: Bearer x\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReaderSize(c, 256), nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(resp.Body, buf[:resp.ContentLength]); err != nil || resp.StatusCode != 200 {
			t.Fatalf("response %d, %v", resp.StatusCode, err)
		}
		c.SetDeadline(time.Time{})
	}
	return conns
}

// inUse is the heap and the goroutine stacks in use, after a collection.
func inUse() (heap, stack uint64) {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse, m.StackInuse
}

// An idle keep-alive connection of the fast lane holds no read or write
// buffer and no grown stack: memory per idle connection stays far below
// the ~30 KiB it cost when every connection kept its buffers.
func TestFastLane_IdleConnectionsHoldLittleMemory(t *testing.T) {
	const n = 1000
	// Server and client side together. Today: about 2.8 KiB of heap (the
	// connection's structs and context, both sockets) and 2 KiB of stack;
	// one 4 KiB buffer kept, or a stack left as the handler grew it, breaks
	// one of the bounds.
	const maxHeapPerConn, maxStackPerConn = 4 << 10, 3 << 10
	s := New(deepAnswer(16), Options{Limits: Limits{ReadHeaderTimeout: time.Minute, IdleTimeout: time.Minute,
		MaxHeaderBytes: 8192, MaxConnections: 2 * n}, FastLane: true, ShutdownGrace: func() time.Duration { return time.Second }})
	addr := start(t, s)
	openIdle(t, addr, 10) // the server's own start-up allocations
	waitFor(t, func() bool { return s.fast.parks.Load() == 10 }, "the first connections to park")
	h0, s0 := inUse()
	conns := openIdle(t, addr, n)
	// Each connection moves its wait to a fresh goroutine after idleGrace.
	waitFor(t, func() bool { return s.fast.parks.Load() == 10+n }, "every idle connection to park")
	h1, s1 := inUse()
	heap, stack := (int64(h1)-int64(h0))/n, (int64(s1)-int64(s0))/n
	t.Logf("%d idle connections: %d bytes in use each (heap %d + stacks %d, both ends)", n, heap+stack, heap, stack)
	if heap > maxHeapPerConn {
		t.Errorf("an idle connection holds %d bytes of heap, want at most %d", heap, maxHeapPerConn)
	}
	if stack > maxStackPerConn {
		t.Errorf("an idle connection holds %d bytes of stack, want at most %d", stack, maxStackPerConn)
	}
	// Every idle connection gave its buffers back (parks happened after
	// each release, and the count was read above).
	s.fast.mu.Lock()
	for hc := range s.fast.conns {
		if hc.b != nil || hc.buf != nil || hc.fc.buf != nil || hc.wr.bw != nil {
			t.Errorf("an idle connection holds buffers: lane %v, read %d bytes, guard %d bytes, writer %v",
				hc.b != nil, cap(hc.buf), cap(hc.fc.buf), hc.wr.bw != nil)
			break
		}
	}
	s.fast.mu.Unlock()
	// And they still work: a second request on every tenth connection.
	for i := 0; i < len(conns); i += 10 {
		c := conns[i]
		c.SetDeadline(time.Now().Add(10 * time.Second))
		io.WriteString(c, "GET /orders/2 HTTP/1.1\r\nHost: edge\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("second request on an idle connection: %v", err)
		}
		resp.Body.Close()
	}
}

// A connection whose wait moved to a fresh goroutine keeps its idle
// timeout: it is closed when it runs out, not idleGrace later or never.
func TestFastLane_ParkedConnectionKeepsItsIdleTimeout(t *testing.T) {
	const idle = 3 * idleGrace
	s := New(answer, Options{Limits: Limits{ReadHeaderTimeout: time.Minute, IdleTimeout: idle, MaxHeaderBytes: 4096, MaxConnections: 10},
		FastLane: true, ShutdownGrace: func() time.Duration { return time.Second }})
	addr := start(t, s)
	c := openIdle(t, addr, 1)[0]
	start := time.Now()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var b [1]byte
	_, err := c.Read(b[:])
	elapsed := time.Since(start)
	if err != io.EOF {
		t.Fatalf("read on the idle connection: %v, want io.EOF (closed by the server)", err)
	}
	if elapsed < idle-idleGrace/2 || elapsed > idle+idleGrace {
		t.Errorf("idle connection closed after %v, want about %v", elapsed, idle)
	}
	if s.fast.parks.Load() != 1 {
		t.Errorf("parks = %d, want 1 (the wait moved once)", s.fast.parks.Load())
	}
}
