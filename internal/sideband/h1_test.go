package sideband_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgeward/edgeward/internal/sideband"
)

const allowReply = `{"source_ip":"192.0.2.1","source_port":40000,"method":"GET","url":"http://api.example.com/orders","http_version":"1.1","headers":[{"host":"api.example.com"}]}`

// rawService is a sideband service written on raw TCP, so that a test can
// script what each connection does with each request: answer bytes, close,
// or hang. serve gets the connection's number (from 0), the request's
// number on it (from 0) and the request read with its body; it returns the
// bytes to write and whether to close the connection after them.
type rawService struct {
	ln    net.Listener
	mu    sync.Mutex
	conns int
	reqs  int
	wg    sync.WaitGroup
}

func newRawService(t *testing.T, serve func(conn, n int, r *http.Request, body string) (answer string, closeAfter bool)) *rawService {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &rawService{ln: ln}
	t.Cleanup(func() { ln.Close(); s.wg.Wait() })
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			idx := s.conns
			s.conns++
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer c.Close()
				br := bufio.NewReader(c)
				for n := 0; ; n++ {
					r, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					body, _ := io.ReadAll(r.Body)
					s.mu.Lock()
					s.reqs++
					s.mu.Unlock()
					answer, closeAfter := serve(idx, n, r, string(body))
					if answer != "" {
						if _, err := io.WriteString(c, answer); err != nil {
							return
						}
					}
					if closeAfter {
						return
					}
				}
			}()
		}
	}()
	return s
}

func (s *rawService) url() string { return "http://" + s.ln.Addr().String() }

func (s *rawService) counts() (conns, reqs int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns, s.reqs
}

func okAnswer(extra string) string {
	return fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n%sContent-Length: %d\r\n\r\n%s", extra, len(allowReply), allowReply)
}

func leanClient(t *testing.T, url string, mod func(*sideband.ClientConfig)) *sideband.Client {
	t.Helper()
	c := newClient(t, url, mod)
	if !sideband.Lean(c) {
		t.Fatal("the client does not take the lean HTTP/1.1 hop to a plain-http service")
	}
	return c
}

// A reused connection the service closed after reading the request,
// without answering (it went idle-closed under the client), is retried
// once on a new connection; the decision comes from there.
func TestH1_StaleConnectionIsRetriedOnceOnANewOne(t *testing.T) {
	t.Parallel()
	s := newRawService(t, func(conn, n int, r *http.Request, body string) (string, bool) {
		if conn == 0 && n == 1 {
			return "", true // read the second request, then drop the connection
		}
		return okAnswer(""), false
	})
	c := leanClient(t, s.url(), nil)
	for i := range 2 {
		if _, err := c.Request(context.Background(), sampleRequest()); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if conns, reqs := s.counts(); conns != 2 || reqs != 3 {
		t.Errorf("service saw %d connections, %d requests; want 2 and 3 (one retry on a new connection)", conns, reqs)
	}
}

// A new connection that fails is not retried by the client: retries are
// the caller's (max_retries), and a failure is a transport error.
func TestH1_FailureOnANewConnectionIsNotRetried(t *testing.T) {
	t.Parallel()
	s := newRawService(t, func(conn, n int, r *http.Request, body string) (string, bool) { return "", true })
	c := leanClient(t, s.url(), nil)
	_, err := c.Request(context.Background(), sampleRequest())
	if !errors.Is(err, sideband.ErrTransport) {
		t.Errorf("Request(dropping service) error = %v, want ErrTransport", err)
	}
	if conns, reqs := s.counts(); conns != 1 || reqs != 1 {
		t.Errorf("service saw %d connections, %d requests; want 1 and 1", conns, reqs)
	}
}

// A stale connection is retried once, not again: when the new connection
// fails too, the call fails.
func TestH1_StaleRetryHappensAtMostOnce(t *testing.T) {
	t.Parallel()
	s := newRawService(t, func(conn, n int, r *http.Request, body string) (string, bool) {
		if conn == 0 && n == 0 {
			return okAnswer(""), false
		}
		return "", true
	})
	c := leanClient(t, s.url(), nil)
	if _, err := c.Request(context.Background(), sampleRequest()); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Request(context.Background(), sampleRequest()); !errors.Is(err, sideband.ErrTransport) {
		t.Errorf("second call error = %v, want ErrTransport", err)
	}
	if conns, reqs := s.counts(); conns != 2 || reqs != 3 {
		t.Errorf("service saw %d connections, %d requests; want 2 and 3", conns, reqs)
	}
}

// An answer that ends the connection (Connection: close, or HTTP/1.0
// without keep-alive) is used, and its connection never reused; a
// keep-alive answer's connection is.
func TestH1_ConnectionReuseFollowsTheAnswer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		answer    string
		wantConns int
	}{
		{"keep-alive", okAnswer(""), 1},
		{"Connection: close", okAnswer("Connection: close\r\n"), 3},
		{"HTTP/1.0", strings.Replace(okAnswer(""), "HTTP/1.1", "HTTP/1.0", 1), 3},
		{"HTTP/1.0 keep-alive", strings.Replace(okAnswer("Connection: keep-alive\r\n"), "HTTP/1.1", "HTTP/1.0", 1), 1},
		{"chunked", "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" +
			fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", len(allowReply), allowReply), 1},
		{"error answer with a body", "HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\n\r\n{}", 1},
		{"bytes after the answer", okAnswer("") + "HTTP/1.1 200 OK\r\n", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newRawService(t, func(conn, n int, r *http.Request, body string) (string, bool) {
				// The connection stays open: it is for the client to
				// see that the answer ended it.
				return tt.answer, false
			})
			c := leanClient(t, s.url(), nil)
			for i := range 3 {
				_, err := c.Request(context.Background(), sampleRequest())
				var se *sideband.StatusError
				if err != nil && !errors.As(err, &se) {
					t.Fatalf("call %d: %v", i, err)
				}
			}
			if conns, reqs := s.counts(); conns != tt.wantConns || reqs != 3 {
				t.Errorf("service saw %d connections, %d requests; want %d and 3", conns, reqs, tt.wantConns)
			}
		})
	}
}

