package authorizer

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgeward/edgeward/internal/edge"
	"github.com/edgeward/edgeward/internal/sideband"
	"github.com/edgeward/edgeward/internal/testkit"
)

// countingDecider answers every call with reply(call) and counts calls.
type countingDecider struct {
	calls atomic.Int32
	reply func(*sideband.Request) (*sideband.Reply, error)
}

func (d *countingDecider) Request(_ context.Context, r *sideband.Request) (*sideband.Reply, error) {
	d.calls.Add(1)
	return d.reply(r)
}

func (d *countingDecider) Response(context.Context, *sideband.ResponseRequest) (*sideband.Response, error) {
	return nil, errors.New("no response phase")
}

func echoAllow(r *sideband.Request) (*sideband.Reply, error) {
	return &sideband.Reply{Request: *r}, nil
}

type cachedHarness struct {
	a     *Authorizer
	d     *countingDecider
	reg   *prometheus.Registry
	clock *testkit.Clock
}

func newCached(t *testing.T, reply func(*sideband.Request) (*sideband.Reply, error), mod func(*Config)) *cachedHarness {
	t.Helper()
	h := &cachedHarness{d: &countingDecider{reply: reply}, reg: prometheus.NewRegistry(),
		clock: testkit.NewClock(time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC))}
	zero := 0
	cfg := Config{ServiceURL: URLs{Embedded}, MaxRetries: &zero, DecisionCache: CacheConfig{Enabled: true}}
	if mod != nil {
		mod(&cfg)
	}
	var err error
	h.a, err = New("authorize", cfg, h.d, Options{Registerer: h.reg, Clock: h.clock.Now})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return h
}

func (h *cachedHarness) metric(t *testing.T, name string) float64 {
	return testkit.Metric(t, h.reg, "edgeward_authorize_cache_"+name, map[string]string{"function": "authorize"})
}

// jwt returns a bearer value whose payload holds claims (unsigned: the
// cache only reads exp, the decision service verifies).
func jwt(claims string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return "Bearer " + enc([]byte(`{"alg":"RS256"}`)) + "." + enc([]byte(claims)) + ".c2ln"
}

// baseRequest is the request every single-input change starts from.
func baseRequest() *edge.Request {
	return viewerRequest("POST", "https://api.example.com/orders/1?a=1&b=2", `{"qty":1}`,
		"Authorization", jwt(`{"sub":"u1","exp":1893456000}`),
		"Content-Type", "application/json",
		"Accept", "application/json",
		"X-Tenant", "t1",
		"X-Tag", "one", "X-Tag", "two")
}

