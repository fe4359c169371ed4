package edge

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestFraming_RawRequests sends raw bytes where net/http's client would
// normalise the request, and checks what the viewer got and what reached
// the origin.
func TestFraming_RawRequests(t *testing.T) {
	t.Parallel()
	const h = "Host: edge\r\n"
	tests := []struct {
		name     string
		req      string
		statuses []int
		closed   bool     // the connection is closed after the last answer
		origin   []string // "METHOD path body" as the origin saw it
	}{
		{"te and cl", "POST /a HTTP/1.1\r\n" + h + "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
			[]int{400}, true, nil},
		{"te and cl smuggling", "POST /a HTTP/1.1\r\n" + h + "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /admin HTTP/1.1\r\n" + h + "\r\n",
			[]int{400}, true, nil},
		{"te gzip chunked", "POST /a HTTP/1.1\r\n" + h + "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", []int{400}, true, nil},
		{"te chunked twice", "POST /a HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", []int{400}, true, nil},
		{"te identity", "POST /a HTTP/1.1\r\n" + h + "Transfer-Encoding: identity\r\n\r\n", []int{400}, true, nil},
		{"te in http/1.0", "POST /a HTTP/1.0\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", []int{400}, true, nil},
		{"duplicate cl same", "POST /a HTTP/1.1\r\n" + h + "Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc", []int{400}, true, nil},
		{"duplicate cl different", "POST /a HTTP/1.1\r\n" + h + "Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", []int{400}, true, nil},
		{"cl list", "POST /a HTTP/1.1\r\n" + h + "Content-Length: 3, 3\r\n\r\nabc", []int{400}, true, nil},
		{"cl plus sign", "POST /a HTTP/1.1\r\n" + h + "Content-Length: +3\r\n\r\nabc", []int{400}, true, nil},
		{"cl empty", "POST /a HTTP/1.1\r\n" + h + "Content-Length:\r\n\r\n", []int{400}, true, nil},
		{"obs-fold", "GET /a HTTP/1.1\r\n" + h + "X-A: b\r\n c\r\n\r\n", []int{400}, true, nil},
		{"obs-fold tab", "GET /a HTTP/1.1\r\n" + h + "X-A: b\r\n\tc\r\n\r\n", []int{400}, true, nil},
		{"space in header name", "GET /a HTTP/1.1\r\n" + h + "X A: b\r\n\r\n", []int{400}, true, nil},
		{"space before colon", "GET /a HTTP/1.1\r\n" + h + "Content-Length : 3\r\n\r\nabc", []int{400}, true, nil},
		{"no colon", "GET /a HTTP/1.1\r\n" + h + "X-A\r\n\r\n", []int{400}, true, nil},
		{"options asterisk", "OPTIONS * HTTP/1.1\r\n" + h + "\r\n", []int{400}, false, nil},
		{"connect", "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", []int{405}, false, nil},
		{"h2 preface without h2c", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", []int{400}, true, nil},
		{"absolute-form", "GET http://evil.example/x/../y?q=1 HTTP/1.1\r\n" + h + "\r\n", []int{200}, false, []string{"GET /y "}},
		{"absolute-form no path", "GET http://evil.example HTTP/1.1\r\n" + h + "\r\n", []int{200}, false, []string{"GET / "}},
		{"absolute-form other scheme", "GET ftp://evil.example/x HTTP/1.1\r\n" + h + "\r\n", []int{400}, false, nil},
		{"encoded slash", "GET /a%2Fb HTTP/1.1\r\n" + h + "\r\n", []int{400}, false, nil},
		{"raw backslash", "GET /a\\..\\admin HTTP/1.1\r\n" + h + "\r\n", []int{400}, false, nil},
		{"nul in path", "GET /a%00.json HTTP/1.1\r\n" + h + "\r\n", []int{400}, false, nil},
		{"bad percent-encoding in path", "GET /a%zz HTTP/1.1\r\n" + h + "\r\n", []int{400}, true, nil},
		{"truncated percent-encoding", "GET /a% HTTP/1.1\r\n" + h + "\r\n", []int{400}, true, nil},
		{"bad percent-encoding in query passes", "GET /a?x=%zz HTTP/1.1\r\n" + h + "\r\n", []int{200}, false, []string{"GET /a "}},
		{"raw NUL in target", "GET /a\x00b HTTP/1.1\r\n" + h + "\r\n", []int{400}, true, nil},
		{"missing host", "GET /a HTTP/1.1\r\n\r\n", []int{400}, true, nil},
		{"two hosts", "GET /a HTTP/1.1\r\n" + h + h + "\r\n", []int{400}, true, nil},
		{"http/1.0 without host", "GET /a HTTP/1.0\r\n\r\n", []int{200}, true, []string{"GET /a "}},
		{"invalid method", "G(T /a HTTP/1.1\r\n" + h + "\r\n", []int{400}, true, nil},
		{"pipelined gets", "GET /1 HTTP/1.1\r\n" + h + "\r\nGET /2 HTTP/1.1\r\n" + h + "\r\n", []int{200, 200}, false,
			[]string{"GET /1 ", "GET /2 "}},
		{"pipelined post then get", "POST /1 HTTP/1.1\r\n" + h + "Content-Length: 5\r\n\r\nhelloGET /2 HTTP/1.1\r\n" + h + "\r\n",
			[]int{200, 200}, false, []string{"POST /1 hello", "GET /2 "}},
		{"chunked with extension and trailer then get",
			"POST /1 HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nX-Trailer: 1\r\n\r\nGET /2 HTTP/1.1\r\n" + h + "\r\n",
			[]int{200, 200}, false, []string{"POST /1 abcde", "GET /2 "}},
		{"crlf after post body", "POST /1 HTTP/1.1\r\n" + h + "Content-Length: 1\r\n\r\nx\r\nGET /2 HTTP/1.1\r\n" + h + "\r\n",
			[]int{200, 200}, false, []string{"POST /1 x", "GET /2 "}},
		{"good then smuggled", "GET /1 HTTP/1.1\r\n" + h + "\r\nPOST /2 HTTP/1.1\r\n" + h + "Content-Length: 1\r\nContent-Length: 1\r\n\r\nx",
			[]int{200, 400}, true, []string{"GET /1 "}},
		{"bare lf chunk line", "POST /1 HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n3\nabc\n0\n\n",
			[]int{400}, true, nil},
		{"bare lf head", "GET /1 HTTP/1.1\nHost: edge\n\n", []int{400}, true, nil},
		{"bare lf hiding content-length", "POST /1 HTTP/1.1\r\n" + h + "X-A: 1\nContent-Length: 3\r\n\r\nabc", []int{400}, true, nil},
		{"bare lf after a post body", "POST /1 HTTP/1.1\r\n" + h + "Content-Length: 1\r\n\r\nx\nGET /2 HTTP/1.1\r\n" + h + "\r\n",
			[]int{200, 400}, true, []string{"POST /1 x"}},
		{"bare cr in a header line", "POST /1 HTTP/1.1\r\n" + h + "X-A: 1\rContent-Length: 3\r\n\r\nabc", []int{400}, true, nil},
		{"content-length with an underscore", "POST /1 HTTP/1.1\r\n" + h + "Content_Length: 3\r\n\r\nabc", []int{400}, true, nil},
		{"transfer-encoding with an underscore", "POST /1 HTTP/1.1\r\n" + h + "TRANSFER_ENCODING: chunked\r\n\r\n0\r\n\r\n", []int{400}, true, nil},
		{"request line in a trailer", "POST /1 HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nGET /2 HTTP/1.1\r\n" + h + "\r\n",
			[]int{400}, true, nil},
		{"chunk extensions outweighing the data", "POST /1 HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n" +
			strings.Repeat("1;e="+strings.Repeat("x", 1000)+"\r\nx\r\n", 40) + "0\r\n\r\n", []int{400}, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := &fakeOrigin{}
			e := startEdge(t, Config{}, []Behavior{{PathPattern: "*", Origin: o, AllowedMethods: []string{"GET", "POST", "OPTIONS"}}}, Options{})
			res := rawExchange(t, e.addr, tt.req, len(tt.statuses))
			var statuses []int
			for _, r := range res {
				if r.err != nil {
					t.Fatalf("reading the answer: %v (got %v so far)", r.err, statuses)
				}
				statuses = append(statuses, r.resp.StatusCode)
				if r.resp.Header.Get("X-Request-Id") == "" {
					t.Errorf("answer %d has no X-Request-Id", r.resp.StatusCode)
				}
				if r.resp.StatusCode >= 400 {
					var m map[string]string
					if err := json.Unmarshal([]byte(r.body), &m); err != nil || m["request_id"] != r.resp.Header.Get("X-Request-Id") {
						t.Errorf("error body %q, want JSON with the request id", r.body)
					}
				}
			}
			if diff := cmp.Diff(tt.statuses, statuses); diff != "" {
				t.Errorf("statuses (-want +got):\n%s", diff)
			}
			if last := res[len(res)-1]; last.closed != tt.closed {
				t.Errorf("connection closed = %v, want %v", last.closed, tt.closed)
			}
			var got []string
			for _, s := range o.requests() {
				got = append(got, s.Method+" "+s.Path+" "+s.Body)
			}
			if diff := cmp.Diff(tt.origin, got); diff != "" {
				t.Errorf("origin saw (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFraming_LimitsEndToEnd(t *testing.T) {
	t.Parallel()
	o := &fakeOrigin{}
	cfg := Config{Limits: Limits{MaxHeaderBytes: 4096, MaxURIBytes: 1024, MaxBodyBytes: 100}}
	e := startEdge(t, cfg, []Behavior{{PathPattern: "*", Origin: o, AllowedMethods: []string{"GET", "POST"}}}, Options{})
	big := strings.Repeat("a", 2000)
	chunk := strings.Repeat("b", 150)
	tests := []struct {
		name   string
		req    string
		want   int
		closed bool
	}{
		{"uri too long", "GET /" + strings.Repeat("u", 1100) + " HTTP/1.1\r\nHost: e\r\n\r\n", 414, false},
		{"one huge header", "GET / HTTP/1.1\r\nHost: e\r\nX-Big: " + strings.Repeat("h", 5000) + "\r\n\r\n", 431, true},
		{"many headers", "GET / HTTP/1.1\r\nHost: e\r\n" + strings.Repeat("X-Many: "+big+"\r\n", 3) + "\r\n", 431, true},
		{"declared body too large", "POST / HTTP/1.1\r\nHost: e\r\nContent-Length: 101\r\n\r\n" + strings.Repeat("c", 101), 413, true},
		{"chunked body too large", "POST / HTTP/1.1\r\nHost: e\r\nTransfer-Encoding: chunked\r\n\r\n96\r\n" + chunk + "\r\n0\r\n\r\n", 413, true},
		{"control byte in header value", "GET / HTTP/1.1\r\nHost: e\r\nX-A: a\x01b\r\n\r\n", 400, true},
	}
	for _, tt := range tests {
		res := rawExchange(t, e.addr, tt.req, 1)[0]
		if res.err != nil {
			t.Errorf("%s: %v", tt.name, res.err)
			continue
		}
		if res.resp.StatusCode != tt.want || res.closed != tt.closed {
			t.Errorf("%s: = %d closed=%v, want %d closed=%v", tt.name, res.resp.StatusCode, res.closed, tt.want, tt.closed)
		}
	}
	if n := len(o.requests()); n != 0 {
		t.Fatalf("origin got %d requests, want none", n)
	}
	// The edge keeps serving.
	if r := rawExchange(t, e.addr, "GET / HTTP/1.1\r\nHost: e\r\n\r\n", 1)[0]; r.err != nil || r.resp.StatusCode != 200 {
		t.Fatalf("after the refusals GET / = %+v, want 200", r)
	}
}

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
	c := newFramingConn(edge, 1024)
	defer c.Close()
	go io.WriteString(viewer, "GET /1 HTTP/1.1\r\nHost: e\r\n\r\nPOST /2 HTTP/1.1\r\nHost: e\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx")
	want := "GET /1 HTTP/1.1\r\nHost: e\r\n\r\n" + syntheticRequest
	got := make([]byte, len(want))
	if _, err := io.ReadFull(c, got); err != nil || string(got) != want {
		t.Fatalf("read %q, %v, want %q", got, err, want)
	}
	if v := c.verdictFor(1); v == nil || v.status != 400 {
		t.Fatalf("verdict for the second request = %v, want 400", v)
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

// TestFraming_BodyThatStopsArrivingIs408 checks that a body that stops
// arriving within read_timeout is the viewer's fault (408), not the
// origin's.
func TestFraming_BodyThatStopsArrivingIs408(t *testing.T) {
	t.Parallel()
	o := &fakeOrigin{}
	e := startEdge(t, Config{Limits: Limits{ReadHeaderTimeout: 200 * time.Millisecond, ReadTimeout: 200 * time.Millisecond}},
		[]Behavior{{PathPattern: "*", Origin: o, AllowedMethods: []string{"POST"}}}, Options{})
	res := rawExchange(t, e.addr, "POST /a HTTP/1.1\r\nHost: e\r\nContent-Length: 10\r\n\r\nabc", 1)[0]
	if res.err != nil || res.resp.StatusCode != 408 || !res.closed {
		t.Fatalf("= %+v, want 408 and the connection closed", res)
	}
	if n := len(o.requests()); n != 0 {
		t.Fatalf("origin got %d requests, want none", n)
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
		c := newFramingConn(&chunkConn{data: append([]byte(nil), in...), sizes: sizes}, 1024)
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
	fc := newFramingConn(server, 4096)
	fc.headTimeout = 200 * time.Millisecond
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
