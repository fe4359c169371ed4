package authorizer

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// BenchmarkViewerRequest is the function's own cost per request against an
// in-memory Decider that allows everything unchanged: building the
// request-phase body, the breaker, the retry loop and the diff.
func BenchmarkViewerRequest(b *testing.B) {
	a, err := New("authorize", Config{ServiceURL: URLs{Embedded}}, echoDecider, Options{Registerer: prometheus.NewRegistry()})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	// The echo changes nothing, so one request serves every iteration.
	r := viewerRequest("GET", "https://api.example.com/orders/7?expand=items", "",
		"Authorization", "Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln", "Accept", "application/json",
		"User-Agent", "bench/1.0", "X-Request-Id", "abc")
	b.ReportAllocs()
	for b.Loop() {
		if resp, err := a.ViewerRequest(ctx, r); resp != nil || err != nil {
			b.Fatal(resp, err)
		}
	}
}
