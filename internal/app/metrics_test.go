package app_test

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/edgeward/edgeward/internal/app"
	"github.com/edgeward/edgeward/internal/config"
	"github.com/edgeward/edgeward/internal/origintest"
	"github.com/edgeward/edgeward/internal/token/tokentest"
)

// TestAdmin_MetricsMoveWithTraffic scrapes /metrics on the admin listener
// before and after traffic: the edge's request counter must grow by the
// number of requests sent, and health endpoints answer.
func TestAdmin_MetricsMoveWithTraffic(t *testing.T) {
	iss := tokentest.NewIssuer(t)
	org := origintest.New(t)
	edgeLn := listen(t)
	m := sprintfModel(iss, edgeLn.Addr().String())
	f, err := config.ParseEdge("edgeward.yaml", []byte(edgeFile(org.Addr(), "decision:"+m, "")), lookup)
	if err != nil {
		t.Fatal(err)
	}
	f.Admin = "127.0.0.1:0"
	ctx, cancel := context.WithCancel(context.Background())
	e, err := app.NewEdge(ctx, "edgeward.yaml", f, app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.ListenAdmin("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- e.Serve(ctx, edgeLn) }()
	t.Cleanup(func() { cancel(); <-done })
	admin := "http://" + e.AdminAddr()

	for _, p := range []string{"/healthz", "/readyz", "/debug/pprof/heap?debug=1"} {
		res, err := http.Get(admin + p)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Errorf("GET %s = %d, want 200", p, res.StatusCode)
		}
	}
	before := requestsTotal(t, admin)
	const n = 5
	for range n {
		res, err := http.Get("http://" + edgeLn.Addr().String() + "/orders/1")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	if after := requestsTotal(t, admin); after-before != n {
		t.Errorf("edge request counter moved by %v, want %d", after-before, n)
	}
}

var requestsLine = regexp.MustCompile(`(?m)^edgeward_edge_requests_total\{[^}]*\} ([0-9.e+]+)$`)

func requestsTotal(t *testing.T, admin string) float64 {
	t.Helper()
	res, err := http.Get(admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	var sum float64
	for _, m := range requestsLine.FindAllStringSubmatch(string(body), -1) {
		v, _ := strconv.ParseFloat(m[1], 64)
		sum += v
	}
	return sum
}

// TestEdge_CloseWithoutServe: an edge that is built and never served
// releases what it started; Close after Serve, and twice, is harmless.
func TestEdge_CloseWithoutServe(t *testing.T) {
	iss := tokentest.NewIssuer(t)
	org := origintest.New(t)
	f, err := config.ParseEdge("edgeward.yaml", []byte(edgeFile(org.Addr(), "decision:"+sprintfModel(iss, "127.0.0.1:1"), "")), lookup)
	if err != nil {
		t.Fatal(err)
	}
	before := runtime.NumGoroutine()
	e, err := app.NewEdge(context.Background(), "edgeward.yaml", f, app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e.Close()
	e.Close()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		// Caches that are no longer reachable stop their clean-up
		// goroutines at their clock's next tick.
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines after Close, %d before NewEdge\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}
