package transport

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
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

// minStack is the stack of a goroutine that never grew it.
func minStack(t *testing.T) int64 {
	const n = 1000
	stop := make(chan struct{})
	defer close(stop)
	_, s0 := inUse()
	started := make(chan struct{})
	for range n {
		go func() { started <- struct{}{}; <-stop }()
		<-started
	}
	_, s1 := inUse()
	return (int64(s1) - int64(s0)) / n
}

// inUse is the heap and the goroutine stacks in use, after two collections
// (the second frees what the pools kept through the first).
func inUse() (heap, stack uint64) {
	runtime.GC()
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
	// connection's structs and context, both sockets) and a minimal
	// goroutine stack; one 4 KiB buffer kept, or a stack left as the
	// handler grew it, breaks one of the bounds.
	const maxHeapPerConn = 4 << 10
	maxStackPerConn := minStack(t) + 1<<10
	s := New(deepAnswer(16), Options{Limits: Limits{ReadHeaderTimeout: time.Minute, IdleTimeout: time.Minute,
		MaxHeaderBytes: 8192, MaxConnections: 2 * n}, FastLane: true, ShutdownGrace: func() time.Duration { return time.Second }})
	addr := start(t, s)
	openIdle(t, addr, 10) // the server's own start-up allocations
	waitFor(t, func() bool { return s.fast.parks.Load() == 10 }, "the first connections to park")
	h0, s0 := inUse()
	openIdle(t, addr, n)
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
	if raceEnabled {
		return // the connections' goroutines write these fields when they close
	}
	s.fast.mu.Lock()
	for hc := range s.fast.conns {
		if hc.b != nil || hc.buf != nil || hc.fc.buf != nil || hc.wr.bw != nil {
			t.Errorf("an idle connection holds buffers: lane %v, read %d bytes, guard %d bytes, writer %v",
				hc.b != nil, cap(hc.buf), cap(hc.fc.buf), hc.wr.bw != nil)
			break
		}
	}
	s.fast.mu.Unlock()
}

// A connection whose wait moved to a fresh goroutine keeps its idle
// timeout: it is closed when it runs out, not before and not never.
func TestFastLane_ParkedConnectionKeepsItsIdleTimeout(t *testing.T) {
	const idle = 300 * time.Millisecond
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
	if elapsed < idle-idleGrace || elapsed > idle+2*time.Second {
		t.Errorf("idle connection closed after %v, want about %v", elapsed, idle)
	}
	if s.fast.parks.Load() != 1 {
		t.Errorf("parks = %d, want 1 (the wait moved once)", s.fast.parks.Load())
	}
}

// A connection whose wait moved to a fresh goroutine serves what comes
// next: one request, then two pipelined in one write.
func TestFastLane_ParkedConnectionServesTheNextRequests(t *testing.T) {
	s := newServer(true, nil)
	addr := start(t, s)
	c := openIdle(t, addr, 1)[0]
	br := bufio.NewReader(c)
	for round, reqs := range []string{
		"GET /a HTTP/1.1\r\nHost: edge\r\n\r\n",
		"GET /b HTTP/1.1\r\nHost: edge\r\n\r\nGET /c HTTP/1.1\r\nHost: edge\r\n\r\n",
	} {
		waitFor(t, func() bool { return s.fast.parks.Load() == int64(round+1) }, "the connection to park")
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.WriteString(c, reqs); err != nil {
			t.Fatal(err)
		}
		for range strings.Count(reqs, "Host:") {
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatalf("round %d: body: %v", round, err)
			}
			if resp.StatusCode != 200 {
				t.Fatalf("round %d: status %d", round, resp.StatusCode)
			}
			if !strings.Contains(string(body), "guarded=true") {
				t.Errorf("round %d: body %q, want the fast lane's answer", round, body)
			}
		}
	}
}
