package edge

import (
	"encoding/json"
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
