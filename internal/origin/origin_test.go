package origin_test

import (
	"bufio"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgeward/edgeward/internal/edge"
	"github.com/edgeward/edgeward/internal/origin"
	"github.com/edgeward/edgeward/internal/origintest"
	"github.com/edgeward/edgeward/internal/testkit"
)

// guard bounds a wait that only a bug would make long.
const guard = 10 * time.Second

func TestForward_JoinsOriginPathAndKeepsEscapes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		originPath string
		target     string
		want       string
	}{
		{"stage", "/prod", "/orders/1", "/prod/orders/1"},
		{"stage with trailing slash", "/prod/", "/orders/1", "/prod/orders/1"},
		{"stage with trailing slashes", "/prod//", "/orders/1", "/prod/orders/1"},
		{"no origin path", "", "/orders/1", "/orders/1"},
		{"root origin path", "/", "/orders/1", "/orders/1"},
		{"root request", "/prod", "/", "/prod/"},
		{"root request without origin path", "", "/", "/"},
		{"trailing slash kept", "/prod", "/orders/", "/prod/orders/"},
		{"nested origin path", "/v1/prod", "/orders/1", "/v1/prod/orders/1"},
		{"empty segment kept", "/prod", "/a//b", "/prod/a//b"},
		{"escaped space and utf-8", "/prod", "/a%20b/%C3%A9", "/prod/a%20b/%C3%A9"},
		{"escaped slash kept encoded", "/prod", "/a%2Fb", "/prod/a%2Fb"},
		{"escaped reserved kept", "/prod", "/a%3Bb%3Dc", "/prod/a%3Bb%3Dc"},
		{"lower-case escape kept", "/prod", "/a%3bb", "/prod/a%3bb"},
		{"sub-delims unescaped", "/prod", "/a;b=c/o'k(1)!*", "/prod/a;b=c/o'k(1)!*"},
		{"escaped origin path", "/my%20stage", "/x", "/my%20stage/x"},
		{"escaped origin path and request", "/my%20stage", "/a%2Fb", "/my%20stage/a%2Fb"},
		{"query as is", "/prod", "/orders?b=2&a=1&c", "/prod/orders?b=2&a=1&c"},
		{"query with escapes", "/prod", "/o?q=a%20b+c&x=%2F", "/prod/o?q=a%20b+c&x=%2F"},
		{"query with semicolon", "/prod", "/o?a=1;b=2", "/prod/o?a=1;b=2"},
		{"empty query", "/prod", "/o?", "/prod/o?"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			eachPath(t, func(t *testing.T, path string) {
				o := origintest.New(t)
				e := newEdge(t, newOrigin(t, path, origin.Config{URL: o.URL + tc.originPath}, origin.Options{}), nil)
				res, _ := e.get(t, tc.target, nil)
				if res.StatusCode != http.StatusOK {
					t.Fatalf("GET %s: status %d, want 200 (%v)", tc.target, res.StatusCode, e.lastErr(t))
				}
				if got := o.Last().RequestURI; got != tc.want {
					t.Errorf("origin got %q for %q under %q, want %q", got, tc.target, tc.originPath, tc.want)
				}
			})
		})
	}
}

