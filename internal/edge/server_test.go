package edge

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// proxyOrigin forwards with httputil.ReverseProxy, as the origin stage
// does, so that the edge's header handling is tested against the real
// last hop.
func proxyOrigin(t testing.TB, target string) Origin {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rp := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(u) }}
	return originFunc(func(w http.ResponseWriter, r *Request) error {
		rp.ServeHTTP(w, r.HTTP)
		return nil
	})
}

func get(t testing.TB, c *http.Client, u string, hdr http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, vv := range hdr {
		req.Header[k] = vv
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestServe_HeaderHygieneThroughAReverseProxy(t *testing.T) {
	t.Parallel()
	var got atomic.Pointer[http.Header]
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Clone()
		got.Store(&h)
		w.Header().Set("X-Request-Id", "origin-made")
		io.WriteString(w, "ok")
	}))
	defer backend.Close()
	setUser := fn(func(ctx context.Context, r *Request) (*Response, error) {
		r.HTTP.Header.Set("X-User-Id", "alice")
		return nil, nil
	})
	e := startEdge(t, Config{}, []Behavior{{PathPattern: "*", Origin: proxyOrigin(t, backend.URL), Function: setUser}},
		Options{OwnedHeaders: []string{"X-User-Id", "X-Gateway-Secret"}})
	resp, _ := get(t, http.DefaultClient, "http://"+e.addr+"/x", http.Header{
		"Connection":       {"X-User-Id, X-Nominated"},
		"X-Nominated":      {"1"},
		"X-User-Id":        {"mallory"},
		"X-Gateway-Secret": {"guess"},
		"X-Forwarded-For":  {"6.6.6.6"},
		"Forwarded":        {"for=6.6.6.6"},
		"Via":              {"1.1 spoofed"},
	})
	h := *got.Load()
	if h.Get("X-User-Id") != "alice" {
		t.Errorf("origin got X-User-Id %q, want alice (set by the function; Connection cannot remove it)", h.Get("X-User-Id"))
	}
	for _, k := range []string{"X-Nominated", "X-Gateway-Secret", "Forwarded", "Via"} {
		if v := h.Get(k); v != "" {
			t.Errorf("origin got %s %q, want none", k, v)
		}
	}
	if xff := h.Get("X-Forwarded-For"); strings.Contains(xff, "6.6.6.6") {
		t.Errorf("origin got X-Forwarded-For %q: the client's value was trusted", xff)
	}
	if id := resp.Header.Values("X-Request-Id"); len(id) != 1 || id[0] == "origin-made" || id[0] != h.Get("X-Request-Id") {
		t.Errorf("response X-Request-Id %q, origin got %q, want the edge's id on both", id, h.Get("X-Request-Id"))
	}
}

func TestServe_FunctionPanicKeepsTheEdgeServing(t *testing.T) {
	t.Parallel()
	o := &fakeOrigin{}
	f := fn(func(ctx context.Context, r *Request) (*Response, error) {
		if r.HTTP.URL.Path == "/boom" {
			panic("bug")
		}
		return nil, nil
	})
	e := startEdge(t, Config{}, []Behavior{{PathPattern: "*", Origin: o, Function: f}}, Options{})
	for _, tc := range []struct {
		path string
		want int
	}{{"/boom", 500}, {"/ok", 200}, {"/boom", 500}, {"/ok", 200}} {
		resp, _ := get(t, http.DefaultClient, "http://"+e.addr+tc.path, nil)
		if resp.StatusCode != tc.want || resp.Header.Get("X-Request-Id") == "" {
			t.Fatalf("GET %s = %d (id %q), want %d with an id", tc.path, resp.StatusCode, resp.Header.Get("X-Request-Id"), tc.want)
		}
	}
	if n := len(o.requests()); n != 2 {
		t.Fatalf("origin got %d requests, want 2 (never one after a panic)", n)
	}
}

