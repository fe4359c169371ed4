package origintest_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/edgeward/edgeward/internal/origintest"
)

func TestServer_RecordsRequestsAsReceived(t *testing.T) {
	t.Parallel()
	s := origintest.New(t)
	c, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "POST /a%2Fb/%7e?q=1;x HTTP/1.1\r\nHost: origin.example\r\nX-Test: one\r\nContent-Length: 4\r\n\r\nbody")
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	got := s.Last()
	want := origintest.Request{
		Method: "POST", RequestURI: "/a%2Fb/%7e?q=1;x", Path: "/a/b/~", RawQuery: "q=1;x", Proto: "HTTP/1.1",
		Host: "origin.example", Header: http.Header{"X-Test": {"one"}, "Content-Length": {"4"}}, Body: []byte("body"),
	}
	got.RemoteAddr = ""
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("recorded request (-want +got):\n%s", diff)
	}
}

func TestServer_RepliesAsScriptedPerPath(t *testing.T) {
	t.Parallel()
	s := origintest.New(t)
	s.Handle("/teapot", origintest.Reply{Status: 418, Header: http.Header{"X-A": {"b"}}, Body: []byte("short and stout")})
	s.HandleDefault(origintest.Reply{Status: 404})
	for _, tc := range []struct {
		path, body string
		status     int
	}{{"/teapot", "short and stout", 418}, {"/other", "", 404}} {
		res, err := http.Get(s.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != tc.status || string(b) != tc.body {
			t.Errorf("GET %s = %d %q, want %d %q", tc.path, res.StatusCode, b, tc.status, tc.body)
		}
	}
	if s.Count() != 2 {
		t.Errorf("Count() = %d, want 2", s.Count())
	}
}

func TestServer_WaitAndChunksFollowTheTest(t *testing.T) {
	t.Parallel()
	s := origintest.New(t)
	start, next := make(chan struct{}), make(chan struct{})
	s.Handle("/s", origintest.Reply{Wait: start, Chunks: []origintest.Chunk{{Data: []byte("a")}, {Wait: next, Data: []byte("b")}}})
	close(start)
	res, err := http.Get(s.URL + "/s")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	buf := make([]byte, 1)
	if _, err := io.ReadFull(res.Body, buf); err != nil || string(buf) != "a" {
		t.Fatalf("first chunk = %q, %v, want a", buf, err)
	}
	close(next)
	if rest, _ := io.ReadAll(res.Body); string(rest) != "b" {
		t.Errorf("rest = %q, want b", rest)
	}
}

func TestServer_HangEndsWhenTheClientLeaves(t *testing.T) {
	t.Parallel()
	s := origintest.New(t)
	arrived := make(chan struct{})
	s.Handle("/hang", origintest.Reply{Hang: true, Arrived: arrived})
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/hang", nil)
	errc := make(chan error, 1)
	go func() {
		_, err := http.DefaultClient.Do(req)
		errc <- err
	}()
	<-arrived
	cancel()
	if err := <-errc; err == nil {
		t.Error("a hanging reply answered")
	}
}

func TestServer_ConcurrentRequestsAreAllRecorded(t *testing.T) {
	t.Parallel()
	s := origintest.New(t)
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			res, err := http.Get(s.URL + "/c")
			if err == nil {
				res.Body.Close()
			}
			_ = s.Requests()
		})
	}
	wg.Wait()
	if got := s.Count(); got != 20 {
		t.Errorf("Count() = %d, want 20", got)
	}
}

func TestNewTLS_CAFileTrustsTheServer(t *testing.T) {
	t.Parallel()
	s := origintest.NewTLS(t)
	pem, err := os.ReadFile(s.CAFile())
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatal("CAFile holds no certificate")
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}}
	res, err := c.Get(s.URL + "/x")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if got := s.Last().Proto; got != "HTTP/2.0" {
		t.Errorf("Proto = %q, want HTTP/2.0", got)
	}
}

func TestWebSocketEcho_EchoesAfterHandshake(t *testing.T) {
	t.Parallel()
	s := origintest.New(t)
	s.Handle("/ws", origintest.Reply{Handler: http.HandlerFunc(origintest.WebSocketEcho)})
	c, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
	br := bufio.NewReader(c)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Header.Get("Sec-WebSocket-Accept"); res.StatusCode != 101 || got != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatalf("handshake = %d accept %q, want 101 with the RFC 6455 example key", res.StatusCode, got)
	}
	io.WriteString(c, "ping")
	buf := make([]byte, 4)
	if _, err := io.ReadFull(br, buf); err != nil || !strings.EqualFold(string(buf), "ping") {
		t.Errorf("echo = %q, %v, want ping", buf, err)
	}
}
