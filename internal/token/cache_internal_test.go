package token

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/edgeward/edgeward/internal/size"
)

func TestKey_DependsOnIssuerAndToken(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 4000) // past the stack buffer
	keys := map[[32]byte]string{}
	for _, c := range []struct{ prefix, raw string }{
		{"a\x00", "t"}, {"b\x00", "t"}, {"a\x00", "u"}, {"a\x00", long}, {"b\x00", long},
	} {
		k := key(c.prefix, c.raw)
		if prev, dup := keys[k]; dup {
			t.Errorf("key(%q, %.10q) equals the key of %s", c.prefix, c.raw, prev)
		}
		keys[k] = c.prefix + c.raw[:1]
	}
	if again := key("a\x00", long); again != key("a\x00", long) {
		t.Error("key(long) is not deterministic")
	}
}

func TestKey_DoesNotAllocate(t *testing.T) {
	raw := strings.Repeat("x", 1200)
	if n := testing.AllocsPerRun(100, func() { key("demo\x00", raw) }); n != 0 {
		t.Errorf("key allocates %v times per call, want 0", n)
	}
}

func TestCache_BoundedByWeight(t *testing.T) {
	t.Parallel()
	c := NewCache(CacheConfig{MaxSize: 64 * size.KiB}, WithClock(time.Now))
	exp := time.Now().Add(time.Hour)
	for i := range 2000 {
		c.putClaims(key("x\x00", strings.Repeat("t", i%50)+string(rune(i))), &Claims{ExpiresAt: exp}, 600)
	}
	c.c.CleanUp()
	if got := c.c.WeightedSize(); got > 64<<10 {
		t.Errorf("cache weight = %d after 2000 inserts, want at most %d", got, 64<<10)
	}
}

func TestCache_NilCachesNothing(t *testing.T) {
	t.Parallel()
	var c *Cache
	k := key("x\x00", "t")
	c.putClaims(k, &Claims{ExpiresAt: time.Now().Add(time.Hour)}, 10)
	c.putError(k, invalid(descExpired, nil))
	if _, ok := c.get(k); ok {
		t.Error("nil Cache get = hit, want miss")
	}
}

// FuzzClaims feeds random JSON payloads to the claims reader: it must
// never panic, and a payload it accepts has an exp and only strings in
// Audience and Scopes.
func FuzzClaims(f *testing.F) {
	for _, s := range []string{
		`{"exp":1}`, `{"exp":4102444800,"aud":"a","scope":"a b"}`, `{"exp":1,"aud":["a",1]}`,
		`{"exp":"1"}`, `{"scp":["x"],"azp":"c","exp":1.5}`, `{"client_id":7}`, `{"sub":null,"exp":1e300}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, payload string) {
		mc := jwt.MapClaims{}
		if err := json.Unmarshal([]byte(payload), &mc); err != nil {
			return
		}
		c, err := newClaims(mc)
		if err != nil {
			return
		}
		if _, ok := mc["exp"]; !ok {
			t.Errorf("newClaims(%s) accepted a payload without exp", payload)
		}
		if c.Raw == nil {
			t.Errorf("newClaims(%s).Raw = nil", payload)
		}
	})
}

// BenchmarkKey is the hashing part of a cache hit, for a token of the
// peers' benchmark size.
func BenchmarkKey(b *testing.B) {
	raw := strings.Repeat("x", 620)
	b.ReportAllocs()
	for b.Loop() {
		key("demo\x000123456789abcdef\x00", raw)
	}
}
