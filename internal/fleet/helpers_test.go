package fleet

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgeward/edgeward/internal/edge"
	"github.com/edgeward/edgeward/internal/httpcache"
	"github.com/edgeward/edgeward/internal/testkit"
)

// redisServer is a redis-server process on a loopback port that the test
// can kill and start again on the same port.
type redisServer struct {
	t    *testing.T
	bin  string
	port int
	args []string
	cmd  *exec.Cmd
	done chan struct{}
}

// startRedis starts redis-server without persistence; args are extra
// command-line options.
func startRedis(t *testing.T, args ...string) *redisServer {
	t.Helper()
	r := &redisServer{t: t, bin: testkit.Tool(t, "redis-server", "redis-server"), port: freePort(t), args: args}
	r.start()
	t.Cleanup(r.kill)
	return r
}

func (r *redisServer) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(r.port)) }

func (r *redisServer) start() {
	r.t.Helper()
	args := append([]string{"--port", strconv.Itoa(r.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--protected-mode", "no", "--dir", r.t.TempDir()}, r.args...)
	r.cmd = exec.Command(r.bin, args...)
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	r.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { cmd.Wait(); close(done) }(r.cmd, r.done)
	waitFor(r.t, 10*time.Second, "redis-server listening", func() bool {
		c, err := net.DialTimeout("tcp", r.addr(), 100*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}

// kill stops the server at once (SIGKILL); its data is gone.
func (r *redisServer) kill() {
	if r.cmd != nil && r.cmd.Process != nil {
		r.cmd.Process.Kill()
		<-r.done
		r.cmd = nil
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// waitFor polls cond until it holds or the deadline passes: for external
// processes, whose progress the test cannot be told about.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// proxy is a TCP proxy between a node and Redis that the test stops (every
// connection cut, new ones refused) and starts again.
type proxy struct {
	t      *testing.T
	target string
	port   int
	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]bool
}

func newProxy(t *testing.T, target string) *proxy {
	p := &proxy{t: t, target: target, port: freePort(t), conns: map[net.Conn]bool{}}
	p.start()
	t.Cleanup(p.stop)
	return p
}

func (p *proxy) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(p.port)) }

func (p *proxy) start() {
	p.t.Helper()
	var ln net.Listener
	var err error
	waitFor(p.t, 5*time.Second, "proxy port free again", func() bool {
		ln, err = net.Listen("tcp", p.addr())
		return err == nil
	})
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns[c], p.conns[up] = true, true
			p.mu.Unlock()
			go func() { io.Copy(up, c); up.Close() }()
			go func() { io.Copy(c, up); c.Close() }()
		}
	}()
}

func (p *proxy) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	p.conns = map[net.Conn]bool{}
}

// node is one edge's cache and fleet membership, in this process.
type node struct {
	*Node
	store *httpcache.Store
	cache *httpcache.Cache
}

// testConfig is a fleet configuration for tests: fast heartbeats.
func testConfig(name, addr string) Config {
	c := Config{Node: name, Redis: RedisConfig{Address: addr, Timeout: time.Second}, Heartbeat: 50 * time.Millisecond, DisconnectBound: time.Minute}
	return c
}

// startNode joins a node with cfg (defaulted here) and waits until it is
// in sync when Redis is expected up.
func startNode(t *testing.T, cfg Config, waitSync bool) *node {
	t.Helper()
	cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	s, err := httpcache.NewStore(httpcache.StoreConfig{}, httpcache.Options{})
	if err != nil {
		t.Fatal(err)
	}
	n, err := New(cfg, s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.SharedTier.Enabled {
		s.SetTier(n.Tier(), nil, int64(cfg.SharedTier.MaxObjectSize))
	}
	c, err := s.Policy("*", httpcache.PolicyConfig{})
	if err != nil {
		t.Fatal(err)
	}
	n.Start(context.Background())
	t.Cleanup(func() { n.Close(); s.Close() })
	if waitSync {
		waitFor(t, 10*time.Second, cfg.Node+" in sync", n.synced.Load)
	}
	return &node{Node: n, store: s, cache: c}
}

// origin counts requests per path and answers "path vN" (N the count),
// cacheable for a minute.
type origin struct {
	srv   *httptest.Server
	url   *url.URL
	n     sync.Map // path -> *atomic.Int64
	delay time.Duration
	total atomic.Int64
}

func newOrigin(t *testing.T) *origin {
	o := &origin{}
	o.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.total.Add(1)
		v, _ := o.n.LoadOrStore(r.URL.Path, new(atomic.Int64))
		n := v.(*atomic.Int64).Add(1)
		if o.delay > 0 {
			time.Sleep(o.delay) // a slow origin, so that misses overlap
		}
		w.Header().Set("Cache-Control", "max-age=600")
		if strings.HasPrefix(r.URL.Path, "/aged") {
			w.Header().Set("Age", "100")
		}
		fmt.Fprintf(w, "%s v%d", r.URL.Path, n)
	}))
	t.Cleanup(o.srv.Close)
	o.url, _ = url.Parse(o.srv.URL)
	return o
}

func (o *origin) count(path string) int64 {
	v, ok := o.n.Load(path)
	if !ok {
		return 0
	}
	return v.(*atomic.Int64).Load()
}

// Forward implements edge.Origin.
func (o *origin) Forward(w http.ResponseWriter, r *edge.Request) error {
	p := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(o.url) }}
	p.ServeHTTP(w, r.HTTP)
	return nil
}

// get sends GET path through the node's cache and returns the body and
// whether it was a hit.
func (n *node) get(t *testing.T, o *origin, path string) (string, bool) {
	t.Helper()
	body, hit, _ := n.getAge(t, o, path)
	return body, hit
}

// getAge is get with the response's Age.
func (n *node) getAge(t *testing.T, o *origin, path string) (string, bool, string) {
	t.Helper()
	req := httptest.NewRequest("GET", "http://example.com"+path, nil)
	r := &edge.Request{HTTP: req, Host: req.Host, Scheme: "http"}
	rec := httptest.NewRecorder()
	if err := n.cache.Serve(rec, r, o); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return rec.Body.String(), r.Result == edge.ResultHit, rec.Header().Get("Age")
}
