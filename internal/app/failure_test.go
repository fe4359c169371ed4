package app_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/edgeward/edgeward/internal/app"
	"github.com/edgeward/edgeward/internal/config"
	"github.com/edgeward/edgeward/internal/origintest"
)

// syncBuffer is a log destination that tests can read while the edge
// writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// runEdge serves the edge file y and returns its base URL and a function
// that stops it and waits.
func runEdge(t *testing.T, y string, log *slog.Logger) (base string, stop func()) {
	t.Helper()
	f, err := config.ParseEdge("edgeward.yaml", []byte(y), lookup)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e, err := app.NewEdge(ctx, "edgeward.yaml", f, app.Options{Logger: log})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	ln := listen(t)
	done := make(chan error, 1)
	go func() { done <- e.Serve(ctx, ln) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return "http://" + ln.Addr().String(), stop
}

func get(t *testing.T, url string) *http.Response {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res
}

// TestServe_502IsLoggedWithItsCause: a wrong gateway credential (the
// decision service answers 401) and an unreachable origin each write a
// line at the default level naming the cause, and the credential is not
// in it.
func TestServe_502IsLoggedWithItsCause(t *testing.T) {
	refuses := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, `{"error":"invalid gateway credential"}`, http.StatusUnauthorized)
	}))
	t.Cleanup(refuses.Close)
	dead := listen(t)
	deadAddr := dead.Addr().String()
	dead.Close()
	org := origintest.New(t)

	var logs syncBuffer
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	base, _ := runEdge(t, fmt.Sprintf(`
admin: off
origins:
  live: {url: "http://%s"}
  gone: {url: "http://%s"}
behaviors:
  - path_pattern: "/gone/*"
    origin: gone
  - path_pattern: "*"
    origin: live
    viewer_request: remote
functions:
  remote:
    service_url: %s
    secret_header_value: ${CRED}
    max_retries: 0
logging: {access_log: {path: off}}
`, org.Addr(), deadAddr, refuses.URL), log)

	tests := []struct {
		name, path string
		wantInLog  []string
	}{
		{"decision service refuses the credential", "/orders/1", []string{`"status":502`, `"function":"remote"`, `401`}},
		{"origin unreachable", "/gone/1", []string{`"status":502`, `"origin":"gone"`, `connection refused`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := get(t, base+tt.path)
			if res.StatusCode != http.StatusBadGateway {
				t.Fatalf("GET %s = %d, want 502", tt.path, res.StatusCode)
			}
			id := res.Header.Get("X-Request-Id")
			var line string
			for l := range strings.SplitSeq(logs.String(), "\n") {
				if strings.Contains(l, id) {
					line = l
				}
			}
			if line == "" || !strings.Contains(line, `"level":"WARN"`) {
				t.Fatalf("no warning for request %s in the log:\n%s", id, logs.String())
			}
			for _, w := range tt.wantInLog {
				if !strings.Contains(line, w) {
					t.Errorf("log line %s\nwant it to contain %s", line, w)
				}
			}
		})
	}
	if strings.Contains(logs.String(), "s3cret-gateway-credential") {
		t.Errorf("the gateway credential is in the log:\n%s", logs.String())
	}
	if org.Count() != 0 {
		t.Errorf("origin saw %d requests after a refused credential, want 0", org.Count())
	}
}

// TestServe_UncachedBehaviorSaysMissLikeTheAccessLog: a behavior without a
// cache answers with X-Cache as the access log records the request.
func TestServe_UncachedBehaviorSaysMissLikeTheAccessLog(t *testing.T) {
	org := origintest.New(t)
	dead := listen(t)
	deadAddr := dead.Addr().String()
	dead.Close()
	logFile := filepath.Join(t.TempDir(), "access.log")
	base, stop := runEdge(t, fmt.Sprintf(`
admin: off
origins:
  live: {url: "http://%s"}
  gone: {url: "http://%s"}
behaviors:
  - path_pattern: "/gone/*"
    origin: gone
  - path_pattern: "*"
    origin: live
logging: {access_log: {path: %q}}
`, org.Addr(), deadAddr, logFile), nil)

	tests := []struct{ path, wantXCache, wantResult string }{
		{"/orders", "Miss from edgeward", "Miss"},
		{"/gone/1", "Error from edgeward", "Error"},
	}
	ids := map[string]string{}
	for _, tt := range tests {
		res := get(t, base+tt.path)
		if got := res.Header.Get("X-Cache"); got != tt.wantXCache {
			t.Errorf("GET %s: X-Cache = %q, want %q", tt.path, got, tt.wantXCache)
		}
		ids[res.Header.Get("X-Request-Id")] = tt.wantResult
	}
	stop() // flushes the access log
	data, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range ids {
		found := false
		for l := range strings.SplitSeq(string(data), "\n") {
			if strings.Contains(l, id) {
				found = true
				if !strings.Contains(l, "\t"+want+"\t") {
					t.Errorf("access log line for %s = %q, want result %s", id, l, want)
				}
			}
		}
		if !found {
			t.Errorf("no access log line for %s in:\n%s", id, data)
		}
	}
}