func TestForward_SetsHostForwardingHeadersViaAndRequestID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		opts   origin.Options
		adjust func(*edge.Request)
		want   map[string]string
	}{
		{
			name:   "direct viewer",
			adjust: func(r *edge.Request) { r.Host = "shop.example.com" },
			want: map[string]string{
				"X-Forwarded-For": "127.0.0.1", "X-Forwarded-Proto": "http",
				"X-Forwarded-Host": "shop.example.com", "Via": "1.1 edgeward", "X-Request-Id": "req-0001",
			},
		},
		{
			name: "behind a trusted proxy, https viewer",
			adjust: func(r *edge.Request) {
				r.ForwardedFor = "203.0.113.7, 198.51.100.2"
				r.Scheme = "https"
				r.Host = "api.example.com"
				r.ID = "abc-123"
			},
			want: map[string]string{
				"X-Forwarded-For": "203.0.113.7, 198.51.100.2, 127.0.0.1", "X-Forwarded-Proto": "https",
				"X-Forwarded-Host": "api.example.com", "Via": "1.1 edgeward", "X-Request-Id": "abc-123",
			},
		},
		{
			name: "Via from a viewer-request function is kept, ours appended",
			opts: origin.Options{Via: "2 edge-7"},
			adjust: func(r *edge.Request) {
				r.HTTP.Header.Set("Via", "1.1 authz")
			},
			want: map[string]string{"Via": "1.1 authz, 2 edge-7"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			eachPath(t, func(t *testing.T, path string) {
				o := origintest.New(t)
				e := newEdge(t, newOrigin(t, path, origin.Config{URL: o.URL + "/prod"}, tc.opts), tc.adjust)
				res, _ := e.get(t, "/x", nil)
				if res.StatusCode != http.StatusOK {
					t.Fatalf("status %d, want 200", res.StatusCode)
				}
				got := o.Last()
				if got.Host != o.Addr() {
					t.Errorf("origin Host = %q, want the origin's %q", got.Host, o.Addr())
				}
				for k, want := range tc.want {
					if v := got.Header.Values(k); len(v) != 1 || v[0] != want {
						t.Errorf("origin %s = %q, want [%q]", k, v, want)
					}
				}
				via := tc.opts.Via
				if via == "" {
					via = origin.DefaultVia
				}
				if v := res.Header.Values("Via"); len(v) != 1 || v[0] != via {
					t.Errorf("response Via = %q, want [%q]", v, via)
				}
			})
		})
	}
}

func TestForward_DropsHopByHopHeadersBothWays(t *testing.T) {
	eachPath(t, func(t *testing.T, path string) {
		o := origintest.New(t)
		o.Handle("/prod/x", origintest.Reply{Raw: []byte("HTTP/1.1 200 OK\r\n" +
			"Connection: X-Origin-Hop\r\nX-Origin-Hop: secret\r\nKeep-Alive: timeout=9\r\n" +
			"Proxy-Authenticate: Basic\r\nX-Kept: yes\r\nContent-Length: 2\r\n\r\nok")})
		e := newEdge(t, newOrigin(t, path, origin.Config{URL: o.URL + "/prod"}, origin.Options{}), nil)
		res, _ := e.get(t, "/x", http.Header{
			"Connection":       {"X-Viewer-Hop, keep-alive"},
			"X-Viewer-Hop":     {"secret"},
			"Keep-Alive":       {"timeout=5"},
			"Proxy-Connection": {"keep-alive"},
			"Te":               {"gzip"},
			"X-Kept":           {"yes"},
		})
		got := o.Last().Header
		for _, k := range []string{"X-Viewer-Hop", "Keep-Alive", "Proxy-Connection", "Te"} {
			if v, ok := got[k]; ok {
				t.Errorf("origin got hop-by-hop %s: %q", k, v)
			}
		}
		if got.Get("X-Kept") != "yes" {
			t.Errorf("origin X-Kept = %q, want yes", got.Get("X-Kept"))
		}
		for _, k := range []string{"X-Origin-Hop", "Keep-Alive", "Proxy-Authenticate"} {
			if v, ok := res.Header[k]; ok {
				t.Errorf("viewer got hop-by-hop %s: %q", k, v)
			}
		}
		if res.Header.Get("X-Kept") != "yes" {
			t.Errorf("viewer X-Kept = %q, want yes", res.Header.Get("X-Kept"))
		}
	})
}

func TestForward_EdgeHeadersSurviveConnectionNomination(t *testing.T) {
	eachPath(t, func(t *testing.T, path string) {
		o := origintest.New(t)
		e := newEdge(t, newOrigin(t, path, origin.Config{URL: o.URL}, origin.Options{}), nil)
		e.get(t, "/x", http.Header{"Connection": {"X-Forwarded-For, Via, X-Request-Id, X-Forwarded-Proto"}})
		got := o.Last().Header
		for _, k := range []string{"X-Forwarded-For", "Via", "X-Request-Id", "X-Forwarded-Proto"} {
			if got.Get(k) == "" {
				t.Errorf("origin %s missing: a viewer's Connection header removed an edge header", k)
			}
		}
	})
}