func TestServe_HTTPSWithHTTP2AndHTTP1(t *testing.T) {
	t.Parallel()
	certFile, keyFile, pool := writeTestCert(t)
	var scheme atomic.Value
	f := fn(func(ctx context.Context, r *Request) (*Response, error) {
		scheme.Store(r.Scheme + " " + r.HTTP.Proto + " " + boolString(r.HTTP.TLS != nil))
		return nil, nil
	})
	o := &fakeOrigin{}
	e := startEdge(t, Config{TLS: TLSConfig{CertFile: certFile, KeyFile: keyFile}},
		[]Behavior{{PathPattern: "*", Origin: o, Function: f, AllowedMethods: []string{"GET", "POST"}}}, Options{})

	h2 := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}}
	resp, _ := get(t, h2, "https://"+e.addr+"/a", nil)
	if resp.ProtoMajor != 2 || scheme.Load() != "https HTTP/2.0 true" {
		t.Fatalf("HTTPS with h2 = %s, pipeline saw %v, want HTTP/2 and https", resp.Proto, scheme.Load())
	}
	h1 := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, NextProtos: []string{"http/1.1"}}}}
	resp, _ = get(t, h1, "https://"+e.addr+"/b", nil)
	if resp.ProtoMajor != 1 || scheme.Load() != "https HTTP/1.1 true" || resp.Header.Get("X-Request-Id") == "" {
		t.Fatalf("HTTPS with http/1.1 = %s, pipeline saw %v, want HTTP/1.1 and https with TLS state", resp.Proto, scheme.Load())
	}

	// The framing guard covers HTTP/1.1 over TLS too.
	c, err := tls.Dial("tcp", e.addr, &tls.Config{RootCAs: pool, NextProtos: []string{"http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, "POST /c HTTP/1.1\r\nHost: e\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
	r, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil || r.StatusCode != 400 {
		t.Fatalf("TE+CL over TLS = %v, %v, want 400", r, err)
	}
	if n := len(o.requests()); n != 2 {
		t.Fatalf("origin got %d requests, want 2", n)
	}
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func TestServe_H2COnlyWhenEnabled(t *testing.T) {
	t.Parallel()
	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	client := &http.Client{Transport: &http.Transport{Protocols: &p}}
	for _, enabled := range []bool{true, false} {
		e := startEdge(t, Config{H2C: enabled}, []Behavior{{PathPattern: "*", Origin: &fakeOrigin{}}}, Options{})
		req, _ := http.NewRequest("GET", "http://"+e.addr+"/", nil)
		resp, err := client.Do(req)
		if enabled {
			if err != nil || resp.ProtoMajor != 2 || resp.StatusCode != 200 {
				t.Fatalf("h2c enabled: %v, %v, want HTTP/2 200", resp, err)
			}
			resp.Body.Close()
			continue
		}
		if err == nil {
			resp.Body.Close()
			t.Fatalf("h2c disabled: got %s %d, want the prior-knowledge connection refused", resp.Proto, resp.StatusCode)
		}
	}
}

func TestServe_GracefulShutdownDrainsInFlight(t *testing.T) {
	t.Parallel()
	o := &fakeOrigin{hold: make(chan struct{}), entered: make(chan struct{}), body: "finished"}
	s := newServer(t, Config{}, []Behavior{{PathPattern: "*", Origin: o}}, Options{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	nl := &notifyListener{Listener: ln, closed: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, nl) }()

	type result struct {
		code int
		body string
		err  error
	}
	inflight := make(chan result, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/slow")
		if err != nil {
			inflight <- result{err: err}
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		inflight <- result{code: resp.StatusCode, body: string(b)}
	}()
	<-o.entered
	cancel()
	<-nl.closed
	if c, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		c.Close()
		t.Fatal("a new connection was accepted after shutdown began")
	}
	close(o.hold)
	r := <-inflight
	if r.err != nil || r.code != 200 || r.body != "finished" {
		t.Fatalf("in-flight request = %+v, want 200 finished", r)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve = %v, want nil after a graceful shutdown", err)
	}
	if s.Addr() == nil {
		t.Fatal("Addr() = nil after Serve started")
	}
}

// notifyListener closes closed when the server closes it.
type notifyListener struct {
	net.Listener
	closed chan struct{}
	once   atomic.Bool
}

func (l *notifyListener) Close() error {
	err := l.Listener.Close()
	if l.once.CompareAndSwap(false, true) {
		close(l.closed)
	}
	return err
}

func TestServe_ShutdownGraceCutsStuckRequests(t *testing.T) {
	t.Parallel()
	o := &fakeOrigin{hold: make(chan struct{}), entered: make(chan struct{})}
	defer close(o.hold)
	e := startEdge(t, Config{ShutdownGrace: time.Millisecond}, []Behavior{{PathPattern: "*", Origin: o}}, Options{})
	go func() {
		if resp, err := http.Get("http://" + e.addr + "/stuck"); err == nil {
			resp.Body.Close()
		}
	}()
	<-o.entered
	if err := e.stop(); err == nil {
		t.Fatal("stop with a stuck request past the grace = nil, want an error")
	}
}

func TestServe_UpdateSwapsBehaviorsLive(t *testing.T) {
	t.Parallel()
	a, b := &fakeOrigin{body: "a"}, &fakeOrigin{body: "b"}
	e := startEdge(t, Config{}, []Behavior{{PathPattern: "*", Origin: a}}, Options{})
	if _, body := get(t, http.DefaultClient, "http://"+e.addr+"/new/x", nil); body != "a" {
		t.Fatalf("before Update = %q, want a", body)
	}
	if err := e.s.Update([]Behavior{{PathPattern: "/new/*", Origin: b}, {PathPattern: "*", Origin: a}}, nil); err != nil {
		t.Fatal(err)
	}
	if _, body := get(t, http.DefaultClient, "http://"+e.addr+"/new/x", nil); body != "b" {
		t.Fatalf("after Update = %q, want b", body)
	}
}

func TestServe_WebSocketUpgradePassesThrough(t *testing.T) {
	t.Parallel()
	// The backend upgrades and echoes bytes with no line structure.
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "websocket" {
			http.Error(w, "want websocket", 400)
			return
		}
		c, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer c.Close()
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
		brw.Flush()
		buf := make([]byte, 64)
		n, _ := brw.Read(buf)
		c.Write(buf[:n])
	}))
	defer backend.Close()
	e := startEdge(t, Config{}, []Behavior{{PathPattern: "*", Origin: proxyOrigin(t, backend.URL)}}, Options{})
	c, err := net.Dial("tcp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, "GET /ws HTTP/1.1\r\nHost: e\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 101 || resp.Header.Get("X-Request-Id") == "" {
		t.Fatalf("upgrade = %v, %v, want 101 with X-Request-Id", resp, err)
	}
	frame := "\x81\x05hello" // a frame without any newline
	io.WriteString(c, frame)
	got := make([]byte, len(frame))
	if _, err := io.ReadFull(br, got); err != nil || string(got) != frame {
		t.Fatalf("echo = %q, %v, want %q", got, err, frame)
	}
}

func TestServe_NonWebSocketUpgradeNeverReachesTheOrigin(t *testing.T) {
	t.Parallel()
	var upgrade atomic.Value
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		upgrade.Store(r.Header.Get("Upgrade") + "|" + r.Header.Get("Connection"))
	}))
	defer backend.Close()
	e := startEdge(t, Config{}, []Behavior{{PathPattern: "*", Origin: proxyOrigin(t, backend.URL)}}, Options{})
	resp, _ := get(t, http.DefaultClient, "http://"+e.addr+"/", http.Header{"Connection": {"Upgrade"}, "Upgrade": {"h2c"}})
	if resp.StatusCode != 200 || upgrade.Load() != "|" {
		t.Fatalf("= %d, origin saw Upgrade|Connection %q, want 200 and neither", resp.StatusCode, upgrade.Load())
	}
}

func TestListenAndServe_ReportsAListenError(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	s := newServer(t, Config{Listen: ln.Addr().String()}, []Behavior{{PathPattern: "*", Origin: nopOrigin{}}}, Options{})
	err = s.ListenAndServe(context.Background())
	var oe *net.OpError
	if !errors.As(err, &oe) {
		t.Fatalf("ListenAndServe on a used port = %v, want a listen error", err)
	}
}
