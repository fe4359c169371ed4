package attack

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// robustLimits are small limits, so that every limit is reached fast.
const robustLimits = `limits:
  max_header_bytes: 4KiB
  max_uri_bytes: 1KiB
  max_body_bytes: 1KiB
  read_header_timeout: 300ms
  read_timeout: 1s
  max_connections: 8
`

// cutWithin bounds how long the edge may take to cut a slow or foreign
// client under robustLimits: well above the 300ms and 1s timeouts, well
// below the 10s and unlimited defaults they replace.
const cutWithin = 5 * time.Second

// TestRobust_Limits sends requests past every limit and bytes no HTTP
// client sends: the edge answers 4xx or closes the connection, never 5xx,
// nothing reaches the origin, and it keeps serving (env's cleanup).
func TestRobust_Limits(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, options{top: robustLimits})
	get := "GET /public/{id} HTTP/1.1\r\n" + hostLine
	post := "POST /public/{id} HTTP/1.1\r\n" + hostLine
	cases := []frameCase{
		// Sizes.
		{name: "one huge header", req: get + "X-Big: " + strings.Repeat("h", 5000) + "\r\n\r\n", statuses: []int{431}, closed: true},
		{name: "numerous small headers", req: get + strings.Repeat("a: b\r\n", 900) + "\r\n", statuses: []int{431}, closed: true},
		{name: "huge header name", req: get + strings.Repeat("X", 5000) + ": a\r\n\r\n", statuses: []int{431}, closed: true},
		{name: "many headers within the limit are served", req: get + strings.Repeat("X-N: v\r\n", 300) + "\r\n", statuses: []int{200}, origin: []string{"GET /public/{id} "}},
		{name: "long URI", req: "GET /public/" + strings.Repeat("u", 2000) + " HTTP/1.1\r\n" + hostLine + "\r\n", statuses: []int{414}},
		{name: "long query", req: "GET /public/{id}?q=" + strings.Repeat("q", 2000) + " HTTP/1.1\r\n" + hostLine + "\r\n", statuses: []int{414}},
		{name: "URI longer than the head limit", req: "GET /public/" + strings.Repeat("u", 5000) + " HTTP/1.1\r\n" + hostLine + "\r\n", statuses: []int{431}, closed: true},
		{name: "endless blank lines before the request line", req: strings.Repeat("\r\n", 5000) + get + "\r\n", statuses: []int{431}, closed: true},
		{name: "declared body over the limit", req: post + "Content-Length: 2000\r\n\r\n" + strings.Repeat("b", 2000), statuses: []int{413}, closed: true},
		{name: "declared body far over the limit", req: post + "Content-Length: 999999999999999999\r\n\r\n", statuses: []int{413}, closed: true},
		{name: "chunked body over the limit", req: post + "Transfer-Encoding: chunked\r\n\r\n7d0\r\n" + strings.Repeat("b", 2000) + "\r\n0\r\n\r\n", statuses: []int{413}, closed: true},
		{name: "expect 100-continue with a body over the limit", req: post + "Expect: 100-continue\r\nContent-Length: 2000\r\n\r\n", statuses: []int{413}, closed: true},
		{name: "a thousand one-byte chunks within the limit", req: post + "Transfer-Encoding: chunked\r\n\r\n" + strings.Repeat("1\r\nx\r\n", 1000) + "0\r\n\r\n",
			statuses: []int{200}, origin: []string{"POST /public/{id} " + strings.Repeat("x", 1000)}},
		{name: "Connection naming hundreds of headers", req: get + "Connection: " + strings.TrimSuffix(strings.Repeat("x-a, ", 500), ", ") + "\r\n\r\n",
			statuses: []int{200}, origin: []string{"GET /public/{id} "}},
		{name: "unknown expectation", req: post + "Expect: teapot\r\nContent-Length: 0\r\n\r\n", statuses: []int{417}, closed: true},
		// NUL and control bytes.
		{name: "NUL in a header value", req: get + "X-A: a\x00b\r\n\r\n", statuses: []int{400}, closed: true},
		{name: "control byte in a header value", req: get + "X-A: a\x01b\r\n\r\n", statuses: []int{400}, closed: true},
		{name: "DEL in a header value", req: get + "X-A: a\x7fb\r\n\r\n", statuses: []int{400}, closed: true},
		{name: "escape sequence in a header value", req: get + "X-A: \x1b[31mred\r\n\r\n", statuses: []int{400}, closed: true},
		{name: "NUL in the request target", req: "GET /public/a\x00b HTTP/1.1\r\n" + hostLine + "\r\n", statuses: []int{400}, closed: true},
		{name: "NUL in the method", req: "GE\x00T /public/{id} HTTP/1.1\r\n" + hostLine + "\r\n", statuses: []int{400}, closed: true},
		{name: "obs-text in a header value is data", req: get + "X-A: caf\xc3\xa9\xff\r\n\r\n", statuses: []int{200}, origin: []string{"GET /public/{id} "}},
		// Foreign protocols on the HTTP/1 port.
		{name: "binary junk", req: "\x00\x01\x02\x03\xff\xfe\r\n\r\n", statuses: []int{400}, closed: true},
		{name: "HTTP/2 connection preface", req: "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00", statuses: []int{400}, closed: true},
		{name: "SSLv2-style ClientHello", req: "\x80\x2e\x01\x03\x01\x00\x15\x00\x00\x00\x10\r\n\r\n", statuses: []int{400}, closed: true},
	}
	runFrameCases(t, e, cases)

	// Slow and foreign clients: the edge cuts them within its configured
	// limits, answering at most a 4xx.
	slow := []struct {
		name string
		// send writes the attack on c; it returns when the attack is
		// written or the edge closed the connection.
		send func(c net.Conn)
	}{
		{"never-finished head", func(c net.Conn) { io.WriteString(c, "GET /public/slow-head HTTP/1.1\r\n"+hostLine+"X-Slow: ") }},
		{"request line without an end", func(c net.Conn) { io.WriteString(c, "GET /public/slow-line HTTP/1.1") }},
		{"TLS record header on the plain port", func(c net.Conn) { c.Write([]byte("\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03")) }},
		{"head trickled a byte at a time", func(c net.Conn) {
			head := "GET /public/slow-trickle HTTP/1.1\r\n" + hostLine + strings.Repeat("X-Slow: 1\r\n", 100) + "\r\n"
			tick := time.NewTicker(20 * time.Millisecond)
			defer tick.Stop()
			for i := range len(head) {
				if _, err := c.Write([]byte{head[i]}); err != nil {
					return // cut by the edge
				}
				<-tick.C
			}
		}},
		{"never-finished declared body", func(c net.Conn) {
			io.WriteString(c, "POST /public/slow-body HTTP/1.1\r\n"+hostLine+"Content-Length: 100\r\n\r\n0123456789")
		}},
		{"never-finished chunked body", func(c net.Conn) {
			io.WriteString(c, "POST /public/slow-chunks HTTP/1.1\r\n"+hostLine+"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
		}},
	}
	for _, s := range slow {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			c, err := net.Dial("tcp", e.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			start := time.Now()
			c.SetDeadline(start.Add(wireDeadline))
			s.send(c)
			got, err := io.ReadAll(c)
			if isTimeout(err) {
				t.Fatalf("the edge neither answered nor closed within %s", wireDeadline)
			}
			if d := time.Since(start); d > cutWithin {
				t.Errorf("the edge took %s to cut the client, want less than %s", d, cutWithin)
			}
			if s := string(got); s != "" && !strings.HasPrefix(s, "HTTP/1.1 4") {
				t.Errorf("the edge answered %.60q, want a 4xx or nothing", s)
			}
			// Bodies are streamed: the origin may have the head and the bytes
			// that arrived, but the edge aborts the origin's connection
			// mid-message, so no origin ever gets a complete request. (The
			// recording origin takes an early EOF as the end of a
			// Content-Length body; a chunked one it never records.)
			for _, r := range e.origin.requests() {
				if !strings.HasPrefix(r.Target, "/prod/public/slow") {
					continue
				}
				cl := r.Header.Get("Content-Length")
				if r.Header.Get("Transfer-Encoding") != "" || cl == "" || cl == fmt.Sprint(len(r.Body)) {
					t.Errorf("the origin got a complete %s %s (%d body bytes, Content-Length %q) the viewer never finished", r.Method, r.Target, len(r.Body), cl)
				}
			}
		})
	}

	t.Run("TLS handshake on the plain port", func(t *testing.T) {
		t.Parallel()
		c, err := net.Dial("tcp", e.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		start := time.Now()
		c.SetDeadline(start.Add(wireDeadline))
		tc := tls.Client(c, &tls.Config{ServerName: host, InsecureSkipVerify: true})
		if err := tc.Handshake(); err == nil {
			t.Fatal("a TLS handshake with the plain listener succeeded")
		} else if isTimeout(err) {
			t.Fatalf("the edge neither answered nor closed: %v", err)
		}
		if d := time.Since(start); d > cutWithin {
			t.Errorf("the handshake took %s to fail, want less than %s", d, cutWithin)
		}
	})
}