func TestForward_CustomHeadersReplaceViewerCopies(t *testing.T) {
	eachPath(t, func(t *testing.T, path string) {
		o := origintest.New(t)
		cfg := origin.Config{URL: o.URL, CustomHeaders: map[string]string{"x-origin-verify": "s3cret", "X-Env": "prod"}}
		e := newEdge(t, newOrigin(t, path, cfg, origin.Options{}), nil)
		e.get(t, "/x", http.Header{"X-Origin-Verify": {"forged"}, "X-Env": {"dev", "test"}})
		got := o.Last().Header
		want := http.Header{"X-Origin-Verify": {"s3cret"}, "X-Env": {"prod"}}
		for k := range want {
			if diff := cmp.Diff(want[k], got[k]); diff != "" {
				t.Errorf("origin %s (-want +got):\n%s", k, diff)
			}
		}
	})
}

func TestForward_PassesMethodBodyAndStatus(t *testing.T) {
	t.Parallel()
	o := origintest.New(t)
	o.Handle("/orders", origintest.Reply{Status: http.StatusCreated, Header: http.Header{"Location": {"/orders/7"}}, Body: []byte(`{"id":7}`)})
	e := newEdge(t, newOrigin(t, viaAny, origin.Config{URL: o.URL}, origin.Options{}), nil)
	req, _ := http.NewRequest(http.MethodPost, e.URL+"/orders", strings.NewReader(`{"item":"book"}`))
	req.Header.Set("Content-Type", "application/json")
	res, body := do(t, req)
	if res.StatusCode != http.StatusCreated || body != `{"id":7}` || res.Header.Get("Location") != "/orders/7" {
		t.Errorf("POST = %d %q Location %q, want 201 {\"id\":7} /orders/7", res.StatusCode, body, res.Header.Get("Location"))
	}
	got := o.Last()
	if got.Method != http.MethodPost || string(got.Body) != `{"item":"book"}` {
		t.Errorf("origin got %s %q, want POST {\"item\":\"book\"}", got.Method, got.Body)
	}
}

func TestForward_PassesEncodingsUntouched(t *testing.T) {
	eachPath(t, func(t *testing.T, path string) {
		o := origintest.New(t)
		gz := []byte("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff\x01\x00\x00\xff\xff\x00\x00\x00\x00\x00\x00\x00\x00")
		o.Handle("/z", origintest.Reply{Header: http.Header{"Content-Encoding": {"gzip"}}, Body: gz})
		e := newEdge(t, newOrigin(t, path, origin.Config{URL: o.URL}, origin.Options{}), nil)
		req, _ := http.NewRequest(http.MethodGet, e.URL+"/z", nil)
		req.Header.Set("Accept-Encoding", "gzip") // so the test client does not decode
		res, body := do(t, req)
		if res.Header.Get("Content-Encoding") != "gzip" || body != string(gz) {
			t.Errorf("viewer got Content-Encoding %q body %q, want gzip and the origin's bytes", res.Header.Get("Content-Encoding"), body)
		}
		if ae := o.Last().Header.Get("Accept-Encoding"); ae != "gzip" {
			t.Errorf("origin Accept-Encoding = %q, want the viewer's gzip", ae)
		}
	})
}