// Replies over the limits are not decisions: a body over MaxReplyBytes
// (declared or chunked) is malformed, a header without end a transport
// error; neither connection is reused.
func TestH1_OversizedRepliesFail(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", 2048)
	tests := []struct {
		name   string
		answer string
		want   error
	}{
		{"declared length", "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2048\r\n\r\n" + big, sideband.ErrMalformedReply},
		{"chunked", "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n" + big + "\r\n0\r\n\r\n", sideband.ErrMalformedReply},
		{"header", "HTTP/1.1 200 OK\r\nX-Big: " + strings.Repeat("y", 70<<10) + "\r\n\r\n", sideband.ErrTransport},
		{"unparseable", "HTTP/1.1 2OO OK\r\n\r\n", sideband.ErrTransport},
		{"not JSON", "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 5\r\n\r\nhello", sideband.ErrMalformedReply},
		{"cut short", "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{}", sideband.ErrTransport},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newRawService(t, func(conn, n int, r *http.Request, body string) (string, bool) { return tt.answer, true })
			c := leanClient(t, s.url(), func(c *sideband.ClientConfig) { c.MaxReplyBytes = 1024 })
			_, err := c.Request(context.Background(), sampleRequest())
			if !errors.Is(err, tt.want) {
				t.Errorf("Request() error = %v, want %v", err, tt.want)
			}
		})
	}
}

// The call's deadline is the caller's when it is sooner than the client's
// timeout, and cancelling the caller's context ends the call at once.
func TestH1_CallerDeadlineAndCancellation(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	s := newRawService(t, func(conn, n int, r *http.Request, body string) (string, bool) {
		<-release
		return "", true
	})
	t.Cleanup(func() { close(release) }) // before the service waits for its connections
	c := leanClient(t, s.url(), func(c *sideband.ClientConfig) { c.Timeout = time.Minute })

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Request(ctx, sampleRequest())
	if !errors.Is(err, sideband.ErrTransport) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Request(caller deadline) error = %v, want ErrTransport wrapping DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Request(caller deadline) took %v", d)
	}

	ctx, cancel = context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := c.Request(ctx, sampleRequest()); done <- err }()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Request(cancelled) error = %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Request(cancelled) did not return")
	}
}

// The lean hop writes what http.Transport writes: the path joined to the
// service URL, Host, the JSON content type and length, the credential
// verbatim, and the body.
func TestH1_WritesTheRequest(t *testing.T) {
	t.Parallel()
	type seen struct {
		r    *http.Request
		body string
	}
	got := make(chan seen, 2)
	s := newRawService(t, func(conn, n int, r *http.Request, body string) (string, bool) {
		got <- seen{r, body}
		return okAnswer(""), false
	})
	c := leanClient(t, s.url()+"/v1/environments/e1/", func(c *sideband.ClientConfig) { c.CredentialHeader = "PDG-TOKEN" })
	if _, err := c.Request(context.Background(), sampleRequest()); err != nil {
		t.Fatal(err)
	}
	g := <-got
	want, _ := sideband.EncodeRequest(sampleRequest())
	switch {
	case g.r.Method != "POST" || g.r.RequestURI != "/v1/environments/e1/sideband/request":
		t.Errorf("request line = %s %s", g.r.Method, g.r.RequestURI)
	case g.r.Host != s.ln.Addr().String():
		t.Errorf("Host = %q, want %q", g.r.Host, s.ln.Addr().String())
	case g.r.Header.Get("Content-Type") != "application/json" || g.r.Header.Get("Accept") != "application/json":
		t.Errorf("Content-Type/Accept = %q/%q", g.r.Header.Get("Content-Type"), g.r.Header.Get("Accept"))
	case g.r.Header.Get("PDG-TOKEN") != "gw-secret":
		t.Errorf("credential header = %q", g.r.Header.Get("PDG-TOKEN"))
	case g.r.ContentLength != int64(len(want)) || g.body != string(want):
		t.Errorf("body (length %d) = %s, want %s", g.r.ContentLength, g.body, want)
	}
}

// HTTPS and h2c services keep http.Transport. (So do proxied ones, but
// http.ProxyFromEnvironment reads the environment once per process.)
func TestH1_OnlyForPlainHTTP1(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, url, protocol string
		want                bool
	}{
		{"http auto", "http://127.0.0.1:9", "", true},
		{"http http1", "http://127.0.0.1:9", sideband.ProtocolHTTP1, true},
		{"http h2c", "http://127.0.0.1:9", sideband.ProtocolH2C, false},
		{"https", "https://127.0.0.1:9", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := sideband.NewClient(sideband.ClientConfig{ServiceURL: tt.url, Protocol: tt.protocol})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if got := sideband.Lean(c); got != tt.want {
				t.Errorf("lean = %v, want %v", got, tt.want)
			}
		})
	}
}
