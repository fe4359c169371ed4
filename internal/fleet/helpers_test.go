package fleet

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgeward/edgeward/internal/edge"
	"github.com/edgeward/edgeward/internal/httpcache"
	"github.com/edgeward/edgeward/internal/testkit"
)

// startRedis starts a redis-server (testkit.Redis) with extra options.
func startRedis(t *testing.T, args ...string) *testkit.Redis {
	r := testkit.NewRedis(t, args...)
	r.Start()
	return r
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
		testkit.WaitFor(t, 10*time.Second, cfg.Node+" in sync", n.synced.Load)
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
