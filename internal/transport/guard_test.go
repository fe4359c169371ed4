package transport

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// chunkConn returns its data in chunks of the given sizes (cycled), then
// io.EOF.
type chunkConn struct {
	net.Conn
	data  []byte
	sizes []byte
	i     int
}

func (c *chunkConn) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := len(p)
	if len(c.sizes) > 0 {
		n = min(n, int(c.sizes[c.i%len(c.sizes)])+1)
		c.i++
	}
	n = copy(p, c.data[:min(n, len(c.data))])
	c.data = c.data[n:]
	return n, nil
}

// TestFraming_RefusedHeadLeavesTheConnectionOpenForTheRequestBefore checks
// that after a refused head the guard reports no end of stream: net/http's
// background read would take it for a viewer that went away and cancel the
// request still being served from earlier in the pipeline.
func TestFraming_RefusedHeadLeavesTheConnectionOpenForTheRequestBefore(t *testing.T) {
	t.Parallel()
	viewer, edge := net.Pipe()
	defer viewer.Close()
	c := newFramingConn(edge, 1024, 0)
	defer c.Close()
	go io.WriteString(viewer, "GET /1 HTTP/1.1\r\nHost: e\r\n\r\nPOST /2 HTTP/1.1\r\nHost: e\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx")
	want := "GET /1 HTTP/1.1\r\nHost: e\r\n\r\n" + syntheticRequest
	got := make([]byte, len(want))
	if _, err := io.ReadFull(c, got); err != nil || string(got) != want {
		t.Fatalf("read %q, %v, want %q", got, err, want)
	}
	if st, _ := (Framing{c: c, seq: 1}).Refused(); st != 400 {
		t.Fatalf("verdict for the second request = %d, want 400", st)
	}
	if st, _ := (Framing{c: c, seq: 0}).Refused(); st != 0 {
		t.Fatalf("verdict for the first request = %d, want none", st)
	}
	// The viewer is still there: the next read waits like an idle one,
	// until the deadline net/http sets to end it.
	_ = c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if n, err := c.Read(make([]byte, 1)); n != 0 || err == nil || errors.Is(err, io.EOF) {
		t.Fatalf("read after the synthetic request = %d, %v, want a timeout", n, err)
	}
	// Once the viewer goes away, so does the stream.
	_ = c.SetReadDeadline(time.Time{})
	viewer.Close()
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Fatal("read after the viewer closed succeeded")
	}
}

func FuzzFramingConn(f *testing.F) {
	for _, s := range []string{
		"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcGET /2 HTTP/1.1\r\nHost: a\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;x\r\nabc\r\n0\r\nT: 1\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n",
		"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
		"\r\n\r\nGET /%zz HTTP/1.1\r\n\r\n",
	} {
		f.Add([]byte(s), []byte{0}, uint16(64))
		f.Add([]byte(s), []byte{3, 200, 1}, uint16(7))
	}
	f.Fuzz(func(t *testing.T, in, sizes []byte, readSize uint16) {
		if len(in) > 1<<14 {
			return
		}
		c := newFramingConn(&chunkConn{data: append([]byte(nil), in...), sizes: sizes}, 1024, 0)
		var out []byte
		buf := make([]byte, int(readSize)%4096+1)
		for i := 0; ; i++ {
			if i > 4*(len(in)+len(syntheticRequest))+16 {
				t.Fatalf("no progress reading %q", in)
			}
			n, err := c.Read(buf)
			out = append(out, buf[:n]...)
			if err != nil {
				break
			}
		}
		if bytes.Equal(out, in) {
			if v := c.bad.Load(); v != nil && v.status == 431 {
				t.Fatalf("head refused as too large but passed on unchanged: %q", in)
			}
			return
		}
		if c.st == stHungUp {
			if !bytes.HasPrefix(in, out) || c.bad.Load() == nil {
				t.Fatalf("guard hung up but changed the stream or gave no verdict:\n in %q\nout %q", in, out)
			}
			return
		}
		k := len(out) - len(syntheticRequest)
		if k < 0 || string(out[k:]) != syntheticRequest || !bytes.Equal(out[:k], in[:k]) {
			t.Fatalf("guard changed the stream other than by cutting it and appending the synthetic request:\n in %q\nout %q", in, out)
		}
		if c.bad.Load() == nil {
			t.Fatalf("synthetic request without a verdict for %q", in)
		}
	})
}

// TestFramingConn_HeadDeadline: an unfinished head is bounded by the head
// timeout from its first byte, even under a much later caller deadline,
// and a complete head gives the body back the caller's deadline.
func TestFramingConn_HeadDeadline(t *testing.T) {
	client, server := net.Pipe()
	defer client.Close()
	fc := newFramingConn(server, 4096, 200*time.Millisecond)
	defer fc.Close()
	fc.SetReadDeadline(time.Now().Add(time.Minute)) // the caller's idle deadline

	head := "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n"
	bodySent := make(chan struct{})
	go func() {
		// The head in two pieces: the guard arms the head deadline
		// between them.
		io.WriteString(client, head[:10])
		io.WriteString(client, head[10:])
		// The body comes later than the head timeout: a slow upload, which
		// the caller's deadline (not the head's) governs.
		time.Sleep(3 * fc.headTimeout)
		io.WriteString(client, "hello")
		close(bodySent)
		io.WriteString(client, "GET /b HTTP/1.1\r\n") // a head that never ends
	}()

	got := make([]byte, len(head)+5)
	if _, err := io.ReadFull(fc, got); err != nil {
		t.Fatalf("reading the head and a slow body: %v (the head deadline outlived its head)", err)
	}
	<-bodySent
	start := time.Now()
	_, err := fc.Read(make([]byte, 64))
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("unfinished head: Read = %v, want a timeout", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("unfinished head cut after %v, want about the head timeout (%v), not the caller's minute", took, fc.headTimeout)
	}
}

// loopConn serves the same bytes over and over as its read side.
type loopConn struct {
	net.Conn
	data []byte
	off  int
}

func (c *loopConn) Read(p []byte) (int, error) {
	n := copy(p, c.data[c.off:])
	c.off = (c.off + n) % len(c.data)
	return n, nil
}

// BenchmarkFramingConn measures the framing guard on a typical API request
// head read through a 4KiB buffer, as net/http reads it.
func BenchmarkFramingConn(b *testing.B) {
	head := "GET /api/v1/orders/12345?expand=items HTTP/1.1\r\nHost: api.example.com\r\n" +
		"User-Agent: curl/8.5.0\r\nAccept: application/json\r\nAccept-Encoding: gzip\r\n" +
		"Authorization: Bearer " + strings.Repeat("x", 600) + "\r\nX-Trace: abc\r\n\r\n"
	c := newFramingConn(&loopConn{data: []byte(head)}, 32<<10, 0)
	buf := make([]byte, 4096)
	b.SetBytes(int64(len(head)))
	b.ReportAllocs()
	for b.Loop() {
		for got := 0; got < len(head); {
			n, err := c.Read(buf[:min(len(buf), len(head)-got)])
			if err != nil {
				b.Fatal(err)
			}
			got += n
		}
	}
}
