package edge

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// scriptOrigin answers by path, and records whether each request came
// through the fast lane.
type scriptOrigin struct {
	mu   sync.Mutex
	fast []bool
}

func (o *scriptOrigin) Forward(w http.ResponseWriter, r *Request) error {
	vw, _ := w.(*viewerWriter)
	// The fast lane's writer is the transport's own; net/http's is not.
	fast := fmt.Sprintf("%T", vw.rw) == "*transport.h1Writer"
	o.mu.Lock()
	o.fast = append(o.fast, fast)
	o.mu.Unlock()
	h := w.Header()
	switch r.HTTP.URL.Path {
	case "/cl":
		h["Content-Type"] = []string{"application/json"}
		h["Content-Length"] = []string{"5"}
		io.WriteString(w, "hello")
	case "/nocl":
		io.WriteString(w, "hello")
	case "/html":
		io.WriteString(w, "<html><body>hi</body></html>")
	case "/big":
		h["Content-Type"] = []string{"text/plain"}
		w.Write([]byte(strings.Repeat("x", 5000)))
	case "/flush":
		io.WriteString(w, "a")
		http.NewResponseController(w).Flush()
		io.WriteString(w, "b")
	case "/204":
		h["Content-Type"] = []string{"text/plain"}
		w.WriteHeader(http.StatusNoContent)
	case "/304":
		h["Etag"] = []string{`"v1"`}
		h["Content-Type"] = []string{"text/plain"}
		h["Content-Length"] = []string{"5"}
		w.WriteHeader(http.StatusNotModified)
	case "/trailer":
		h["Trailer"] = []string{"X-T"}
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, "body")
		h["X-T"] = []string{"declared"}
		h[http.TrailerPrefix+"X-U"] = []string{"prefixed"}
	case "/short":
		h["Content-Length"] = []string{"10"}
		io.WriteString(w, "hello")
	case "/early":
		h["Link"] = []string{"</a.css>; rel=preload"}
		w.WriteHeader(http.StatusEarlyHints)
		h["Content-Type"] = []string{"text/plain"}
		io.WriteString(w, "late")
	case "/close":
		h["Connection"] = []string{"close"}
		io.WriteString(w, "bye")
	case "/dirty":
		h["X-Dirty"] = []string{" a\r\nb "}
		h["Bad Name"] = []string{"x"}
		io.WriteString(w, "ok")
	case "/echo":
		h["Content-Type"] = []string{"text/plain"}
		keys := make([]string, 0, len(r.HTTP.Header))
		for k, vv := range r.HTTP.Header {
			if k == "X-Request-Id" {
				continue
			}
			keys = append(keys, k+"="+strings.Join(vv, "|"))
		}
		slices.Sort(keys)
		io.WriteString(w, r.HTTP.Method+" "+r.HTTP.URL.RequestURI()+" "+r.Host+"\n"+strings.Join(keys, "\n"))
	default:
		w.WriteHeader(http.StatusNotFound)
	}
	return nil
}

func (o *scriptOrigin) lastFast() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.fast) > 0 && o.fast[len(o.fast)-1]
}

// exchangeResult is a response as compared between the fast lane and
// net/http: no Date, no X-Request-Id.
type exchangeResult struct {
	Status  int
	Header  http.Header
	Body    string
	Trailer http.Header
	TE      []string
	CL      int64
	Err     bool
}

// rawExchanges sends raw on a fresh connection and reads one response per
// method in methods.
func rawExchanges(t *testing.T, addr, raw string, methods []string) []exchangeResult {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second)) // bounds a broken test only
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	var out []exchangeResult
	for _, m := range methods {
		resp, err := http.ReadResponse(br, &http.Request{Method: m})
		if err != nil {
			out = append(out, exchangeResult{Err: true})
			return out
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		resp.Header.Del("Date")
		if id := resp.Header.Get("X-Request-Id"); id != "" {
			b = []byte(strings.ReplaceAll(string(b), id, "ID"))
		}
		resp.Header.Del("X-Request-Id")
		out = append(out, exchangeResult{Status: resp.StatusCode, Header: resp.Header, Body: string(b),
			Trailer: resp.Trailer, TE: resp.TransferEncoding, CL: resp.ContentLength, Err: err != nil})
	}
	return out
}

