package decision

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgeward/edgeward/internal/token/tokentest"
)

// manyOperations is a service with n operations of two shapes: an EXACT
// collection and a PARAMETER item under a tenant parameter.
func manyOperations(n int) Config {
	s := APIService{
		Name:          "Big API",
		BaseURLs:      []string{"https://api.example.com/v1"},
		AccessControl: AccessControl{Authentication: AuthNone},
	}
	for i := range n {
		s.Operations = append(s.Operations, Operation{
			Name:    fmt.Sprintf("op%d", i),
			Methods: []string{"GET"},
			Paths: []Path{
				{Type: PathExact, Pattern: fmt.Sprintf("/r%d/items", i)},
				{Type: PathParameter, Pattern: fmt.Sprintf("/{tenant}/r%d/items/{id}", i)},
			},
		})
	}
	c := Config{APIServices: []APIService{s}}
	c.Defaults()
	return c
}

func TestManyOperations_LoadAndMatch(t *testing.T) {
	t.Parallel()
	e := newEngineFrom(t, manyOperations(1000))
	d := e.Decide(t.Context(), get("https://api.example.com/v1/acme/r777/items/9"))
	if d.Operation != "op777" || !d.Allowed {
		t.Errorf("Decide(/acme/r777/items/9) = %q %s, want op777 allowed", d.Operation, d.Reason)
	}
	d = e.Decide(t.Context(), get("https://api.example.com/v1/r5/items"))
	if d.Operation != "op5" {
		t.Errorf("Decide(/r5/items) = %q %s, want op5", d.Operation, d.Reason)
	}
}

// BenchmarkPathLookup shows that matching cost does not grow with the
// number of operations.
func BenchmarkPathLookup(b *testing.B) {
	for _, n := range []int{10, 1_000, 10_000} {
		e := newEngineFrom(b, manyOperations(n))
		exact := get(fmt.Sprintf("https://api.example.com/v1/r%d/items", n/2))
		param := get(fmt.Sprintf("https://api.example.com/v1/acme/r%d/items/42", n/2))
		miss := get("https://api.example.com/v1/acme/nothing/here")
		for name, in := range map[string]*Input{"exact": exact, "parameter": param, "miss": miss} {
			b.Run(fmt.Sprintf("ops=%d/%s", n, name), func(b *testing.B) {
				b.ReportAllocs()
				var d Decision
				for b.Loop() {
					e.DecideInto(b.Context(), in, &d)
				}
			})
		}
	}
}

// BenchmarkDecide_CachedToken is the hot path of an authorized request: a
// token verified before, a scope check and one templated header.
func BenchmarkDecide_CachedToken(b *testing.B) {
	iss := tokentest.NewIssuer(b)
	e := newTestEngine(b, ordersConfig(iss))
	in := get(aud+"/orders/42", "authorization", "Bearer "+iss.Mint(map[string]any{"sub": "alice", "aud": aud, "scope": "orders:read"}))
	if d := e.Decide(b.Context(), in); !d.Allowed {
		b.Fatalf("Decide = %d %s, want allow", d.Status, d.Reason)
	}
	b.Run("Decide", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			e.Decide(b.Context(), in)
		}
	})
	b.Run("DecideInto", func(b *testing.B) {
		b.ReportAllocs()
		var d Decision
		for b.Loop() {
			e.DecideInto(b.Context(), in, &d)
		}
	})
}

// BenchmarkDecide_UncachedRS256 verifies the signature every time: the
// engine's clock jumps past the token cache's TTL on every reading.
func BenchmarkDecide_UncachedRS256(b *testing.B) {
	iss := tokentest.NewIssuer(b)
	var tick atomic.Int64
	start := time.Now()
	clock := func() time.Time { return start.Add(time.Duration(tick.Add(1)) * 6 * time.Minute) }
	c := parseConfig(b, ordersConfig(iss))
	e, err := New(b.Context(), c, Options{Clock: clock})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(e.Close)
	tok := iss.Mint(map[string]any{"sub": "alice", "aud": aud, "scope": "orders:read", "exp": start.Add(100 * 365 * 24 * time.Hour).Unix()})
	in := get(aud+"/orders/42", "authorization", "Bearer "+tok)
	if d := e.Decide(b.Context(), in); !d.Allowed {
		b.Fatalf("Decide = %d %s %s, want allow", d.Status, d.Reason, d.Description)
	}
	b.ReportAllocs()
	var d Decision
	for b.Loop() {
		e.DecideInto(b.Context(), in, &d)
	}
}
