package httpcache

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgeward/edgeward/internal/testkit"
)

// memTier is a shared tier in memory, on the test's clock; fail makes
// every call fail (Redis away).
type memTier struct {
	clock *testkit.Clock
	mu    sync.Mutex
	objs  map[string]memObject
	gen   map[string]int
	fail  bool
	locks map[string]bool
	held  bool   // another node holds every fill lock
	wait  func() // called by Wait (the other node's fill)
}

type memObject struct {
	data []byte
	at   time.Time
	ttl  time.Duration
}

var errTierDown = errors.New("tier down")

func newMemTier(clock *testkit.Clock) *memTier {
	return &memTier{clock: clock, objs: map[string]memObject{}, gen: map[string]int{}, locks: map[string]bool{}}
}

func (m *memTier) Load(_ context.Context, path, key string) (TierObject, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail {
		return TierObject{}, errTierDown
	}
	tok := strings.Repeat("x", m.gen[path])
	o, ok := m.objs[path+"\x00"+key]
	if !ok || m.clock.Now().Sub(o.at) >= o.ttl {
		return TierObject{Token: tok}, nil
	}
	return TierObject{Data: o.data, Elapsed: m.clock.Now().Sub(o.at), Token: tok}, nil
}

func (m *memTier) Store(_ context.Context, path, key string, data []byte, ttl time.Duration, token string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail {
		return errTierDown
	}
	if token != strings.Repeat("x", m.gen[path]) {
		return nil
	}
	m.objs[path+"\x00"+key] = memObject{data: data, at: m.clock.Now(), ttl: ttl}
	return nil
}

func (m *memTier) Lock(_ context.Context, key string) (func(), bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail {
		return nil, false, errTierDown
	}
	if m.locks[key] || m.held {
		return nil, false, nil
	}
	m.locks[key] = true
	return func() { m.mu.Lock(); delete(m.locks, key); m.mu.Unlock() }, true, nil
}

func (m *memTier) Wait(ctx context.Context, path, key string) (TierObject, error) {
	if m.wait != nil {
		m.wait()
	}
	return m.Load(ctx, path, key)
}

func (m *memTier) Invalidate(_ context.Context, path string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail {
		return errTierDown
	}
	m.gen[path]++
	for k := range m.objs {
		if strings.HasPrefix(k, path+"\x00") {
			delete(m.objs, k)
		}
	}
	return nil
}

func (m *memTier) size() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.objs)
}