// TestFastLane_AnswersAsNetHTTP sends the same bytes to an edge with the
// HTTP/1.1 fast lane and to one without it: every answer must be the same,
// and the requests the fast lane is meant for must have been served by it
// (the rest by net/http, on the same connection).
func TestFastLane_AnswersAsNetHTTP(t *testing.T) {
	t.Parallel()
	off := false
	fastO, stdO := &scriptOrigin{}, &scriptOrigin{}
	allow := []string{"GET", "HEAD", "POST"}
	fast := startEdge(t, Config{}, []Behavior{{PathPattern: "*", Origin: fastO, AllowedMethods: allow}}, Options{})
	std := startEdge(t, Config{HTTP1FastLane: &off}, []Behavior{{PathPattern: "*", Origin: stdO, AllowedMethods: allow}}, Options{})

	get := func(path string) string { return "GET " + path + " HTTP/1.1\r\nHost: edge\r\n\r\n" }
	tests := []struct {
		name    string
		raw     string
		methods []string
		fast    bool // the first request is the fast lane's
	}{
		{"declared length", get("/cl"), []string{"GET"}, true},
		{"computed length and sniffed type", get("/nocl"), []string{"GET"}, true},
		{"sniffed html", get("/html"), []string{"GET"}, true},
		{"long body is chunked", get("/big"), []string{"GET"}, true},
		{"flush before the end is chunked", get("/flush"), []string{"GET"}, true},
		{"204 has no body", get("/204"), []string{"GET"}, true},
		{"304 has no body", get("/304"), []string{"GET"}, true},
		{"trailers", get("/trailer"), []string{"GET"}, true},
		{"early hints", get("/early"), []string{"GET"}, true},
		{"dirty header values", get("/dirty"), []string{"GET"}, true},
		{"short body closes", get("/short") + get("/cl"), []string{"GET", "GET"}, true},
		{"handler says close", get("/close") + get("/cl"), []string{"GET", "GET"}, true},
		{"keep-alive", get("/cl") + get("/nocl") + get("/big"), []string{"GET", "GET", "GET"}, true},
		{"HEAD declared", "HEAD /cl HTTP/1.1\r\nHost: edge\r\n\r\n" + get("/cl"), []string{"HEAD", "GET"}, true},
		{"HEAD computed", "HEAD /nocl HTTP/1.1\r\nHost: edge\r\n\r\n", []string{"HEAD"}, true},
		{"HEAD long", "HEAD /big HTTP/1.1\r\nHost: edge\r\n\r\n", []string{"HEAD"}, true},
		{"headers as net/http reads them", "GET /echo?q=1&r HTTP/1.1\r\nHost: edge:80\r\naccept: a\r\nX-Multi: 1\r\nx-multi: 2\r\nX-Space:  padded \t\r\nx_under: u\r\nX-Utf8: caf\xc3\xa9\r\nAuthorization: Bearer t\r\n\r\n", []string{"GET"}, true},
		{"not found", get("/nope"), []string{"GET"}, true},
		{"canonical path", get("/a/../echo"), []string{"GET"}, true},
		{"encoded slash refused", get("/a%2Fb"), []string{"GET"}, true},
		{"body goes to net/http", "POST /echo HTTP/1.1\r\nHost: edge\r\nContent-Length: 3\r\n\r\nabc" + get("/cl"), []string{"POST", "GET"}, false},
		{"chunked body goes to net/http", "POST /echo HTTP/1.1\r\nHost: edge\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n" + get("/cl"), []string{"POST", "GET"}, false},
		{"Content-Length 0 goes to net/http", "GET /cl HTTP/1.1\r\nHost: edge\r\nContent-Length: 0\r\n\r\n", []string{"GET"}, false},
		{"HTTP/1.0 goes to net/http", "GET /cl HTTP/1.0\r\n\r\n", []string{"GET"}, false},
		{"absolute-form goes to net/http", "GET http://edge/echo HTTP/1.1\r\nHost: edge\r\n\r\n", []string{"GET"}, false},
		{"Connection goes to net/http", "GET /cl HTTP/1.1\r\nHost: edge\r\nConnection: close\r\n\r\n", []string{"GET"}, false},
		{"Pragma goes to net/http", "GET /echo HTTP/1.1\r\nHost: edge\r\nPragma: no-cache\r\n\r\n", []string{"GET"}, false},
		{"bare LF goes to net/http", "GET /cl HTTP/1.1\nHost: edge\n\n", []string{"GET"}, false},
		{"space in target goes to net/http", "GET /a b HTTP/1.1\r\nHost: edge\r\n\r\n", []string{"GET"}, false},
		{"bad header value goes to net/http", "GET /cl HTTP/1.1\r\nHost: edge\r\nX-A: a\x01b\r\n\r\n", []string{"GET"}, false},
		{"bad host goes to net/http", "GET /cl HTTP/1.1\r\nHost: a b\r\n\r\n", []string{"GET"}, false},
		{"framing refusal", "GET /cl HTTP/1.1\r\nHost: edge\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", []string{"GET"}, false},
		{"obs-fold refusal", "GET /cl HTTP/1.1\r\nHost: edge\r\nX-A: a\r\n b\r\n\r\n", []string{"GET"}, false},
		{"fast then handed over then net/http", get("/cl") + "POST /echo HTTP/1.1\r\nHost: edge\r\nContent-Length: 1\r\n\r\nx" + get("/nocl"), []string{"GET", "POST", "GET"}, true},
	}
	for _, tt := range tests {
		got := rawExchanges(t, fast.addr, tt.raw, tt.methods)
		want := rawExchanges(t, std.addr, tt.raw, tt.methods)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: fast lane differs from net/http (-net/http +fast):\n%s", tt.name, diff)
		}
	}
	for _, tt := range tests {
		fastO.mu.Lock()
		fastO.fast = fastO.fast[:0]
		fastO.mu.Unlock()
		rawExchanges(t, fast.addr, tt.raw, tt.methods)
		fastO.mu.Lock()
		seen := slices.Clone(fastO.fast)
		fastO.mu.Unlock()
		if len(seen) > 0 && seen[0] != tt.fast {
			t.Errorf("%s: served by the fast lane = %v, want %v", tt.name, seen[0], tt.fast)
		}
		if !tt.fast && slices.Contains(seen, true) {
			t.Errorf("%s: a request after the hand-over was served by the fast lane: %v", tt.name, seen)
		}
	}
}

