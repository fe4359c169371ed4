package attack

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// frameCase is one raw exchange on a fresh connection. In req and origin,
// {id} stands for a path segment unique to the case and {auth} for an
// Authorization header line with alice's token.
type frameCase struct {
	name     string
	req      string
	statuses []int // the answers, in order
	closed   bool  // the edge closes the connection after the last one
	// origin lists what reached the origin, in order, each as
	// "METHOD target body"; nil means nothing.
	origin []string
}

// Pieces of raw requests.
const (
	hostLine = "Host: " + host + "\r\n"
	chunked5 = "5\r\nhello\r\n0\r\n\r\n" // a chunked body: "hello"
)

// smuggled is a request hidden behind a framing trick. It names the open
// behavior, so that nothing but the framing rules stands between it and the
// origin if the edge ever reads it as a request.
const smuggled = "GET /public/smuggled HTTP/1.1\r\n" + hostLine + "\r\n"

// TestFraming_Smuggling attacks the message framing over raw connections:
// every head a front proxy could read differently from the edge is
// refused with 400 and the connection closed, and nothing of it, nor of
// what follows it, reaches the origin.
func TestFraming_Smuggling(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bad, ok := []int{http.StatusBadRequest}, []int{http.StatusOK}
	post := "POST /public/{id} HTTP/1.1\r\n" + hostLine
	cases := []frameCase{
		// Transfer-Encoding other than exactly "chunked".
		{name: "TE chunked, identity", req: post + "Transfer-Encoding: chunked, identity\r\n\r\n" + chunked5, statuses: bad, closed: true},
		{name: "TE identity, chunked", req: post + "Transfer-Encoding: identity, chunked\r\n\r\n" + chunked5, statuses: bad, closed: true},
		{name: "TE gzip, chunked", req: post + "Transfer-Encoding: gzip, chunked\r\n\r\n" + chunked5, statuses: bad, closed: true},
		{name: "TE xchunked", req: post + "Transfer-Encoding: xchunked\r\n\r\n" + chunked5, statuses: bad, closed: true},
		{name: "TE chunked with a suffix", req: post + "Transfer-Encoding: chunked-false\r\n\r\n" + chunked5, statuses: bad, closed: true},
		{name: "TE identity", req: post + "Transfer-Encoding: identity\r\n\r\n" + chunked5, statuses: bad, closed: true},
		{name: "TE behind a vertical tab", req: post + "Transfer-Encoding: \x0bchunked\r\n\r\n" + chunked5, statuses: bad, closed: true},
		{name: "TE quoted", req: post + "Transfer-Encoding: \"chunked\"\r\n\r\n" + chunked5, statuses: bad, closed: true},
		{name: "TE with a parameter", req: post + "Transfer-Encoding: chunked;q=1\r\n\r\n" + chunked5, statuses: bad, closed: true},
		{name: "TE empty", req: post + "Transfer-Encoding: \r\n\r\n" + chunked5, statuses: bad, closed: true},
		{name: "TE twice", req: post + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked5, statuses: bad, closed: true},
		{name: "TE chunked then identity", req: post + "Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n" + chunked5, statuses: bad, closed: true},
		{name: "TE space before the colon", req: post + "Transfer-Encoding : chunked\r\n\r\n" + chunked5, statuses: bad, closed: true},
		{name: "TE underscore alias", req: post + "Transfer_Encoding: chunked\r\n\r\n" + chunked5, statuses: bad, closed: true},
		{name: "TE in HTTP/1.0", req: "POST /public/{id} HTTP/1.0\r\n" + hostLine + "Transfer-Encoding: chunked\r\n\r\n" + chunked5, statuses: bad, closed: true},
		// Coding names are case-insensitive (RFC 9112 section 7), and OWS
		// around a field value is not part of it: both are "chunked".
		{name: "TE Chunked in another case is chunked", req: post + "Transfer-Encoding: ChUnKeD\r\n\r\n" + chunked5, statuses: ok, origin: []string{"POST /public/{id} hello"}},
		{name: "TE with optional whitespace is chunked", req: post + "Transfer-Encoding: \t chunked \t\r\n\r\n" + chunked5, statuses: ok, origin: []string{"POST /public/{id} hello"}},
		// Transfer-Encoding with Content-Length, and malformed Content-Length.
		{name: "TE and CL hiding a request (TE.CL)", req: post + "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n5c\r\n" + smuggled + "\r\n0\r\n\r\n", statuses: bad, closed: true},
		{name: "CL zero and TE hiding a request (CL.TE)", req: post + "Content-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled, statuses: bad, closed: true},
		{name: "TE before CL", req: post + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n" + chunked5, statuses: bad, closed: true},
		{name: "duplicate CL with the same value", req: post + "Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello", statuses: bad, closed: true},
		{name: "duplicate CL with different values", req: post + "Content-Length: 5\r\nContent-Length: 0\r\n\r\nhello", statuses: bad, closed: true},
		{name: "CL as a list", req: post + "Content-Length: 5, 5\r\n\r\nhello", statuses: bad, closed: true},
		{name: "CL with a plus sign", req: post + "Content-Length: +5\r\n\r\nhello", statuses: bad, closed: true},
		{name: "CL negative", req: post + "Content-Length: -1\r\n\r\nhello", statuses: bad, closed: true},
		{name: "CL in hex", req: post + "Content-Length: 0x5\r\n\r\nhello", statuses: bad, closed: true},
		{name: "CL with a space inside", req: post + "Content-Length: 5 5\r\n\r\nhello", statuses: bad, closed: true},
		{name: "CL beyond 64 bits", req: post + "Content-Length: 18446744073709551621\r\n\r\nhello", statuses: bad, closed: true},
		{name: "CL empty", req: post + "Content-Length: \r\n\r\nhello", statuses: bad, closed: true},
		{name: "CL underscore alias", req: post + "Content_Length: 5\r\n\r\nhello", statuses: bad, closed: true},
		{name: "CL with optional whitespace is a length", req: post + "Content-Length: \t 5 \r\n\r\nhello", statuses: ok, origin: []string{"POST /public/{id} hello"}},
		{name: "request hidden in a declared POST body stays a body", req: post + fmt.Sprintf("Content-Length: %d\r\n\r\n", len(smuggled)) + smuggled,
			statuses: ok, origin: []string{"POST /public/{id} " + smuggled}},
		{name: "request hidden in a declared GET body stays a body", req: "GET /echo/{id} HTTP/1.1\r\n" + hostLine + "{auth}" + fmt.Sprintf("Content-Length: %d\r\n\r\n", len(smuggled)) + smuggled,
			statuses: ok, origin: []string{"GET /echo/{id} " + smuggled}},
		// obs-fold.
		{name: "obs-fold with a space", req: post + "X-A: b\r\n c\r\nContent-Length: 0\r\n\r\n", statuses: bad, closed: true},
		{name: "obs-fold with a tab", req: post + "X-A: b\r\n\tc\r\nContent-Length: 0\r\n\r\n", statuses: bad, closed: true},
		{name: "obs-fold hiding Transfer-Encoding", req: post + "X-A: b\r\n Transfer-Encoding: chunked\r\n\r\n" + chunked5, statuses: bad, closed: true},
		{name: "obs-fold continuing Host", req: "GET /public/{id} HTTP/1.1\r\nHost: api\r\n .example\r\n\r\n", statuses: bad, closed: true},
		{name: "first header line folded into the request line", req: "GET /public/{id} HTTP/1.1\r\n " + hostLine + "\r\n", statuses: bad, closed: true},
		// Header names.
		{name: "space in a header name", req: post + "Content Length: 5\r\n\r\nhello", statuses: bad, closed: true},
		{name: "space before the colon", req: post + "Content-Length : 5\r\n\r\nhello", statuses: bad, closed: true},
		{name: "tab before the colon", req: post + "Content-Length\t: 5\r\n\r\nhello", statuses: bad, closed: true},
		{name: "empty header name", req: post + ": 5\r\nContent-Length: 0\r\n\r\n", statuses: bad, closed: true},
		{name: "header line without a colon", req: post + "Content-Length 5\r\n\r\nhello", statuses: bad, closed: true},
		{name: "NUL in a header name", req: post + "Content-Length\x00: 5\r\n\r\nhello", statuses: bad, closed: true},
		{name: "non-ASCII header name", req: post + "Content-L\xc3\xa9ngth: 5\r\n\r\nhello", statuses: bad, closed: true},
		// Line endings: only CRLF ends a line of a head.
		{name: "bare LF hiding Content-Length", req: post + "X-A: 1\nContent-Length: 5\r\n\r\nhello", statuses: bad, closed: true},
		{name: "bare LF hiding Transfer-Encoding", req: post + "X-A: 1\nTransfer-Encoding: chunked\r\n\r\n" + chunked5, statuses: bad, closed: true},
		{name: "bare LF head", req: "GET /public/{id} HTTP/1.1\n" + "Host: " + host + "\n\n", statuses: bad, closed: true},
		{name: "bare LF ending the head", req: "GET /public/{id} HTTP/1.1\r\n" + hostLine + "\n", statuses: bad, closed: true},
		{name: "bare CR inside a header value", req: post + "X-A: 1\rContent-Length: 5\r\n\r\nhello", statuses: bad, closed: true},
		{name: "bare CR before CRLF", req: "GET /public/{id} HTTP/1.1\r\nHost: " + host + "\r\r\n\r\n", statuses: bad, closed: true},
		{name: "bare CR in the request line", req: "GET /public/{id}\rHTTP/1.1\r\n" + hostLine + "\r\n", statuses: bad, closed: true},
		// Chunked bodies.
		{name: "negative chunk size", req: post + "Transfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n", statuses: bad, closed: true},
		{name: "hex prefix in a chunk size", req: post + "Transfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n", statuses: bad, closed: true},
		{name: "chunk size beyond 64 bits", req: post + "Transfer-Encoding: chunked\r\n\r\n10000000000000005\r\nhello\r\n0\r\n\r\n", statuses: bad, closed: true},
		{name: "whitespace before a chunk size", req: post + "Transfer-Encoding: chunked\r\n\r\n 5\r\nhello\r\n0\r\n\r\n", statuses: bad, closed: true},
		{name: "chunk data longer than its size", req: post + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello" + smuggled + "\r\n0\r\n\r\n", statuses: bad, closed: true},
		{name: "chunk data shorter than its size", req: post + "Transfer-Encoding: chunked\r\n\r\n5\r\nhel\r\n0\r\n\r\n" + smuggled, statuses: bad, closed: true},
		{name: "bare LF after a chunk size", req: post + "Transfer-Encoding: chunked\r\n\r\n5\nhello\n0\n\n", statuses: bad, closed: true},
		{name: "oversized chunk extension", req: post + "Transfer-Encoding: chunked\r\n\r\n5;e=" + strings.Repeat("x", 5000) + "\r\nhello\r\n0\r\n\r\n", statuses: bad, closed: true},
		{name: "chunk extensions outweighing the data", req: post + "Transfer-Encoding: chunked\r\n\r\n" + strings.Repeat("1;e="+strings.Repeat("x", 1000)+"\r\nx\r\n", 40) + "0\r\n\r\n", statuses: bad, closed: true},
		{name: "request line in the trailer", req: post + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n" + smuggled, statuses: bad, closed: true},
		{name: "chunk extension is not data", req: post + "Transfer-Encoding: chunked\r\n\r\n5;name=value\r\nhello\r\n0\r\n\r\n", statuses: ok, origin: []string{"POST /public/{id} hello"}},
		{name: "Content-Length in the trailer frames nothing",
			req:      post + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nContent-Length: 99\r\n\r\nGET /public/{id}-next HTTP/1.1\r\n" + hostLine + "\r\n",
			statuses: []int{200, 200}, origin: []string{"POST /public/{id} hello", "GET /public/{id}-next "}},
		{name: "pipelined request after a chunked body is its own request",
			req:      post + "Transfer-Encoding: chunked\r\n\r\n" + chunked5 + "GET /admin/{id} HTTP/1.1\r\n" + hostLine + "\r\n",
			statuses: []int{200, 401}, origin: []string{"POST /public/{id} hello"}},
		// Host.
		{name: "missing Host", req: "GET /public/{id} HTTP/1.1\r\n\r\n", statuses: bad, closed: true},
		{name: "duplicate Host", req: "GET /public/{id} HTTP/1.1\r\n" + hostLine + "Host: evil.example\r\n\r\n", statuses: bad, closed: true},
		{name: "duplicate Host in another case", req: "GET /public/{id} HTTP/1.1\r\n" + hostLine + "HOST: evil.example\r\n\r\n", statuses: bad, closed: true},
		{name: "Host as a list", req: "GET /public/{id} HTTP/1.1\r\nHost: " + host + ", evil.example\r\n\r\n", statuses: bad, closed: true},
		{name: "Host with a path", req: "GET /public/{id} HTTP/1.1\r\nHost: " + host + "/admin\r\n\r\n", statuses: bad, closed: true},
		{name: "empty Host on an authorized path", req: "GET /echo/{id} HTTP/1.1\r\nHost: \r\n{auth}\r\n", statuses: bad},
		{name: "Host with an invalid port on an authorized path", req: "GET /echo/{id} HTTP/1.1\r\nHost: " + host + ":99999\r\n{auth}\r\n", statuses: bad},
		{name: "Host with an unclosed IPv6 literal on an authorized path", req: "GET /echo/{id} HTTP/1.1\r\nHost: [::1\r\n{auth}\r\n", statuses: bad},
		{name: "HTTP/1.0 without Host on an authorized path", req: "GET /echo/{id} HTTP/1.0\r\n{auth}\r\n", statuses: bad, closed: true},
		{name: "HTTP/1.0 without Host on the open behavior", req: "GET /public/{id} HTTP/1.0\r\n\r\n", statuses: ok, closed: true, origin: []string{"GET /public/{id} "}},
		// The request line.
		{name: "two spaces in the request line", req: "GET  /public/{id} HTTP/1.1\r\n" + hostLine + "\r\n", statuses: bad, closed: true},
		{name: "tabs in the request line", req: "GET\t/public/{id}\tHTTP/1.1\r\n" + hostLine + "\r\n", statuses: bad, closed: true},
		{name: "trailing space in the request line", req: "GET /public/{id} HTTP/1.1 \r\n" + hostLine + "\r\n", statuses: bad, closed: true},
		{name: "lower-case protocol name", req: "GET /public/{id} http/1.1\r\n" + hostLine + "\r\n", statuses: bad, closed: true},
		{name: "request line without a version", req: "GET /public/{id}\r\n" + hostLine + "\r\n", statuses: bad, closed: true},
		{name: "invalid method token", req: "G(T /public/{id} HTTP/1.1\r\n" + hostLine + "\r\n", statuses: bad, closed: true},
		// 505 is the protocol's answer to a version the edge does not speak.
		{name: "HTTP/2.0 request line on HTTP/1", req: "GET /public/{id} HTTP/2.0\r\n" + hostLine + "\r\n", statuses: []int{http.StatusHTTPVersionNotSupported}, closed: true},
		// net/http tolerates a CRLF only after a POST body (RFC 9112 section
		// 2.2, for old clients); the guard never lets more through.
		{name: "blank lines before the first request line", req: "\r\n\r\nGET /public/{id} HTTP/1.1\r\n" + hostLine + "\r\n", statuses: bad, closed: true},
		{name: "CRLF after a POST body is tolerated", req: post + "Content-Length: 5\r\n\r\nhello\r\nGET /public/{id}-2 HTTP/1.1\r\n" + hostLine + "\r\n",
			statuses: []int{200, 200}, origin: []string{"POST /public/{id} hello", "GET /public/{id}-2 "}},
		{name: "bare LF after a POST body", req: post + "Content-Length: 5\r\n\r\nhello\nGET /public/{id}-2 HTTP/1.1\r\n" + hostLine + "\r\n",
			statuses: []int{200, 400}, closed: true, origin: []string{"POST /public/{id} hello"}},
		// Pipelines.
		{name: "valid request then a smuggling one", req: "GET /public/{id} HTTP/1.1\r\n" + hostLine + "\r\n" + post + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled,
			statuses: []int{200, 400}, closed: true, origin: []string{"GET /public/{id} "}},
		{name: "pipelined requests keep their order", req: post + "Content-Length: 5\r\n\r\nhelloGET /public/{id}-2 HTTP/1.1\r\n" + hostLine + "\r\n",
			statuses: []int{200, 200}, origin: []string{"POST /public/{id} hello", "GET /public/{id}-2 "}},
	}
	runFrameCases(t, e, cases)
}

// runFrameCases sends each case on its own connection, one after the
// other, and checks what the client got and exactly what reached the
// origin. Once all ran, the origin must have received nothing more than
// the cases expected: a request forwarded late is caught too.
func runFrameCases(t *testing.T, e *env, cases []frameCase) {
	t.Helper()
	start, expected := e.origin.count(), 0
	auth := "Authorization: Bearer " + e.reader() + "\r\n"
	for i, c := range cases {
		id := fmt.Sprintf("f%d", i)
		fill := strings.NewReplacer("{id}", id, "{auth}", auth)
		expected += len(c.origin)
		t.Run(c.name, func(t *testing.T) {
			n := e.origin.count()
			w := wire(t, e.addr, fill.Replace(c.req), len(c.statuses))
			if w.err != nil {
				t.Errorf("the exchange ended with %v", w.err)
			}
			if got := w.statuses(); fmt.Sprint(got) != fmt.Sprint(c.statuses) {
				body := ""
				if len(w.responses) > 0 {
					body = w.responses[len(w.responses)-1].body
				}
				t.Errorf("statuses %v (last body %q), want %v", got, body, c.statuses)
			}
			if w.closed != c.closed {
				t.Errorf("connection closed = %v, want %v", w.closed, c.closed)
			}
			var got []string
			for _, r := range e.origin.since(n) {
				got = append(got, r.Method+" "+strings.TrimPrefix(r.Target, "/prod")+" "+string(r.Body))
			}
			var want []string
			for _, o := range c.origin {
				want = append(want, fill.Replace(o))
			}
			if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
				t.Errorf("origin got %q, want %q", got, want)
			}
		})
	}
	for _, r := range e.origin.since(start + expected) {
		if !strings.Contains(r.Target, "health-probe") {
			t.Errorf("the origin got %s %s besides what the cases expected", r.Method, r.Target)
		}
	}
}