func TestForward_ProtocolPolicy(t *testing.T) {
	t.Parallel()
	plain := origintest.New(t)
	secure := origintest.NewTLS(t)
	ca := secure.CAFile()
	_, securePort, _ := net.SplitHostPort(secure.Addr())
	_, plainPort, _ := net.SplitHostPort(plain.Addr())
	port := func(s string) int {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	tests := []struct {
		name         string
		cfg          origin.Config
		viewerScheme string
		wantStatus   int
		wantAt       *origintest.Server
		wantProto    string
	}{
		{"https with private CA speaks HTTP/2", origin.Config{URL: secure.URL, CAFile: ca}, "http", 200, secure, "HTTP/2.0"},
		{"https with unknown CA is refused", origin.Config{URL: secure.URL}, "http", 502, nil, ""},
		{"server_name override verified", origin.Config{URL: secure.URL, CAFile: ca, ServerName: "api.example.com"}, "http", 200, secure, "HTTP/2.0"},
		{"server_name not in certificate", origin.Config{URL: secure.URL, CAFile: ca, ServerName: "api.example.org"}, "http", 502, nil, ""},
		{"https-only will not talk plain http", origin.Config{URL: "https://" + plain.Addr(), ProtocolPolicy: origin.HTTPSOnly}, "http", 502, nil, ""},
		{"http-only", origin.Config{URL: plain.URL}, "https", 200, plain, "HTTP/1.1"},
		{"match-viewer, http viewer", origin.Config{URL: plain.URL, ProtocolPolicy: origin.MatchViewer, HTTPSPort: port(securePort), CAFile: ca}, "http", 200, plain, "HTTP/1.1"},
		{"match-viewer, https viewer", origin.Config{URL: plain.URL, ProtocolPolicy: origin.MatchViewer, HTTPSPort: port(securePort), CAFile: ca}, "https", 200, secure, "HTTP/2.0"},
		{"match-viewer, https url, http viewer", origin.Config{URL: secure.URL, ProtocolPolicy: origin.MatchViewer, HTTPPort: port(plainPort), CAFile: ca}, "http", 200, plain, "HTTP/1.1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Not parallel: the counts of the shared origins are compared.
			o := newOrigin(t, viaAny, tc.cfg, origin.Options{})
			e := newEdge(t, o, func(r *edge.Request) { r.Scheme = tc.viewerScheme })
			before := map[*origintest.Server]int{plain: plain.Count(), secure: secure.Count()}
			res, _ := e.get(t, "/p", nil)
			if res.StatusCode != tc.wantStatus {
				t.Fatalf("status = %d, want %d", res.StatusCode, tc.wantStatus)
			}
			for s, n := range before {
				want := n
				if s == tc.wantAt {
					want++
				}
				if s.Count() != want {
					t.Errorf("origin %s got %d requests, want %d", s.URL, s.Count()-n, want-n)
				}
			}
			if tc.wantAt == nil {
				edgeError(t, e.lastErr(t), http.StatusBadGateway, "origin unreachable")
				return
			}
			if got := tc.wantAt.Last(); got.Proto != tc.wantProto || got.Host != tc.wantAt.Addr() {
				t.Errorf("origin got %s with Host %q, want %s with Host %q", got.Proto, got.Host, tc.wantProto, tc.wantAt.Addr())
			}
		})
	}
}

func TestForward_UnreachableOriginIs502WithoutWriting(t *testing.T) {
	eachPath(t, func(t *testing.T, path string) {
		reg := prometheus.NewRegistry()
		o := newOrigin(t, path, origin.Config{URL: "http://" + closedPort(t) + "/prod"}, origin.Options{Registerer: reg})
		w := &silentWriter{t: t}
		r := viewerRequest(httptest.NewRequest(http.MethodGet, "/x", nil))
		e := edgeError(t, o.Forward(w, r), http.StatusBadGateway, "origin unreachable")
		w.check()
		if !strings.Contains(e.Error(), "test-origin") {
			t.Errorf("error %q does not name the origin", e)
		}
		if got := testkit.Metric(t, reg, "edgeward_origin_errors_total", map[string]string{"origin": "test-origin", "kind": "connect"}); got != 1 {
			t.Errorf("errors_total{kind=connect} = %v, want 1", got)
		}
	})
}

func TestForward_BrokenAnswerIs502(t *testing.T) {
	eachPath(t, func(t *testing.T, path string) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				bufio.NewReader(c).ReadString('\n')
				io.WriteString(c, "HTTP/1.1 2OO OK\r\n\r\n")
				c.Close()
			}
		}()
		o := newOrigin(t, path, origin.Config{URL: "http://" + l.Addr().String()}, origin.Options{})
		w := &silentWriter{t: t}
		edgeError(t, o.Forward(w, viewerRequest(httptest.NewRequest(http.MethodGet, "/x", nil))), http.StatusBadGateway, "bad origin response")
		w.check()
	})
}

