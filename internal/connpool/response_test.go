package connpool

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// nginxAnswer is the origin's usual answer in the benchmarks.
const nginxAnswer = "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Sun, 06 Dec 2026 19:04:12 GMT\r\n" +
	"Content-Type: application/json\r\nContent-Length: 43\r\nConnection: keep-alive\r\nCache-Control: max-age=60\r\n\r\n" +
	`{"id":42,"item":"order","status":"shipped"}`

func reader(s string) *bufio.Reader {
	br := bufio.NewReaderSize(strings.NewReader(s), 16<<10)
	br.Peek(1) // as the clients do before reading a head
	return br
}

// TestReadResponse_CommonShapeInPlace checks that the usual answers take
// the in-place path and read as http.ReadResponse reads them.
func TestReadResponse_CommonShapeInPlace(t *testing.T) {
	get := &http.Request{Method: http.MethodGet}
	for _, tc := range []struct{ name, in string }{
		{"nginx", nginxAnswer + "HTTP/1.1 200 OK\r\n"},
		{"no reason", "HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok"},
		{"empty body", "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nX-A: 1\r\nX-A: 2\r\n\r\n"},
		{"close", "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx"},
		{"blank values", "HTTP/1.1 200 OK\r\nX-Empty:\r\nX-Pad: \t v \t\r\nContent-Length: 0\r\n\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if readCommon(reader(tc.in), get) == nil {
				t.Fatalf("%q did not take the in-place path", tc.in)
			}
			same(t, []byte(tc.in), get)
		})
	}
}

// TestReadResponse_OthersGoToNetHTTP checks that every other shape is left
// unread for http.ReadResponse.
func TestReadResponse_OthersGoToNetHTTP(t *testing.T) {
	head := &http.Request{Method: http.MethodHead}
	get := &http.Request{Method: http.MethodGet}
	for _, tc := range []struct {
		name string
		in   string
		req  *http.Request
	}{
		{"HEAD", nginxAnswer, head},
		{"HTTP/1.0", "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", get},
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", get},
		{"no length", "HTTP/1.1 200 OK\r\n\r\nbody", get},
		{"two lengths", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx", get},
		{"bad length", "HTTP/1.1 200 OK\r\nContent-Length: +1\r\n\r\nx", get},
		{"204", "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n", get},
		{"304", "HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n", get},
		{"1xx", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", get},
		{"pragma", "HTTP/1.1 200 OK\r\nPragma: no-cache\r\nContent-Length: 0\r\n\r\n", get},
		{"trailer", "HTTP/1.1 200 OK\r\nTrailer: X\r\nContent-Length: 0\r\n\r\n", get},
		{"lower-case name", "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n", get},
		{"space before colon", "HTTP/1.1 200 OK\r\nX-A : 1\r\nContent-Length: 0\r\n\r\n", get},
		{"folded", "HTTP/1.1 200 OK\r\nX-A: 1\r\n 2\r\nContent-Length: 0\r\n\r\n", get},
		{"bare LF", "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n", get},
		{"bare LF in headers", "HTTP/1.1 200 OK\r\nX-A: 1\nContent-Length: 0\r\n\r\n", get},
		{"control byte", "HTTP/1.1 200 OK\r\nX-A: a\x01b\r\nContent-Length: 0\r\n\r\n", get},
		{"head not buffered", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n", get},
		{"bad status", "HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n", get},
	} {
		t.Run(tc.name, func(t *testing.T) {
			br := reader(tc.in)
			n := br.Buffered()
			if res := readCommon(br, tc.req); res != nil || br.Buffered() != n {
				t.Fatalf("%q took the in-place path (or consumed bytes)", tc.in)
			}
			same(t, []byte(tc.in), tc.req)
		})
	}
}

// TestReadResponse_ShortBody checks that a body cut short reads as
// net/http's does: the bytes there, then io.ErrUnexpectedEOF.
func TestReadResponse_ShortBody(t *testing.T) {
	res, err := ReadResponse(reader("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(res.Body)
	if string(b) != "abc" || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("body = %q, %v; want \"abc\", unexpected EOF", b, err)
	}
}

// same checks that ReadResponse and http.ReadResponse read in the same
// way: the same response, the same body and error, the same bytes left.
func same(t *testing.T, in []byte, req *http.Request) {
	t.Helper()
	br1 := bufio.NewReaderSize(bytes.NewReader(in), 16<<10)
	br1.Peek(1)
	br2 := bufio.NewReaderSize(bytes.NewReader(in), 16<<10)
	got, err1 := ReadResponse(br1, req)
	want, err2 := http.ReadResponse(br2, req)
	if (err1 == nil) != (err2 == nil) {
		t.Fatalf("%q: error %v; net/http %v", in, err1, err2)
	}
	if err1 != nil {
		return
	}
	for _, f := range []struct {
		name      string
		got, want any
	}{
		{"Status", got.Status, want.Status},
		{"StatusCode", got.StatusCode, want.StatusCode},
		{"Proto", got.Proto, want.Proto},
		{"ProtoMajor", got.ProtoMajor, want.ProtoMajor},
		{"ProtoMinor", got.ProtoMinor, want.ProtoMinor},
		{"Header", got.Header, want.Header},
		{"ContentLength", got.ContentLength, want.ContentLength},
		{"Close", got.Close, want.Close},
		{"TransferEncoding", got.TransferEncoding, want.TransferEncoding},
		{"Trailer", got.Trailer, want.Trailer},
		{"Request", got.Request, want.Request},
	} {
		if !reflect.DeepEqual(f.got, f.want) {
			t.Fatalf("%q: %s = %#v; net/http %#v", in, f.name, f.got, f.want)
		}
	}
	b1, e1 := io.ReadAll(got.Body)
	b2, e2 := io.ReadAll(want.Body)
	if !bytes.Equal(b1, b2) || !sameError(e1, e2) {
		t.Fatalf("%q: body %q, %v; net/http %q, %v", in, b1, e1, b2, e2)
	}
	r1, _ := io.ReadAll(br1)
	r2, _ := io.ReadAll(br2)
	if !bytes.Equal(r1, r2) {
		t.Fatalf("%q: left %q; net/http left %q", in, r1, r2)
	}
}

// sameError reports whether two body errors are the same: both nil, the
// same value, or (net/http makes a new one per body) the same message.
func sameError(a, b error) bool {
	if a == nil || b == nil {
		return a == b
	}
	return errors.Is(a, b) || a.Error() == b.Error()
}

// FuzzReadResponse holds ReadResponse to http.ReadResponse on any input:
// whatever the in-place path accepts, net/http reads the same way.
func FuzzReadResponse(f *testing.F) {
	f.Add([]byte(nginxAnswer), false)
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\nokHTTP/1.1"), false)
	f.Add([]byte("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: keep-alive, close\r\n\r\n"), true)
	f.Fuzz(func(t *testing.T, in []byte, head bool) {
		req := &http.Request{Method: http.MethodGet}
		if head {
			req.Method = http.MethodHead
		}
		same(t, in, req)
	})
}
