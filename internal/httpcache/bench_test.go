package httpcache

import (
	"net/http"
	"testing"

	"github.com/edgeward/edgeward/internal/edge"
	"github.com/edgeward/edgeward/internal/testkit"
)

// discard is a ResponseWriter that keeps its header map between requests,
// as a server connection does, so only the cache's own costs show.
type discard struct {
	h      http.Header
	status int
}

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(p []byte) (int, error) { return len(p), nil }
func (d *discard) WriteHeader(s int)           { d.status = s }

func BenchmarkHit(b *testing.B) {
	s, err := NewStore(StoreConfig{}, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	c, _ := s.Policy("api", PolicyConfig{Key: KeyConfig{Headers: []string{"X-Tenant"}}})
	clock := testkit.NewClock(respTime)
	o := newOrigin(&testing.T{}, nil, fixed(200, `{"id":1,"status":"shipped"}`,
		"Cache-Control: max-age=3600", "Content-Type: application/json", `ETag: "v1"`, "Vary: Accept"))
	defer o.srv.Close()
	_ = clock
	r := request("GET", "/orders/1?expand=items&page=2", "X-Tenant: acme", "Accept: application/json", "Cache-Control: max-age=0")
	w := &discard{h: http.Header{}}
	if err := c.Serve(w, r, o); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		r.Result = ""
		c.Serve(w, r, o)
	}
	if r.Result != edge.ResultHit || w.status != 200 {
		b.Fatalf("Result = %s %d, want a 200 Hit", r.Result, w.status)
	}
}

func BenchmarkKey(b *testing.B) {
	s, _ := NewStore(StoreConfig{}, Options{})
	defer s.Close()
	c, _ := s.Policy("api", PolicyConfig{
		Key:      KeyConfig{Headers: []string{"X-Tenant"}, Cookies: List{Mode: ListInclude, Include: []string{"lang"}}},
		Compress: true,
	})
	r := request("GET", "/orders/1?z=1&expand=items&page=2&a=b", "X-Tenant: acme", "Cookie: session=x; lang=en", "Accept-Encoding: gzip, br")
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		buf = c.appendKey(buf[:0], r)
	}
}
