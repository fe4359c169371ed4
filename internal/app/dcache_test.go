package app_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgeward/edgeward/internal/app"
	"github.com/edgeward/edgeward/internal/config"
	"github.com/edgeward/edgeward/internal/origintest"
	"github.com/edgeward/edgeward/internal/sidebandtest"
)

// TestAdmin_DecisionCacheFlushAndReload: with decision_cache on, a repeat
// request makes no sideband call; POST /decision-cache/flush and a reload
// each make the next one call again.
func TestAdmin_DecisionCacheFlushAndReload(t *testing.T) {
	org := origintest.New(t)
	svc := sidebandtest.NewServer()
	svc.SetFallback(sidebandtest.Allow(nil))
	t.Cleanup(svc.Close)
	file := filepath.Join(t.TempDir(), "edgeward.yaml")
	src := edgeFile(org.Addr(), "", fmt.Sprintf(`functions:
  authorize:
    service_url: [%s]
    secret_header_value: ${CRED}
    decision_cache: {enabled: true, allow_ttl: 1m}`, svc.URL))
	if err := os.WriteFile(file, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := config.LoadEdge(file, lookup)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e, err := app.NewEdge(ctx, file, f, app.Options{Lookup: lookup})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.ListenAdmin("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	edgeLn := listen(t)
	done := make(chan error, 1)
	go func() { done <- e.Serve(ctx, edgeLn) }()
	t.Cleanup(func() { cancel(); <-done })

	get := func() {
		t.Helper()
		res, err := http.Get("http://" + edgeLn.Addr().String() + "/anything")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET = %d, want 200", res.StatusCode)
		}
	}
	flush := func(query string) (int, string) {
		t.Helper()
		res, err := http.Post("http://"+e.AdminAddr()+"/decision-cache/flush"+query, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, strings.TrimSpace(string(b))
	}

	get()
	get()
	if n := svc.CallCount(); n != 1 {
		t.Fatalf("sideband calls for two identical requests = %d, want 1", n)
	}
	if code, body := flush(""); code != 200 || body != `{"flushed":["authorize"]}` {
		t.Errorf("flush = %d %s, want 200 {\"flushed\":[\"authorize\"]}", code, body)
	}
	get()
	if n := svc.CallCount(); n != 2 {
		t.Errorf("sideband calls after a flush = %d, want 2", n)
	}
	if code, _ := flush("?function=nope"); code != http.StatusNotFound {
		t.Errorf("flush of an unknown function = %d, want 404", code)
	}
	if err := e.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	get()
	if n := svc.CallCount(); n != 3 {
		t.Errorf("sideband calls after a reload = %d, want 3 (a reload starts with no kept decision)", n)
	}
	get()
	if n := svc.CallCount(); n != 3 {
		t.Errorf("sideband calls for a repeat after the reload = %d, want 3", n)
	}
}