func TestDecisionCache_AnySingleInputChangeMisses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(r *edge.Request)
	}{
		{"method", func(r *edge.Request) { r.HTTP.Method = "PUT" }},
		{"path", func(r *edge.Request) { r.HTTP.URL.Path = "/orders/2" }},
		{"path case", func(r *edge.Request) { r.HTTP.URL.Path = "/Orders/1" }},
		{"trailing slash", func(r *edge.Request) { r.HTTP.URL.Path = "/orders/1/" }},
		{"query value", func(r *edge.Request) { r.HTTP.URL.RawQuery = "a=2&b=2" }},
		{"query order", func(r *edge.Request) { r.HTTP.URL.RawQuery = "b=2&a=1" }},
		{"query added", func(r *edge.Request) { r.HTTP.URL.RawQuery = "a=1&b=2&c" }},
		{"query removed", func(r *edge.Request) { r.HTTP.URL.RawQuery = "" }},
		{"query case", func(r *edge.Request) { r.HTTP.URL.RawQuery = "A=1&b=2" }},
		{"host", func(r *edge.Request) { r.Host = "other.example.com" }},
		{"host port", func(r *edge.Request) { r.Host = "api.example.com:8443" }},
		{"scheme", func(r *edge.Request) { r.Scheme = "http" }},
		{"http version", func(r *edge.Request) { r.HTTP.ProtoMajor, r.HTTP.ProtoMinor = 2, 0 }},
		{"token", func(r *edge.Request) { r.HTTP.Header.Set("Authorization", jwt(`{"sub":"u2","exp":1893456000}`)) }},
		{"token scheme case", func(r *edge.Request) {
			r.HTTP.Header.Set("Authorization", "bearer"+r.HTTP.Header.Get("Authorization")[len("Bearer"):])
		}},
		{"no token", func(r *edge.Request) { r.HTTP.Header.Del("Authorization") }},
		{"accept", func(r *edge.Request) { r.HTTP.Header.Set("Accept", "text/html") }},
		{"content-type", func(r *edge.Request) { r.HTTP.Header.Set("Content-Type", "application/json; charset=utf-8") }},
		{"custom header value", func(r *edge.Request) { r.HTTP.Header.Set("X-Tenant", "t2") }},
		{"custom header value case", func(r *edge.Request) { r.HTTP.Header.Set("X-Tenant", "T1") }},
		{"custom header removed", func(r *edge.Request) { r.HTTP.Header.Del("X-Tenant") }},
		{"header added", func(r *edge.Request) { r.HTTP.Header.Set("X-New", "1") }},
		{"empty header added", func(r *edge.Request) { r.HTTP.Header.Set("X-New", "") }},
		{"header value order", func(r *edge.Request) { r.HTTP.Header["X-Tag"] = []string{"two", "one"} }},
		{"header value added", func(r *edge.Request) { r.HTTP.Header.Add("X-Tag", "three") }},
		{"header values joined", func(r *edge.Request) { r.HTTP.Header["X-Tag"] = []string{"one,two"} }},
		{"name and value boundary", func(r *edge.Request) {
			r.HTTP.Header.Del("X-Tenant")
			r.HTTP.Header.Set("X-Tenantt", "1")
		}},
		{"body", func(r *edge.Request) { setBody(r.HTTP, []byte(`{"qty":2}`)) }},
		{"body whitespace", func(r *edge.Request) { setBody(r.HTTP, []byte(`{"qty": 1}`)) }},
		{"body not sent", func(r *edge.Request) {
			r.HTTP.Header.Set("Content-Type", "application/octet-stream")
		}},
		{"client ip", func(r *edge.Request) { r.Client = netip.MustParseAddrPort("203.0.113.8:51234") }},
		{"client ip v6", func(r *edge.Request) { r.Client = netip.MustParseAddrPort("[2001:db8::7]:51234") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newCached(t, echoAllow, nil)
			for i := range 2 {
				if resp, err := h.a.ViewerRequest(context.Background(), baseRequest()); resp != nil || err != nil {
					t.Fatalf("base request %d: ViewerRequest() = %v, %v, want an allow", i, resp, err)
				}
			}
			if got := h.d.calls.Load(); got != 1 {
				t.Fatalf("decider calls after the base request twice = %d, want 1 (the second is a hit)", got)
			}
			r := baseRequest()
			tt.change(r)
			if resp, err := h.a.ViewerRequest(context.Background(), r); resp != nil || err != nil {
				t.Fatalf("changed request: ViewerRequest() = %v, %v, want an allow", resp, err)
			}
			if got := h.d.calls.Load(); got != 2 {
				t.Errorf("decider calls after the changed request = %d, want 2 (a miss)", got)
			}
		})
	}
}

