package app_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/edgeward/edgeward/internal/app"
	"github.com/edgeward/edgeward/internal/config"
	"github.com/edgeward/edgeward/internal/testkit"
	"github.com/edgeward/edgeward/internal/token/tokentest"
)

// TestDecisionAdmin_ServesHealthMetricsAndProfiles checks the standalone
// decision service's admin listener: health, readiness, metrics and Go's
// runtime profiles (so that the remote hop can be profiled on the
// service's side as on the edge's).
func TestDecisionAdmin_ServesHealthMetricsAndProfiles(t *testing.T) {
	iss := tokentest.NewIssuer(t)
	admin := fmt.Sprintf("127.0.0.1:%d", testkit.FreePort(t))
	df, err := config.ParseDecision("decision.yaml",
		[]byte("admin: "+admin+"\ndecision:"+sprintfModel(iss, "127.0.0.1:1")), lookup)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	d, err := app.NewDecision(ctx, "decision.yaml", df, app.Options{})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- d.Serve(ctx, listen(t)) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("decision service did not stop")
		}
	})

	get := func(path string) (int, string) {
		res, err := http.Get("http://" + admin + path)
		if err != nil {
			return 0, err.Error()
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	testkit.WaitFor(t, 5*time.Second, "the admin listener to be ready", func() bool {
		code, _ := get("/readyz")
		return code == http.StatusOK
	})
	for _, tc := range []struct{ path, want string }{
		{"/healthz", "ok"},
		{"/metrics", "go_goroutines"},
		{"/debug/pprof/", "goroutine"},
		{"/debug/pprof/cmdline", "app.test"},
	} {
		code, body := get(tc.path)
		if code != http.StatusOK || !strings.Contains(body, tc.want) {
			t.Errorf("GET %s = %d %.80q; want 200 containing %q", tc.path, code, body, tc.want)
		}
	}
}
