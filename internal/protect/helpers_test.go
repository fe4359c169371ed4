package protect

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgeward/edgeward/internal/edge"
)

// req builds a viewer request as the edge hands it to a protection: the
// client address, the host, headers as name, value pairs.
func req(method, target, body string, hdr ...string) *edge.Request {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	hr := httptest.NewRequest(method, target, rd)
	for i := 0; i+1 < len(hdr); i += 2 {
		hr.Header.Add(hdr[i], hdr[i+1])
	}
	return &edge.Request{ID: "req-1", HTTP: hr, Client: netip.MustParseAddrPort("192.0.2.10:40000"), Host: "api.example", Scheme: "http"}
}

func from(r *edge.Request, ip string) *edge.Request {
	r.Client = netip.AddrPortFrom(netip.MustParseAddr(ip), 40000)
	return r
}

// lines is a Sink that keeps the WAF log in memory.
type lines struct {
	mu sync.Mutex
	l  []string
}

func (l *lines) WriteLine(b []byte) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.l = append(l.l, string(b))
	return true
}

func (l *lines) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.l...)
}

// clock is an injected clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// build compiles cfg and returns its set "s".
func build(t testing.TB, cfg Config, opts Options) *Set {
	t.Helper()
	if opts.Log == nil {
		opts.Log = &lines{}
	}
	p, err := New(context.Background(), cfg, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(p.Close)
	s := p.Set("s")
	if s == nil {
		t.Fatal(`Set("s") = nil`)
	}
	return s
}

func one(s SetConfig) Config { return Config{Sets: map[string]SetConfig{"s": s}} }

// status is the HTTP status an Inspect error renders as (200: none).
func status(err error) int {
	if err == nil {
		return http.StatusOK
	}
	var e *edge.Error
	if errors.As(err, &e) {
		return e.Status
	}
	return -1
}

// inspect runs both phases as the edge would (the function in between
// does nothing).
func inspect(s *Set, r *edge.Request) int {
	allowed, err := s.Inspect(context.Background(), r)
	if err != nil || allowed {
		return status(err)
	}
	return status(s.InspectAuthorized(context.Background(), r))
}

var (
	wafOnce sync.Map // mode -> *Set
)

// shared returns a set with only the WAF (PL1) in mode, compiled once per
// test binary: the CRS takes a while to compile.
func shared(t testing.TB, mode string) (*Set, *lines) {
	t.Helper()
	type entry struct {
		s *Set
		l *lines
	}
	if e, ok := wafOnce.Load(mode); ok {
		return e.(entry).s, e.(entry).l
	}
	l := &lines{}
	p, err := New(context.Background(), one(SetConfig{WAF: WAFConfig{Mode: mode}}), Options{Log: l})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e, _ := wafOnce.LoadOrStore(mode, entry{p.Set("s"), l})
	return e.(entry).s, e.(entry).l
}

func headerOf(err error, name string) string {
	var e *edge.Error
	if errors.As(err, &e) && e.Header != nil {
		return e.Header.Get(name)
	}
	return ""
}
