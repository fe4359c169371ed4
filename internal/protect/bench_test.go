package protect

import (
	"context"
	"testing"
)

// BenchmarkInspect_WAF is the cost of the CRS at PL1 on a benign
// authorized GET with a bearer token.
func BenchmarkInspect_WAF(b *testing.B) {
	s, _ := shared(b, ModeBlock)
	ctx := context.Background()
	for b.Loop() {
		r := req("GET", "/orders?status=shipped&page=2", "", "Authorization", "Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln", "User-Agent", "wrk", "Accept", "*/*")
		if _, err := s.Inspect(ctx, r); err != nil {
			b.Fatal(err)
		}
	}
}
