package app

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"testing"

	"github.com/edgeward/edgeward/internal/config"
	"github.com/edgeward/edgeward/internal/token/tokentest"
)

// The full-stack benchmarks build the real edge from a configuration file
// (app.NewEdge: embedded decision service, token issuer from tokentest, a
// real RS256 token, the shared cache) and send requests through it.
//
//   - loopback: one keep-alive TCP connection to the real listener, so the
//     request crosses net/http's server, the framing guard, the pipeline,
//     the authorize function, the decision engine, the cache and (on a
//     miss) the origin hop to a loopback origin. The client and the origin
//     are raw HTTP/1.1 loops that allocate nothing per request, so the
//     allocations reported are the edge's own.
//   - handler: the edge's http.Handler called directly (no network, no
//     net/http server): the pipeline's share of the loopback figure.
//
// Both run one request at a time: ns/op is a latency, not a throughput
// under load (wrk measures that; see docs/benchmarks.md).

// benchModel is the decision service: one API service whose operations
// need the orders:read scope; the allow sets x-user-id from the token and
// removes Authorization, as in the demo.
const benchModel = `
  token_issuers:
    bench: {issuer: %q, jwks_url: %q, algorithms: [RS256]}
  api_services:
    - name: Orders API
      base_urls: [http://%s]
      token_issuer: bench
      audience: https://api.example.com
      operations:
        - name: Read orders
          methods: [GET, HEAD]
          paths:
            - {type: PARAMETER, pattern: "/orders/{id}"}
            - {type: PARAMETER, pattern: "/live/{id}"}
          access_control: {scopes: {match: ANY, values: [orders:read]}}
      statements:
        set_headers: {x-user-id: "{{claims.sub}}"}
        remove_headers: [authorization]
`

// benchFile is the edge: /orders/* is cached, /live/* is not (every
// request goes to the origin).
const benchFile = `
admin: "off"
origins:
  orders:
    url: http://%s/prod
behaviors:
  - path_pattern: "/orders/*"
    origin: orders
    viewer_request: authorize
    cache: {default_ttl: 60s}
  - path_pattern: "*"
    origin: orders
    viewer_request: authorize
decision:%s
logging: {access_log: {path: "off"}}
`

// benchOriginResponse is the origin's answer: the peers' nginx origin's
// 43-byte JSON body, shareable so that the cache stores it.
const benchOriginResponse = "HTTP/1.1 200 OK\r\n" +
	"Content-Type: application/json\r\n" +
	"Cache-Control: public, max-age=600\r\n" +
	"Content-Length: 43\r\n" +
	"\r\n" +
	`{"id":42,"item":"order","status":"shipped"}`

// benchEdge is a running edge, its raw origin and a valid token.
type benchEdge struct {
	e     *Edge
	addr  string // the edge's listener
	token string
}

func newBenchEdge(b *testing.B) *benchEdge {
	b.Helper()
	iss := tokentest.NewIssuer(b)
	origin := serveRawOrigin(b)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	file := fmt.Sprintf(benchFile, origin, fmt.Sprintf(benchModel, iss.URL(), iss.JWKSURL(), addr))
	f, err := config.ParseEdge("bench.yaml", []byte(file), func(string) (string, bool) { return "", false })
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e, err := NewEdge(ctx, "bench.yaml", f, Options{})
	if err != nil {
		cancel()
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- e.Serve(ctx, ln) }()
	b.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			b.Errorf("edge: %v", err)
		}
	})
	tok := iss.Mint(map[string]any{"sub": "alice", "aud": "https://api.example.com", "scope": "orders:read"})
	return &benchEdge{e: e, addr: addr, token: tok}
}

// request is the raw request for path, as wrk sends it.
func (be *benchEdge) request(path string) []byte {
	return []byte("GET " + path + " HTTP/1.1\r\nHost: " + be.addr + "\r\n" +
		"Authorization: Bearer " + be.token + "\r\n\r\n")
}

// BenchmarkAuthorizedHit is an authorized cache hit through the whole edge
// with a warm verified-token cache.
func BenchmarkAuthorizedHit(b *testing.B) {
	be := newBenchEdge(b)
	b.Run("loopback", func(b *testing.B) { be.loopback(b, "/orders/1", "Hit") })
	b.Run("handler", func(b *testing.B) { be.handler(b, "/orders/1", "Hit") })
}