// TestRobust_Connections holds every connection the edge accepts with slow
// heads, floods it with concurrent and pipelined requests, and checks that
// it serves them all and recovers once the slow clients are cut.
func TestRobust_Connections(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, options{top: robustLimits})

	t.Run("max_connections slow heads", func(t *testing.T) {
		// More slow clients than max_connections: the edge holds the
		// extra ones back and cuts each within read_header_timeout.
		var wg sync.WaitGroup
		cut := make(chan error, 12)
		for range 12 {
			c, err := net.Dial("tcp", e.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(wireDeadline))
			io.WriteString(c, "GET /public/held HTTP/1.1\r\n"+hostLine)
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := io.ReadAll(c)
				cut <- err
			}()
		}
		wg.Wait()
		close(cut)
		for err := range cut {
			if isTimeout(err) {
				t.Fatal("a slow client held its connection past every limit")
			}
		}
		w := wire(t, e.addr, "GET /public/after-slow HTTP/1.1\r\n"+hostLine+"\r\n", 1)
		if got := w.statuses(); len(got) != 1 || got[0] != http.StatusOK {
			t.Fatalf("after the slow clients GET = %v (%v), want 200", got, w.err)
		}
	})

	t.Run("concurrent requests", func(t *testing.T) {
		var wg sync.WaitGroup
		statuses := make(chan int, 64)
		for i := range 64 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, _ := http.NewRequest("GET", fmt.Sprintf("http://%s/public/concurrent-%d", e.addr, i), nil)
				req.Host = host
				res, err := client.Do(req)
				if err != nil {
					statuses <- 0
					return
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				statuses <- res.StatusCode
			}()
		}
		wg.Wait()
		close(statuses)
		for s := range statuses {
			if s != http.StatusOK {
				t.Errorf("a concurrent request got %d, want 200", s)
			}
		}
	})

	t.Run("a hundred pipelined requests", func(t *testing.T) {
		n := e.origin.count()
		var b strings.Builder
		for i := range 100 {
			fmt.Fprintf(&b, "GET /public/pipelined-%d HTTP/1.1\r\n%s\r\n", i, hostLine)
		}
		w := wire(t, e.addr, b.String(), 100)
		if len(w.responses) != 100 {
			t.Fatalf("got %d answers (%v), want 100", len(w.responses), w.err)
		}
		for i, r := range w.responses {
			if want := fmt.Sprintf("resource=/prod/public/pipelined-%d user=", i); r.status != http.StatusOK || r.body != want {
				t.Fatalf("answer %d = %d %q, want 200 %q", i, r.status, r.body, want)
			}
		}
		if got := len(e.origin.since(n)); got != 100 {
			t.Errorf("the origin got %d requests, want 100", got)
		}
	})
}