// twoNodes are two stores (two edges) sharing one tier and one clock.
func twoNodes(t *testing.T, cfg PolicyConfig, maxObject int64) (a, b *Cache, tier *memTier, clock *testkit.Clock) {
	t.Helper()
	clock = testkit.NewClock(respTime)
	tier = newMemTier(clock)
	caches := make([]*Cache, 2)
	for i := range caches {
		s, err := NewStore(StoreConfig{}, Options{Clock: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		s.SetTier(tier, nil, maxObject)
		if caches[i], err = s.Policy("test", cfg); err != nil {
			t.Fatal(err)
		}
	}
	return caches[0], caches[1], tier, clock
}

func TestTier_SecondNodeServedFromTierWithAgeAcrossTiers(t *testing.T) {
	a, b, _, clock := twoNodes(t, honest(), 1<<20)
	o := newOrigin(t, clock, fixed(200, "v1", "Cache-Control: max-age=100", "Age: 10"))

	rec, _ := serve(t, a, o, "GET", "/x")
	if rec.Code != 200 || rec.Body.String() != "v1" {
		t.Fatalf("node a: %d %q", rec.Code, rec.Body)
	}
	clock.Advance(30 * time.Second)
	rec, r := serve(t, b, o, "GET", "/x")
	if got := o.count(); got != 1 {
		t.Errorf("origin requests = %d, want 1 (node b served from the tier)", got)
	}
	if rec.Body.String() != "v1" || r.Result != "Hit" {
		t.Errorf("node b: %q %s, want v1 Hit", rec.Body, r.Result)
	}
	// 10s old at the origin + 30s in the tier.
	if got := rec.Header().Get("Age"); got != "40" {
		t.Errorf("node b: Age = %q, want 40", got)
	}
	clock.Advance(5 * time.Second)
	rec, _ = serve(t, b, o, "GET", "/x") // now from b's own memory
	if got := rec.Header().Get("Age"); got != "45" {
		t.Errorf("node b, local hit: Age = %q, want 45", got)
	}
}

func TestTier_SameRulesAsLocalCache(t *testing.T) {
	cases := []struct {
		name      string
		headers   []string // origin's
		reqA      []string // node a's request headers
		reqB      []string // node b's
		wantTier  bool     // something went into the tier
		wantOrig  int64    // origin requests after both
		maxObject int64
		body      string
	}{
		{name: "public", headers: []string{"Cache-Control: max-age=60"}, wantTier: true, wantOrig: 1},
		{name: "private", headers: []string{"Cache-Control: private, max-age=60"}, wantOrig: 2},
		{name: "no-store", headers: []string{"Cache-Control: no-store"}, wantOrig: 2},
		{name: "Authorization", headers: []string{"Cache-Control: max-age=60"},
			reqA: []string{"Authorization: Bearer a"}, reqB: []string{"Authorization: Bearer b"}, wantOrig: 2},
		{name: "Authorization with public", headers: []string{"Cache-Control: public, max-age=60"},
			reqA: []string{"Authorization: Bearer a"}, reqB: []string{"Authorization: Bearer b"}, wantTier: true, wantOrig: 1},
		{name: "Set-Cookie", headers: []string{"Cache-Control: max-age=60", "Set-Cookie: s=1"}, wantOrig: 2},
		{name: "Vary other value", headers: []string{"Cache-Control: max-age=60", "Vary: Accept-Language"},
			reqA: []string{"Accept-Language: en"}, reqB: []string{"Accept-Language: fr"}, wantTier: true, wantOrig: 2},
		{name: "Vary same value", headers: []string{"Cache-Control: max-age=60", "Vary: Accept-Language"},
			reqA: []string{"Accept-Language: en"}, reqB: []string{"Accept-Language: en"}, wantTier: true, wantOrig: 1},
		{name: "over the tier's max object size", headers: []string{"Cache-Control: max-age=60"},
			maxObject: 4, body: "0123456789", wantOrig: 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			max := tc.maxObject
			if max == 0 {
				max = 1 << 20
			}
			a, b, tier, clock := twoNodes(t, honest(), max)
			body := tc.body
			if body == "" {
				body = "v1"
			}
			o := newOrigin(t, clock, fixed(200, body, tc.headers...))
			serve(t, a, o, "GET", "/x", tc.reqA...)
			if got := tier.size() > 0; got != tc.wantTier {
				t.Errorf("stored in the tier = %v, want %v", got, tc.wantTier)
			}
			rec, _ := serve(t, b, o, "GET", "/x", tc.reqB...)
			if rec.Code != 200 || rec.Body.String() != body {
				t.Errorf("node b: %d %q", rec.Code, rec.Body)
			}
			if got := o.count(); got != tc.wantOrig {
				t.Errorf("origin requests = %d, want %d", got, tc.wantOrig)
			}
		})
	}
}

func TestTier_ErrorsFallBackToOrigin(t *testing.T) {
	a, _, tier, clock := twoNodes(t, honest(), 1<<20)
	tier.fail = true
	o := newOrigin(t, clock, fixed(200, "v1", "Cache-Control: max-age=60"))
	rec, r := serve(t, a, o, "GET", "/x")
	if rec.Code != 200 || rec.Body.String() != "v1" || r.Result != "Miss" {
		t.Fatalf("with the tier down: %d %q %s, want 200 v1 Miss", rec.Code, rec.Body, r.Result)
	}
	_, r = serve(t, a, o, "GET", "/x")
	if r.Result != "Hit" || o.count() != 1 {
		t.Errorf("second request: %s, origin %d; want a local Hit, 1", r.Result, o.count())
	}
}

func TestTier_UnsafeMethodInvalidatesTier(t *testing.T) {
	a, b, tier, clock := twoNodes(t, honest(), 1<<20)
	o := newOrigin(t, clock, fixed(200, "v1", "Cache-Control: max-age=60"))
	serve(t, a, o, "GET", "/x")
	if tier.size() != 1 {
		t.Fatalf("tier holds %d objects, want 1", tier.size())
	}
	serve(t, b, o, "PUT", "/x")
	if tier.size() != 0 {
		t.Errorf("after PUT /x on node b the tier holds %d objects, want 0", tier.size())
	}
	o.setHandler(fixed(200, "v2", "Cache-Control: max-age=60"))
	if rec, _ := serve(t, b, o, "GET", "/x"); rec.Body.String() != "v2" {
		t.Errorf("GET after PUT on node b = %q, want v2", rec.Body)
	}
}

func TestTier_WaiterReadsOtherNodesFill(t *testing.T) {
	a, b, tier, clock := twoNodes(t, honest(), 1<<20)
	o := newOrigin(t, clock, fixed(200, "v1", "Cache-Control: max-age=60"))
	// Another node holds the lock for the key and fills while b waits.
	tier.held = true
	tier.wait = func() {
		tier.wait = nil
		tier.held = false
		serve(t, a, o, "GET", "/x")
	}
	rec, r := serve(t, b, o, "GET", "/x")
	if rec.Body.String() != "v1" || r.Result != "Hit" {
		t.Errorf("waiting node: %q %s, want v1 Hit", rec.Body, r.Result)
	}
	if got := o.count(); got != 1 {
		t.Errorf("origin requests = %d, want 1", got)
	}
}

func TestDecodeTier_RoundTrip(t *testing.T) {
	_, c, clock := newCache(t, honest(), StoreConfig{})
	o := newOrigin(t, clock, fixed(200, "body", "Cache-Control: max-age=60", "ETag: \"a\"", "Vary: Accept"))
	serve(t, c, o, "GET", "/x", "Accept: text/plain")
	entries, _ := c.s.get("/x", c.appendKey(nil, request("GET", "/x")), clock.Now())
	if len(entries) != 1 {
		t.Fatalf("stored %d entries, want 1", len(entries))
	}
	e := entries[0]
	data := encodeTier(e, clock.Now())
	d, err := decodeTier(data, 2*time.Second, clock.Now())
	if err != nil {
		t.Fatalf("decodeTier: %v", err)
	}
	if string(d.body) != "body" || d.etag != `"a"` || d.varySig != e.varySig || d.lifetime != e.lifetime {
		t.Errorf("decoded %+v, want the stored entry", d)
	}
	if got := d.age(clock.Now()); got != e.age(clock.Now())+2*time.Second {
		t.Errorf("age = %s, want %s", got, e.age(clock.Now())+2*time.Second)
	}
	for _, bad := range [][]byte{nil, {9}, data[:len(data)-1], append([]byte{tierVersion, 200}, data[2:]...)} {
		if _, err := decodeTier(bad, 0, clock.Now()); err == nil {
			t.Errorf("decodeTier(%q) = nil error, want one", bad)
		}
	}
	if _, err := decodeTier(data, 48*time.Hour, clock.Now()); err == nil { // past max-age and stale_if_unreachable
		t.Errorf("decodeTier of an object past its retention = nil error, want one")
	}
}

func FuzzDecodeTier(f *testing.F) {
	now := respTime
	f.Add([]byte{tierVersion, 2, '{', '}'}, int64(0))
	f.Add(append([]byte{tierVersion, 41}, []byte(`{"s":200,"h":{"Content-Length":["2"]},"r":9e9}ok`)...), int64(5))
	f.Add([]byte{tierVersion, 0xff, 0xff, 0xff, 0xff, 0x0f}, int64(0))
	f.Fuzz(func(t *testing.T, data []byte, elapsed int64) {
		e, err := decodeTier(data, time.Duration(elapsed), now)
		if err != nil {
			return
		}
		if e.status < 200 || e.status > 599 || e.age(now) < 0 || e.size <= 0 {
			t.Fatalf("decodeTier accepted an impossible entry: %+v", e)
		}
		h := http.Header{}
		for _, f := range e.fields {
			h[f.name] = f.values
		}
	})
}