func TestForward_SlowOriginIs504WithoutWriting(t *testing.T) {
	eachPath(t, func(t *testing.T, path string) {
		reg := prometheus.NewRegistry()
		o := origintest.New(t)
		release := make(chan struct{})
		defer close(release)
		o.Handle("/slow", origintest.Reply{Wait: release})
		or := newOrigin(t, path, origin.Config{URL: o.URL, ResponseTimeout: 50 * time.Millisecond}, origin.Options{Registerer: reg})
		w := &silentWriter{t: t}
		r := viewerRequest(httptest.NewRequest(http.MethodGet, "/slow", nil))
		edgeError(t, or.Forward(w, r), http.StatusGatewayTimeout, "origin timeout")
		w.check()
		if r.OriginTime < 50*time.Millisecond {
			t.Errorf("OriginTime = %v, want >= the 50ms timeout", r.OriginTime)
		}
		if got := testkit.Metric(t, reg, "edgeward_origin_errors_total", map[string]string{"kind": "timeout"}); got != 1 {
			t.Errorf("errors_total{kind=timeout} = %v, want 1", got)
		}
	})
}

func TestForward_WaitForBusyPoolIs504(t *testing.T) {
	t.Parallel()
	o := origintest.New(t)
	arrived := make(chan struct{})
	o.Handle("/hold", origintest.Reply{Arrived: arrived, Hang: true})
	or := newOrigin(t, viaAny, origin.Config{URL: o.URL, MaxConns: 1, ConnectTimeout: 50 * time.Millisecond}, origin.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	held := make(chan error, 1)
	go func() {
		r := viewerRequest(httptest.NewRequestWithContext(ctx, http.MethodGet, "/hold", nil))
		held <- or.Forward(httptest.NewRecorder(), r)
	}()
	<-arrived
	defer func() { cancel(); <-held }()
	w := &silentWriter{t: t}
	next := make(chan error, 1)
	go func() { next <- or.Forward(w, viewerRequest(httptest.NewRequest(http.MethodGet, "/next", nil))) }()
	select {
	case err := <-next:
		edgeError(t, err, http.StatusGatewayTimeout, "origin timeout")
	case <-time.After(guard):
		t.Fatal("Forward waited for a pooled connection without bound")
	}
	w.check()
}

func TestForward_ViewerGoneIsNotAnOriginError(t *testing.T) {
	eachPath(t, func(t *testing.T, path string) {
		reg := prometheus.NewRegistry()
		o := origintest.New(t)
		arrived := make(chan struct{})
		o.Handle("/hold", origintest.Reply{Arrived: arrived, Hang: true})
		or := newOrigin(t, path, origin.Config{URL: o.URL}, origin.Options{Registerer: reg})
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		w := &silentWriter{t: t}
		go func() {
			errc <- or.Forward(w, viewerRequest(httptest.NewRequestWithContext(ctx, http.MethodGet, "/hold", nil)))
		}()
		<-arrived
		cancel()
		err := <-errc
		edgeError(t, err, origin.StatusClientClosed, "client closed request")
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Forward = %v, want it to wrap context.Canceled", err)
		}
		w.check()
		if got := testkit.Metric(t, reg, "edgeward_origin_errors_total", map[string]string{"kind": "canceled"}); got != 1 {
			t.Errorf("errors_total{kind=canceled} = %v, want 1", got)
		}
	})
}

func TestForward_StreamsChunksAsTheyArrive(t *testing.T) {
	t.Parallel()
	for _, ct := range []string{"text/event-stream", "application/octet-stream"} {
		t.Run(ct, func(t *testing.T) {
			eachPath(t, func(t *testing.T, path string) {
				o := origintest.New(t)
				release := make(chan struct{})
				o.Handle("/stream", origintest.Reply{
					Header: http.Header{"Content-Type": {ct}},
					Chunks: []origintest.Chunk{{Data: []byte("data: first\n\n")}, {Wait: release, Data: []byte("data: second\n\n")}},
				})
				e := newEdge(t, newOrigin(t, path, origin.Config{URL: o.URL}, origin.Options{}), nil)
				res, err := http.Get(e.URL + "/stream")
				if err != nil {
					t.Fatal(err)
				}
				defer res.Body.Close()
				first := make(chan string, 1)
				go func() {
					buf := make([]byte, len("data: first\n\n"))
					n, _ := io.ReadFull(res.Body, buf)
					first <- string(buf[:n])
				}()
				select {
				case got := <-first:
					if got != "data: first\n\n" {
						t.Fatalf("first chunk = %q, want %q", got, "data: first\n\n")
					}
				case <-time.After(guard):
					t.Fatal("first chunk did not arrive while the origin was still streaming")
				}
				close(release)
				rest, err := io.ReadAll(res.Body)
				if err != nil || string(rest) != "data: second\n\n" {
					t.Errorf("rest = %q, %v, want %q", rest, err, "data: second\n\n")
				}
			})
		})
	}
}