// BenchmarkAuthorizedMiss is an authorized request that the origin answers
// every time (a behavior without a cache), over a kept-alive origin
// connection.
func BenchmarkAuthorizedMiss(b *testing.B) {
	be := newBenchEdge(b)
	b.Run("loopback", func(b *testing.B) { be.loopback(b, "/live/1", "") })
	b.Run("handler", func(b *testing.B) { be.handler(b, "/live/1", "") })
}

func (be *benchEdge) loopback(b *testing.B, path, wantCache string) {
	c, err := net.Dial("tcp", be.addr)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	cl := &rawClient{c: c, br: bufio.NewReaderSize(c, 4096), req: be.request(path)}
	// The first round trips fill the token cache and the object cache.
	for range 2 {
		if err := cl.roundTrip(); err != nil {
			b.Fatal(err)
		}
	}
	if cl.status != 200 || (wantCache != "" && !bytes.HasPrefix(cl.xCache, []byte(wantCache))) {
		b.Fatalf("GET %s = %d, X-Cache %q; want 200 and %q", path, cl.status, cl.xCache, wantCache)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := cl.roundTrip(); err != nil {
			b.Fatal(err)
		}
	}
	if cl.status != 200 {
		b.Fatalf("GET %s = %d", path, cl.status)
	}
}

func (be *benchEdge) handler(b *testing.B, path, wantCache string) {
	h := be.e.server
	req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(be.request(path))))
	if err != nil {
		b.Fatal(err)
	}
	req.RemoteAddr = "127.0.0.1:40000"
	w := &discardWriter{h: make(http.Header, 8)}
	auth := "Bearer " + be.token
	serve := func() {
		clear(w.h)
		w.status = 0
		// The pipeline changes the request's header map: give it a fresh
		// one each time, as net/http does (2 of the allocations reported).
		req.Header = http.Header{"Authorization": {auth}}
		h.ServeHTTP(w, req)
	}
	serve() // fills the token cache and the object cache
	serve()
	if w.status != 200 || (wantCache != "" && !bytes.HasPrefix([]byte(w.h.Get("X-Cache")), []byte(wantCache))) {
		b.Fatalf("GET %s = %d, X-Cache %q; want 200 and %q", path, w.status, w.h.Get("X-Cache"), wantCache)
	}
	b.ReportAllocs()
	for b.Loop() {
		serve()
	}
}

// discardWriter is a ResponseWriter that keeps the status only.
type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header { return w.h }
func (w *discardWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}
func (w *discardWriter) Write(p []byte) (int, error) {
	w.WriteHeader(200)
	return len(p), nil
}

// rawClient sends one fixed request at a time on a kept-alive connection
// and reads the answer without allocating (what wrk does).
type rawClient struct {
	c      net.Conn
	br     *bufio.Reader
	req    []byte
	status int
	xCache []byte
	xbuf   [32]byte
}

func (cl *rawClient) roundTrip() error {
	if _, err := cl.c.Write(cl.req); err != nil {
		return err
	}
	line, err := cl.br.ReadSlice('\n')
	if err != nil {
		return err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.1 ")) {
		return fmt.Errorf("bad status line %q", line)
	}
	cl.status = atoi(line[9:12])
	n, chunked := -1, false
	cl.xCache = cl.xbuf[:0]
	for {
		line, err = cl.br.ReadSlice('\n')
		if err != nil {
			return err
		}
		if len(line) <= 2 {
			break
		}
		name, value, _ := bytes.Cut(bytes.TrimRight(line, "\r\n"), []byte(": "))
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			n = atoi(value)
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = true
		case bytes.EqualFold(name, []byte("X-Cache")):
			cl.xCache = append(cl.xCache, value...)
		}
	}
	if chunked || n < 0 {
		return errors.New("benchmark client reads Content-Length bodies only")
	}
	_, err = cl.br.Discard(n)
	return err
}

func atoi(b []byte) int {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// serveRawOrigin runs an HTTP/1.1 origin that answers every bodiless
// request with benchOriginResponse, allocating nothing per request, and
// returns its address.
func serveRawOrigin(b *testing.B) string {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	resp := []byte(benchOriginResponse)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					// Read one head; the edge sends no bodies here.
					for {
						line, err := br.ReadSlice('\n')
						if err != nil {
							return
						}
						if len(line) <= 2 {
							break
						}
					}
					if _, err := c.Write(resp); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}
