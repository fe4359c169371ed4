package httpcache

import (
	"errors"
	"io"
	"log"
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
	"github.com/edgeward/edgeward/internal/testkit"
)

// origin is a test origin behind a reverse proxy that honours the
// edge.Origin contract. It counts the requests it receives and keeps the
// last one.
type origin struct {
	t       *testing.T
	srv     *httptest.Server
	url     *url.URL
	n       atomic.Int64
	mu      sync.Mutex
	last    *http.Request
	handler http.HandlerFunc
	clock   *testkit.Clock
}

func newOrigin(t *testing.T, clock *testkit.Clock, h http.HandlerFunc) *origin {
	t.Helper()
	o := &origin{t: t, handler: h, clock: clock}
	o.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.n.Add(1)
		o.mu.Lock()
		o.last = r.Clone(r.Context())
		h := o.handler
		o.mu.Unlock()
		if _, ok := r.Header["Date"]; !ok && clock != nil {
			w.Header().Set("Date", clock.Now().Format(http.TimeFormat))
		}
		h(w, r)
	}))
	t.Cleanup(o.srv.Close)
	o.url, _ = url.Parse(o.srv.URL)
	return o
}

func (o *origin) count() int64 { return o.n.Load() }

func (o *origin) lastRequest() *http.Request {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.last
}

func (o *origin) setHandler(h http.HandlerFunc) {
	o.mu.Lock()
	o.handler = h
	o.mu.Unlock()
}

// Forward implements edge.Origin.
func (o *origin) Forward(w http.ResponseWriter, r *edge.Request) error {
	var ferr error
	p := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(o.url)
			pr.Out.Host = pr.In.Host
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			ferr = &edge.Error{Status: http.StatusBadGateway, Msg: "origin unreachable", Err: err}
		},
		ErrorLog: log.New(io.Discard, "", 0),
	}
	p.ServeHTTP(w, r.HTTP)
	return ferr
}

// downOrigin fails every request without writing.
type downOrigin struct{ n atomic.Int64 }

func (d *downOrigin) Forward(http.ResponseWriter, *edge.Request) error {
	d.n.Add(1)
	return &edge.Error{Status: http.StatusBadGateway, Msg: "origin unreachable", Err: errors.New("connection refused")}
}

// newCache builds a store with a fake clock and one behavior's cache.
func newCache(t *testing.T, cfg PolicyConfig, scfg StoreConfig) (*Store, *Cache, *testkit.Clock) {
	t.Helper()
	clock := testkit.NewClock(respTime)
	s, err := NewStore(scfg, Options{Clock: clock.Now})
	if err != nil {
		t.Fatalf("NewStore: %v", err)
	}
	t.Cleanup(s.Close)
	c, err := s.Policy("test", cfg)
	if err != nil {
		t.Fatalf("Policy: %v", err)
	}
	return s, c, clock
}

// honest is a PolicyConfig that follows the origin: default_ttl and error
// caching 0, every header forwarded.
func honest() PolicyConfig {
	return PolicyConfig{
		DefaultTTL:         ptr(time.Duration(0)),
		ErrorCachingMinTTL: ptr(time.Duration(0)),
		Forward:            ForwardConfig{Headers: List{Mode: ListAll}, Cookies: List{Mode: ListAll}},
	}
}

// request builds an edge request for target with "Name: value" headers.
func request(method, target string, headers ...string) *edge.Request {
	req := httptest.NewRequest(method, "http://example.com"+target, nil)
	for _, h := range headers {
		name, value, _ := strings.Cut(h, ":")
		req.Header.Add(name, strings.TrimSpace(value))
	}
	return &edge.Request{HTTP: req, Host: req.Host, Scheme: "http"}
}

// serve runs one request through c and returns the recorded response.
func serve(t *testing.T, c *Cache, o edge.Origin, method, target string, headers ...string) (*httptest.ResponseRecorder, *edge.Request) {
	t.Helper()
	r := request(method, target, headers...)
	rec := httptest.NewRecorder()
	if err := c.Serve(rec, r, o); err != nil {
		var ee *edge.Error
		if !errors.As(err, &ee) {
			t.Fatalf("Serve(%s %s) = %v, want nil or *edge.Error", method, target, err)
		}
		rec.Code = ee.Status
	}
	return rec, r
}

// fixed answers with the given headers ("Name: value") and body.
func fixed(status int, body string, headers ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for _, h := range headers {
			name, value, _ := strings.Cut(h, ":")
			w.Header().Add(name, strings.TrimSpace(value))
		}
		w.WriteHeader(status)
		if r.Method != http.MethodHead {
			w.Write([]byte(body))
		}
	}
}
