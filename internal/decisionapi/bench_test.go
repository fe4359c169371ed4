package decisionapi

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/edgeward/edgeward/internal/accesslog"
	"github.com/prometheus/client_golang/prometheus"
)

// BenchmarkLocal_CachedToken is the embedded door on the hot path of an
// authorized cache hit: a token verified before, metrics and the decision
// log on.
func BenchmarkLocal_CachedToken(b *testing.B) {
	sink, err := accesslog.NewSink(accesslog.SinkConfig{}, accesslog.Options{Writer: io.Discard, Name: "decision"})
	if err != nil {
		b.Fatal(err)
	}
	log := NewLog(sink, LogOptions{})
	b.Cleanup(func() { _ = log.Close() })
	f := newFixture(b, Options{Registerer: prometheus.NewRegistry(), Log: log})
	local := NewLocal(f.svc)
	req := ordersRequest("GET", "https://api.example.com/orders/7",
		"host", "api.example.com", "authorization", "Bearer "+f.token(nil), "accept", "*/*", "user-agent", "bench")
	if rep, err := local.Request(b.Context(), req); err != nil || rep.Response != nil {
		b.Fatalf("Request() = %+v, %v; want allow", rep, err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := local.Request(b.Context(), req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLocal_Deny is a 401 (no token): a deny body and an id.
func BenchmarkLocal_Deny(b *testing.B) {
	f := newFixture(b, Options{})
	local := NewLocal(f.svc)
	req := ordersRequest("GET", "https://api.example.com/orders/7", "host", "api.example.com")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := local.Request(b.Context(), req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHandler_CachedToken is the HTTP door without the network:
// decoding, credential check, decision, encoding.
func BenchmarkHandler_CachedToken(b *testing.B) {
	f := newFixture(b, Options{})
	h := f.svc.Handler()
	body := `{"source_ip":"192.0.2.1","source_port":"51234","method":"GET","url":"https://api.example.com:443/orders/7?","http_version":"1.1",
		"headers":[{"host":"api.example.com"},{"authorization":"Bearer ` + f.token(nil) + `"},{"accept":"*/*"}]}`
	r := httptest.NewRequest(http.MethodPost, "/sideband/request", nil)
	r.Header.Set("CLIENT-TOKEN", cred1)
	b.ReportAllocs()
	for b.Loop() {
		r.Body = io.NopCloser(strings.NewReader(body))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 200 {
			b.Fatalf("status %d %s", w.Code, w.Body)
		}
	}
}
