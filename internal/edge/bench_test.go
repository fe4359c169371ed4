package edge

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// discardWriter is a ResponseWriter that keeps nothing, so the benchmark
// measures the edge rather than a recorder.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) WriteHeader(int)             {}
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }

// hitCache answers every request from memory, as an authorized cache hit.
type hitCache struct {
	body []byte
	ct   []string
}

func (c *hitCache) Serve(w http.ResponseWriter, r *Request, o Origin) error {
	r.Result = ResultHit
	w.Header()["Content-Type"] = c.ct
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(c.body)
	return err
}

// nopLog is an access log that only reads the record.
type nopLog struct{ n int64 }

func (l *nopLog) Log(r *Request, rec *Record) { l.n += rec.BytesOut }

// BenchmarkServeHTTP measures the pipeline for an authorized cache hit:
// canonical path, behavior, an allowing function, the cache, access log
// and metrics. Allocations counted are the edge's own plus the request's
// header map reuse by the benchmark.
func BenchmarkServeHTTP(b *testing.B) {
	allow := fn(func(ctx context.Context, r *Request) (*Response, error) {
		r.DecisionTime = 1
		return nil, nil
	})
	bs := []Behavior{
		{PathPattern: "/api/v1/orders/*", OriginID: "orders", Origin: nopOrigin{}, Function: allow, Cache: &hitCache{
			body: []byte(`{"order":12345,"status":"shipped"}`), ct: []string{"application/json"},
		}},
		{PathPattern: "*", Origin: nopOrigin{}},
	}
	s := newServer(b, Config{}, bs, Options{Registerer: prometheus.NewRegistry(), AccessLog: &nopLog{}})
	req := httptest.NewRequest("GET", "/api/v1/orders/12345", nil)
	req.Header = http.Header{
		"Authorization": {"Bearer x"},
		"Accept":        {"application/json"},
		"User-Agent":    {"bench"},
	}
	w := &discardWriter{h: make(http.Header, 4)}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		s.ServeHTTP(w, req)
	}
}