func TestForward_StalledBodyIsAborted(t *testing.T) {
	eachPath(t, func(t *testing.T, path string) {
		o := origintest.New(t)
		never := make(chan struct{})
		defer close(never)
		o.Handle("/stall", origintest.Reply{Chunks: []origintest.Chunk{{Data: []byte("part")}, {Wait: never, Data: []byte("never")}}})
		e := newEdge(t, newOrigin(t, path, origin.Config{URL: o.URL, ResponseTimeout: 50 * time.Millisecond}, origin.Options{}), nil)
		client := &http.Client{Timeout: guard}
		res, err := client.Get(e.URL + "/stall")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err == nil || string(b) != "part" {
			t.Fatalf("body = %q, %v; want %q and an aborted stream", b, err, "part")
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("viewer waited for its own timeout (%v): the stalled origin was not cut off", err)
		}
	})
}

func TestForward_WebSocketUpgradePassesThrough(t *testing.T) {
	t.Parallel()
	o := origintest.New(t)
	o.Handle("/prod/ws", origintest.Reply{Handler: http.HandlerFunc(origintest.WebSocketEcho)})
	e := newEdge(t, newOrigin(t, viaAny, origin.Config{URL: o.URL + "/prod"}, origin.Options{}), nil)
	c, err := net.DialTimeout("tcp", e.Listener.Addr().String(), guard)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(guard))
	key := "dGhlIHNhbXBsZSBub25jZQ=="
	io.WriteString(c, "GET /ws HTTP/1.1\r\nHost: edge.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: "+key+"\r\nSec-WebSocket-Version: 13\r\n\r\n")
	br := bufio.NewReader(c)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	if res.StatusCode != http.StatusSwitchingProtocols || res.Header.Get("Sec-WebSocket-Accept") != base64.StdEncoding.EncodeToString(sum[:]) {
		t.Fatalf("handshake = %d %v, want 101 with the accept key", res.StatusCode, res.Header)
	}
	if got := o.Last().RequestURI; got != "/prod/ws" {
		t.Errorf("origin got %q, want /prod/ws", got)
	}
	for _, msg := range []string{"hello", "again"} {
		io.WriteString(c, msg)
		buf := make([]byte, len(msg))
		if _, err := io.ReadFull(br, buf); err != nil || string(buf) != msg {
			t.Fatalf("echo = %q, %v, want %q", buf, err, msg)
		}
	}
}

func TestForward_RecordsOriginTimeAndMetrics(t *testing.T) {
	eachPath(t, func(t *testing.T, path string) {
		reg := prometheus.NewRegistry()
		o := origintest.New(t)
		o.Handle("/missing", origintest.Reply{Status: http.StatusNotFound})
		or := newOrigin(t, path, origin.Config{URL: o.URL}, origin.Options{Registerer: reg})
		// A second origin on the same registry must not clash.
		newOrigin(t, path, origin.Config{URL: o.URL}, origin.Options{Registerer: reg})
		e := newEdge(t, or, nil)
		e.get(t, "/ok", nil)
		if seen := <-e.done; seen.OriginTime <= 0 {
			t.Errorf("OriginTime = %v, want > 0", seen.OriginTime)
		}
		e.get(t, "/missing", nil)
		<-e.done
		e.noErr(t)
		for _, c := range []struct {
			name   string
			labels map[string]string
			want   float64
		}{
			{"edgeward_origin_requests_total", map[string]string{"origin": "test-origin", "client": path}, 2},
			{"edgeward_origin_responses_total", map[string]string{"class": "2xx"}, 1},
			{"edgeward_origin_responses_total", map[string]string{"class": "4xx"}, 1},
			{"edgeward_origin_response_seconds", map[string]string{"origin": "test-origin"}, 2},
		} {
			if got := testkit.Metric(t, reg, c.name, c.labels); got != c.want {
				t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
			}
		}
	})
}