// TestRobust_SlowHeadAfterAGoodRequest sends one good request, then
// trickles the next head on the same kept-alive connection: the head is
// cut within read_header_timeout, not left to the much longer idle_timeout,
// on both HTTP/1.1 lanes.
func TestRobust_SlowHeadAfterAGoodRequest(t *testing.T) {
	t.Parallel()
	for _, l := range lanes {
		t.Run(l.name, func(t *testing.T) {
			t.Parallel()
			e := newEnvWith(t, options{top: l.top + "\nlimits: {read_header_timeout: 300ms, idle_timeout: 60s}"})
			c, err := net.Dial("tcp", e.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(wireDeadline))
			io.WriteString(c, "GET /public/first HTTP/1.1\r\n"+hostLine+"\r\n")
			br := bufio.NewReader(c)
			res, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK || res.Close {
				t.Fatalf("first request = %d (close %v), want 200 kept alive", res.StatusCode, res.Close)
			}

			start := time.Now()
			io.WriteString(c, "GET /public/second HTTP/1.1\r\n") // and nothing more
			_, err = io.ReadAll(br)
			if isTimeout(err) {
				t.Fatal("an unfinished second head held the connection past every limit")
			}
			if took := time.Since(start); took > cutWithin {
				t.Errorf("unfinished second head cut after %v, want within read_header_timeout (300ms; idle_timeout is 60s)", took)
			}
		})
	}
}