// TestFastLane_ShutdownDrains: a request in flight when shutdown begins is
// answered (with Connection: close) and idle connections are closed.
func TestFastLane_ShutdownDrains(t *testing.T) {
	t.Parallel()
	o := &fakeOrigin{hold: make(chan struct{}), entered: make(chan struct{}), body: "done"}
	e := startEdge(t, Config{ShutdownGrace: 10 * time.Second}, []Behavior{{PathPattern: "*", Origin: o}}, Options{})
	idle, err := net.Dial("tcp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	type result struct {
		resp *http.Response
		body string
		err  error
	}
	got := make(chan result, 1)
	go func() {
		resp, err := http.Get("http://" + e.addr + "/slow")
		if err != nil {
			got <- result{err: err}
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got <- result{resp: resp, body: string(b)}
	}()
	<-o.entered
	stopped := make(chan error, 1)
	go func() { stopped <- e.stop() }()
	// The idle connection is closed by the shutdown: its read ends.
	_ = idle.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := idle.Read(make([]byte, 1)); err == nil {
		t.Error("idle connection still open during shutdown")
	}
	close(o.hold)
	r := <-got
	if r.err != nil || r.resp.StatusCode != 200 || r.body != "done" || !r.resp.Close {
		t.Errorf("in-flight request = %v %v %q close=%v, want 200 done with Connection: close", r.err, r.resp, r.body, r.resp != nil && r.resp.Close)
	}
	if err := <-stopped; err != nil {
		t.Errorf("stop = %v, want a graceful nil", err)
	}
}