func TestDecisionCache_SourcePortIsNotInTheKey(t *testing.T) {
	t.Parallel()
	h := newCached(t, echoAllow, nil)
	for _, port := range []string{"51234", "40000"} {
		r := baseRequest()
		r.Client = netip.MustParseAddrPort("203.0.113.7:" + port)
		if _, err := h.a.ViewerRequest(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	if got := h.d.calls.Load(); got != 1 {
		t.Errorf("decider calls = %d, want 1: a client's new connection is the same decision", got)
	}
}

func TestDecisionCache_KeyNamesServiceAndCredential(t *testing.T) {
	t.Parallel()
	sreq, err := (&Authorizer{maxBody: 1 << 10, types: []string{"application/json"}}).buildRequest(baseRequest())
	if err != nil {
		t.Fatal(err)
	}
	base := keyOf(keySeed([]string{"https://a.example/v1"}, "CLIENT-TOKEN", "cred-1"), sreq, alwaysVolatile)
	seeds := map[string][]byte{
		"other credential":      keySeed([]string{"https://a.example/v1"}, "CLIENT-TOKEN", "cred-2"),
		"other credential name": keySeed([]string{"https://a.example/v1"}, "PDG-TOKEN", "cred-1"),
		"other service":         keySeed([]string{"https://b.example/v1"}, "CLIENT-TOKEN", "cred-1"),
		"other environment":     keySeed([]string{"https://a.example/v2"}, "CLIENT-TOKEN", "cred-1"),
		"one more service":      keySeed([]string{"https://a.example/v1", "https://b.example/v1"}, "CLIENT-TOKEN", "cred-1"),
		"embedded":              keySeed([]string{Embedded}, "CLIENT-TOKEN", "cred-1"),
	}
	for name, seed := range seeds {
		if keyOf(seed, sreq, alwaysVolatile) == base {
			t.Errorf("%s: same key as the base service and credential", name)
		}
	}
	if keyOf(keySeed([]string{"https://a.example/v1/"}, "client-token", "cred-1"), sreq, alwaysVolatile) != base {
		t.Errorf("a trailing slash or the credential header's case changed the key; they name the same service")
	}
}

func TestDecisionCache_CachedAllowReplaysChangesExactly(t *testing.T) {
	t.Parallel()
	h := newCached(t, func(r *sideband.Request) (*sideband.Reply, error) {
		rep := &sideband.Reply{Request: *r}
		rep.Method = "PATCH"
		rep.URL = "https://api.example.com/v2/orders/1?a=1&b=2&via=policy"
		rep.Headers = nil
		for _, e := range r.Headers {
			if e.Name != "x-tenant" { // removed
				rep.Headers = append(rep.Headers, e)
			}
		}
		rep.Headers = append(rep.Headers, sideband.Header{Name: "x-user-id", Value: "u1"}, sideband.Header{Name: "x-scope", Value: "a"}, sideband.Header{Name: "x-scope", Value: "b"})
		body := `{"qty":1,"checked":true}`
		rep.Body = &body
		return rep, nil
	}, func(c *Config) {})

	type view struct {
		Method, URL, Host string
		Header            http.Header
		Body              string
		SetByFunction     []string
	}
	run := func() view {
		r := baseRequest()
		r.Behavior = &edge.Behavior{PathPattern: "*", AllowedMethods: []string{"GET", "POST", "PATCH"}}
		if resp, err := h.a.ViewerRequest(context.Background(), r); resp != nil || err != nil {
			t.Fatalf("ViewerRequest() = %v, %v, want an allow", resp, err)
		}
		b, _ := io.ReadAll(r.HTTP.Body)
		var set []string
		for _, k := range []string{"X-User-Id", "X-Scope"} {
			if r.Owned(k) {
				set = append(set, k)
			}
		}
		return view{r.HTTP.Method, r.HTTP.URL.String(), r.HTTP.Host, r.HTTP.Header, string(b), set}
	}
	first := run()
	second := run()
	if got := h.d.calls.Load(); got != 1 {
		t.Fatalf("decider calls = %d, want 1", got)
	}
	if diff := cmp.Diff(first, second); diff != "" {
		t.Errorf("cached allow applied differently (-first +hit):\n%s", diff)
	}
	if second.Method != "PATCH" || second.Header.Get("X-User-Id") != "u1" || second.Header.Get("X-Tenant") != "" || second.Body != `{"qty":1,"checked":true}` {
		t.Errorf("hit = %+v, want the allow's changes applied", second)
	}
}

func TestDecisionCache_CachedDenyReplaysResponse(t *testing.T) {
	t.Parallel()
	body := `{"error":"forbidden"}`
	h := newCached(t, func(*sideband.Request) (*sideband.Reply, error) {
		return &sideband.Reply{Response: &sideband.Response{ResponseCode: 403, ResponseStatus: "Forbidden",
			Headers: sideband.Headers{{Name: "content-type", Value: "application/json"}, {Name: "x-reason", Value: "policy"}, {Name: "connection", Value: "x-reason"}},
			Body:    &body}}, nil
	}, nil)
	first, err := h.a.ViewerRequest(context.Background(), baseRequest())
	if err != nil || first == nil {
		t.Fatalf("ViewerRequest() = %v, %v, want a deny", first, err)
	}
	second, err := h.a.ViewerRequest(context.Background(), baseRequest())
	if err != nil || second == nil {
		t.Fatalf("hit: ViewerRequest() = %v, %v, want a deny", second, err)
	}
	if got := h.d.calls.Load(); got != 1 {
		t.Fatalf("decider calls = %d, want 1", got)
	}
	if diff := cmp.Diff(first, second); diff != "" {
		t.Errorf("cached deny differs (-first +hit):\n%s", diff)
	}
	// The viewer's copy is its own: changing it does not change the next hit.
	second.Header.Set("Content-Type", "text/plain")
	second.Body[0] = 'X'
	third, _ := h.a.ViewerRequest(context.Background(), baseRequest())
	if diff := cmp.Diff(first, third); diff != "" {
		t.Errorf("a hit shares memory with an earlier answer (-first +third):\n%s", diff)
	}
}

func TestDecisionCache_ErrorsAndBadDecisionsAreNeverKept(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		reply func(*sideband.Request) (*sideband.Reply, error)
		want  int
	}{
		{"5xx", func(*sideband.Request) (*sideband.Reply, error) { return nil, &sideband.StatusError{Status: 503} }, http.StatusBadGateway},
		{"401 from service", func(*sideband.Request) (*sideband.Reply, error) { return nil, &sideband.StatusError{Status: 401} }, http.StatusBadGateway},
		{"429", func(*sideband.Request) (*sideband.Reply, error) { return nil, &sideband.StatusError{Status: 429} }, http.StatusTooManyRequests},
		{"transport", func(*sideband.Request) (*sideband.Reply, error) { return nil, sideband.ErrTransport }, http.StatusBadGateway},
		{"no reply", func(*sideband.Request) (*sideband.Reply, error) { return nil, nil }, http.StatusBadGateway},
		{"deny with bad status", func(*sideband.Request) (*sideband.Reply, error) {
			return &sideband.Reply{Response: &sideband.Response{ResponseCode: 99}}, nil
		}, http.StatusBadGateway},
		{"allow that cannot be applied", func(r *sideband.Request) (*sideband.Reply, error) {
			rep := &sideband.Reply{Request: *r}
			rep.URL = "https://api.example.com/a/../b"
			return rep, nil
		}, http.StatusBadGateway},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newCached(t, tt.reply, nil)
			for i := range 2 {
				h.a.limitedUntil.Store(0) // a 429 window would hide the second call
				_, err := h.a.ViewerRequest(context.Background(), baseRequest())
				if e := asEdgeError(err); e == nil || e.Status != tt.want {
					t.Fatalf("call %d: ViewerRequest() error = %v, want status %d", i, err, tt.want)
				}
			}
			if got := h.d.calls.Load(); got != 2 {
				t.Errorf("decider calls = %d, want 2: no decision was kept", got)
			}
			if got := h.metric(t, "hits_total"); got != 0 {
				t.Errorf("hits = %v, want 0", got)
			}
		})
	}
}

func TestDecisionCache_TTLs(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	deny := func(*sideband.Request) (*sideband.Reply, error) {
		return &sideband.Reply{Response: &sideband.Response{ResponseCode: 403}}, nil
	}
	withCC := func(cc string, base func(*sideband.Request) (*sideband.Reply, error)) func(*sideband.Request) (*sideband.Reply, error) {
		return func(r *sideband.Request) (*sideband.Reply, error) {
			rep, err := base(r)
			rep.CacheControl = cc
			return rep, err
		}
	}
	tests := []struct {
		name  string
		reply func(*sideband.Request) (*sideband.Reply, error)
		token string // Authorization value; "" keeps the base one
		// alive and gone are ages at which the decision is still kept
		// and no longer kept; alive < 0: never kept.
		alive, gone time.Duration
	}{
		{"allow ttl", echoAllow, "", 29 * time.Second, 31 * time.Second},
		{"deny ttl", deny, "", 4 * time.Second, 6 * time.Second},
		{"token exp caps", echoAllow, jwt(fmt.Sprintf(`{"exp":%d}`, now.Add(10*time.Second).Unix())), 9 * time.Second, 11 * time.Second},
		{"fractional exp caps", echoAllow, jwt(fmt.Sprintf(`{"exp":%d.5}`, now.Add(10*time.Second).Unix())), 10 * time.Second, 11 * time.Second},
		{"token exp caps deny", deny, jwt(fmt.Sprintf(`{"exp":%d}`, now.Add(2*time.Second).Unix())), time.Second, 3 * time.Second},
		{"expired token never kept", echoAllow, jwt(fmt.Sprintf(`{"exp":%d}`, now.Add(-time.Second).Unix())), -1, 0},
		{"later exp does not extend", echoAllow, jwt(fmt.Sprintf(`{"exp":%d}`, now.Add(time.Hour).Unix())), 29 * time.Second, 31 * time.Second},
		{"opaque token uses ttl", echoAllow, "Bearer opaque-token", 29 * time.Second, 31 * time.Second},
		{"no-store", withCC("no-store", echoAllow), "", -1, 0},
		{"no-cache", withCC("private, no-cache", echoAllow), "", -1, 0},
		{"no-store on deny", withCC("no-store", deny), "", -1, 0},
		{"max-age caps", withCC("max-age=3", echoAllow), "", 2 * time.Second, 4 * time.Second},
		{"max-age=0", withCC("max-age=0", echoAllow), "", -1, 0},
		{"s-maxage first", withCC("max-age=20, s-maxage=2", echoAllow), "", time.Second, 3 * time.Second},
		{"max-age longer than ttl", withCC("max-age=600", echoAllow), "", 29 * time.Second, 31 * time.Second},
		{"bad max-age", withCC("max-age=soon", echoAllow), "", -1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newCached(t, tt.reply, nil)
			req := func() *edge.Request {
				r := baseRequest()
				if tt.token != "" {
					r.HTTP.Header.Set("Authorization", tt.token)
				}
				return r
			}
			if _, err := h.a.ViewerRequest(context.Background(), req()); err != nil {
				t.Fatal(err)
			}
			if tt.alive < 0 {
				h.a.ViewerRequest(context.Background(), req())
				if got := h.d.calls.Load(); got != 2 {
					t.Errorf("decider calls = %d, want 2: the decision must not be kept", got)
				}
				return
			}
			h.clock.Advance(tt.alive)
			h.a.ViewerRequest(context.Background(), req())
			if got := h.d.calls.Load(); got != 1 {
				t.Errorf("at %s: decider calls = %d, want 1 (a hit)", tt.alive, got)
			}
			h.clock.Advance(tt.gone - tt.alive)
			h.a.ViewerRequest(context.Background(), req())
			if got := h.d.calls.Load(); got != 2 {
				t.Errorf("at %s: decider calls = %d, want 2 (expired)", tt.gone, got)
			}
		})
	}
}

func TestDecisionCache_FlushDropsEverything(t *testing.T) {
	t.Parallel()
	h := newCached(t, echoAllow, nil)
	h.a.ViewerRequest(context.Background(), baseRequest())
	h.a.ViewerRequest(context.Background(), baseRequest())
	h.a.Flush()
	h.a.ViewerRequest(context.Background(), baseRequest())
	if got := h.d.calls.Load(); got != 2 {
		t.Errorf("decider calls = %d, want 2 (hit, then a miss after the flush)", got)
	}
	for name, want := range map[string]float64{"hits_total": 1, "misses_total": 2, "flushes_total": 1} {
		if got := h.metric(t, name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
}

func TestDecisionCache_MemoryBoundEvicts(t *testing.T) {
	t.Parallel()
	h := newCached(t, echoAllow, func(c *Config) { c.DecisionCache.MaxBytes = 16 << 10 })
	for i := range 200 {
		r := baseRequest()
		r.HTTP.URL.RawQuery = fmt.Sprintf("page=%d", i)
		if _, err := h.a.ViewerRequest(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	h.a.cache.c.CleanUp()
	if w := h.a.cache.c.WeightedSize(); w > 16<<10 {
		t.Errorf("weighted size = %d, want at most %d", w, 16<<10)
	}
	if got := h.metric(t, "evictions_total"); got == 0 {
		t.Errorf("evictions = 0, want some: 200 decisions do not fit in 16KiB")
	}
}

func TestDecisionCache_ServedInsideA429Window(t *testing.T) {
	t.Parallel()
	h := newCached(t, echoAllow, nil)
	h.a.ViewerRequest(context.Background(), baseRequest())
	h.a.limit(time.Minute)
	if resp, err := h.a.ViewerRequest(context.Background(), baseRequest()); resp != nil || err != nil {
		t.Errorf("hit inside a 429 window: ViewerRequest() = %v, %v, want the kept allow", resp, err)
	}
	r := baseRequest()
	r.HTTP.Method = "PUT"
	if _, err := h.a.ViewerRequest(context.Background(), r); asEdgeError(err) == nil || asEdgeError(err).Status != 429 {
		t.Errorf("miss inside a 429 window: error = %v, want 429", err)
	}
}

func TestDecisionCache_ConfigValidation(t *testing.T) {
	t.Parallel()
	neg, long := -time.Second, 2*time.Hour
	tests := []struct {
		name string
		c    CacheConfig
		mod  func(*Config)
		want string
	}{
		{"negative ttl", CacheConfig{Enabled: true, AllowTTL: &neg}, nil, "decision_cache.allow_ttl: want 0s to 1h0m0s"},
		{"long ttl", CacheConfig{Enabled: true, DenyTTL: &long}, nil, "decision_cache.deny_ttl: want 0s to 1h0m0s"},
		{"negative size", CacheConfig{Enabled: true, MaxBytes: -1}, nil, "decision_cache.max_bytes"},
		{"response phase", CacheConfig{Enabled: true}, func(c *Config) { c.ResponsePhase = true }, "decision_cache.enabled: cannot be used with response_phase"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Config{ServiceURL: URLs{Embedded}, DecisionCache: tt.c}
			if tt.mod != nil {
				tt.mod(&c)
			}
			c.Defaults()
			err := c.Validate()
			if err == nil || !containsLine(err.Error(), tt.want) {
				t.Errorf("Validate() = %v, want an error with %q", err, tt.want)
			}
		})
	}
}

func containsLine(s, want string) bool {
	for _, l := range splitLines(s) {
		if len(l) >= len(want) && l[:len(want)] == want {
			return true
		}
	}
	return false
}

func splitLines(s string) []string {
	var out []string
	for len(s) > 0 {
		i := 0
		for i < len(s) && s[i] != '\n' {
			i++
		}
		out = append(out, s[:i])
		if i < len(s) {
			i++
		}
		s = s[i:]
	}
	return out
}

func TestDecisionCache_VolatileHeadersLeaveTheKeyAndPassOn(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		header string
		mod    func(*Config)
	}{
		{"edge request id", "X-Request-Id", nil},
		{"ignore_headers", "Traceparent", func(c *Config) { c.DecisionCache.IgnoreHeaders = []string{"traceparent"} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newCached(t, func(r *sideband.Request) (*sideband.Reply, error) {
				rep, _ := echoAllow(r)
				rep.Headers = append(append(sideband.Headers{}, r.Headers...), sideband.Header{Name: "x-user-id", Value: "u1"})
				return rep, nil
			}, tt.mod)
			for i, v := range []string{"id-1", "id-2", "id-3"} {
				r := baseRequest()
				r.HTTP.Header.Set(tt.header, v)
				if _, err := h.a.ViewerRequest(context.Background(), r); err != nil {
					t.Fatal(err)
				}
				if got := r.HTTP.Header.Get(tt.header); got != v {
					t.Errorf("request %d: %s = %q after the allow, want its own %q", i, tt.header, got, v)
				}
				if got := r.HTTP.Header.Get("X-User-Id"); got != "u1" {
					t.Errorf("request %d: X-User-Id = %q, want u1", i, got)
				}
			}
			if got := h.d.calls.Load(); got != 1 {
				t.Errorf("decider calls = %d, want 1: %s is not in the key", got, tt.header)
			}
		})
	}
}

func TestDecisionCache_AllowThatSetsAVolatileHeaderReplaysIt(t *testing.T) {
	t.Parallel()
	h := newCached(t, func(r *sideband.Request) (*sideband.Reply, error) {
		rep, _ := echoAllow(r)
		rep.Headers = nil
		for _, e := range r.Headers {
			if e.Name != "x-request-id" {
				rep.Headers = append(rep.Headers, e)
			}
		}
		rep.Headers = append(rep.Headers, sideband.Header{Name: "x-request-id", Value: "from-policy"})
		return rep, nil
	}, nil)
	for _, v := range []string{"id-1", "id-2"} {
		r := baseRequest()
		r.HTTP.Header.Set("X-Request-Id", v)
		h.a.ViewerRequest(context.Background(), r)
		if got := r.HTTP.Header.Get("X-Request-Id"); got != "from-policy" {
			t.Errorf("X-Request-Id = %q, want the allow's from-policy", got)
		}
	}
	if got := h.d.calls.Load(); got != 1 {
		t.Errorf("decider calls = %d, want 1", got)
	}
}

func TestDecisionCache_IgnoreHeadersCannotHideTheCaller(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"Authorization", "cookie", "Host", "CLIENT-TOKEN", "bad name"} {
		c := Config{ServiceURL: URLs{Embedded}, DecisionCache: CacheConfig{Enabled: true, IgnoreHeaders: []string{name}}}
		c.Defaults()
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "decision_cache.ignore_headers[0]") {
			t.Errorf("ignore_headers: [%s]: Validate() = %v, want an error", name, err)
		}
	}
}
