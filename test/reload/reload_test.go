package reload

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/edgeward/edgeward/internal/token/tokentest"
)

// variant is what differs between the two configurations the soak test
// alternates: every key that a reload applies.
type variant struct {
	name      string
	trusted   string // trusted_proxies
	owned     string // owned_headers
	body      string // limits.max_body_bytes
	merge     bool   // paths.merge_slashes
	origin    string // origins.api.url's host
	stage     string // origins.api.url's path
	ttl       string // behaviors[0].cache.default_ttl
	cache     string // cache.max_size
	accessLog string // logging.access_log.path
	decLog    string // decision.decision_log.path
	level     string // logging.level
	pattern   string // behaviors[0].path_pattern
}

const soakTemplate = `
listen: 127.0.0.1:0
admin: 127.0.0.1:0
shutdown_grace: 3s
trusted_proxies: [%[1]s]
owned_headers: [%[2]s]
limits: {max_body_bytes: %[3]s}
paths: {merge_slashes: %[4]t}
origins:
  api: {url: "http://%[5]s/%[6]s", protocol_policy: http-only}
behaviors:
  - path_pattern: "%[13]s"
    origin: api
    allowed_methods: [GET, HEAD, POST]
    viewer_request: authorize
    cache: {default_ttl: %[7]s, key: {headers: [x-check, x-only-a, x-only-b]}}
  - path_pattern: "*"
    origin: api
    allowed_methods: [GET, HEAD, POST]
cache: {max_size: %[8]s}
decision:
  token_issuers:
    test: {issuer: %[10]q, jwks_url: %[11]q, algorithms: [RS256]}
  decision_log: {path: %[9]q}
  api_services:
    - name: API
      base_urls: [http://api.example]
      token_issuer: test
      audience: https://api.example.com
      operations:
        - name: Read
          methods: [GET, HEAD]
          paths: [{type: PARAMETER, pattern: "/api/**"}]
          access_control: {scopes: {match: ANY, values: [read]}}
logging:
  level: %[12]s
  access_log: {path: %[14]q}
`

func (v variant) config(iss *tokentest.Issuer) string {
	return fmt.Sprintf(soakTemplate, v.trusted, v.owned, v.body, v.merge, v.origin, v.stage,
		v.ttl, v.cache, v.decLog, iss.URL(), iss.JWKSURL(), v.level, v.pattern, v.accessLog)
}

// recorder is an origin that answers with its name and the headers it got.
type recorder struct {
	name string
	srv  *httptest.Server
	hits atomic.Int64
	mu   sync.Mutex
	seen map[string]http.Header // by the request's path after the stage
	path map[string]string      // the path it got, by the same key
}

func newRecorder(t *testing.T, name string) *recorder {
	r := &recorder{name: name, seen: map[string]http.Header{}, path: map[string]string{}}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.hits.Add(1)
		key := req.Header.Get("X-Check")
		r.mu.Lock()
		r.seen[key] = req.Header.Clone()
		r.path[key] = req.URL.EscapedPath()
		r.mu.Unlock()
		io.Copy(io.Discard, req.Body)
		w.Header().Set("X-Origin", name)
		w.Header().Set("Cache-Control", "no-store")
		io.WriteString(w, name)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *recorder) addr() string { return strings.TrimPrefix(r.srv.URL, "http://") }

// got returns what the origin saw of the request sent with X-Check: key.
func (r *recorder) got(key string) (http.Header, string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seen[key], r.path[key]
}

// TestReload_SoakUnderLoad reloads a loaded edge between two
// configurations that differ in every reloadable key: no request may fail,
// each key must be in effect after each reload, and once the grace has
// passed the process must hold what it held before the reloads.
func TestReload_SoakUnderLoad(t *testing.T) {
	reloads := 200
	if s := os.Getenv("EDGEWARD_SOAK_RELOADS"); s != "" {
		reloads, _ = strconv.Atoi(s)
	}
	dir := t.TempDir()
	iss := tokentest.NewIssuer(t)
	orgA, orgB := newRecorder(t, "A"), newRecorder(t, "B")
	a := variant{name: "A", trusted: "", owned: "x-only-a", body: "1MiB", merge: true, origin: orgA.addr(), stage: "prod",
		ttl: "60s", cache: "64MiB", accessLog: filepath.Join(dir, "a.log"), decLog: filepath.Join(dir, "a.dlog"), level: "info", pattern: "/api/*"}
	b := variant{name: "B", trusted: "127.0.0.1/32", owned: "x-only-b", body: "16", merge: false, origin: orgB.addr(), stage: "stage",
		ttl: "30s", cache: "32MiB", accessLog: filepath.Join(dir, "b.log"), decLog: filepath.Join(dir, "b.dlog"), level: "debug", pattern: "/api/load/*"}
	file := filepath.Join(dir, "edgeward.yaml")
	writeFile(t, file, a.config(iss))
	p := start(t, file)
	tok := iss.Mint(map[string]any{"sub": "alice", "aud": "https://api.example.com", "scope": "read"})

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}, Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	get := func(path string, h map[string]string) (int, string, error) {
		req, _ := http.NewRequest("GET", "http://"+p.Addr+path, nil)
		req.Host = "api.example"
		req.Header.Set("Authorization", "Bearer "+tok)
		for k, v := range h {
			req.Header.Set(k, v)
		}
		res, err := client.Do(req)
		if err != nil {
			return 0, "", err
		}
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		return res.StatusCode, string(body), err
	}

	// Load: workers on keep-alive connections, counting every failure.
	var ok, failed atomic.Int64
	var firstErr atomic.Pointer[string]
	stop := make(chan struct{})
	var wg sync.WaitGroup
	load := func() {
		for i := range 6 {
			wg.Go(func() {
				path := fmt.Sprintf("/api/load/%d", i)
				for {
					select {
					case <-stop:
						return
					default:
					}
					code, _, err := get(path, nil)
					if err != nil || code != http.StatusOK {
						failed.Add(1)
						msg := fmt.Sprintf("GET %s = %d, %v", path, code, err)
						firstErr.CompareAndSwap(nil, &msg)
						continue
					}
					ok.Add(1)
				}
			})
		}
	}
	load()

	// check asserts that every key of v is in effect.
	var checks atomic.Int64
	check := func(v variant) {
		t.Helper()
		n := strconv.Itoa(int(checks.Add(1)))
		code, body, err := get("/api/check", map[string]string{"X-Check": n, "X-Forwarded-For": "203.0.113.7", "X-Only-A": "spoof", "X-Only-B": "spoof"})
		if err != nil || code != http.StatusOK || body != v.name {
			t.Fatalf("%s: GET /api/check = %d %q %v, want 200 from origin %s", v.name, code, body, err, v.name)
		}
		org := map[string]*recorder{"A": orgA, "B": orgB}[v.name]
		h, path := org.got(n)
		if !strings.HasPrefix(path, "/"+v.stage+"/") {
			t.Errorf("%s: origin path %q, want the stage /%s", v.name, path, v.stage)
		}
		xff := h.Get("X-Forwarded-For")
		if trusted := strings.Contains(xff, "203.0.113.7"); trusted != (v.trusted != "") {
			t.Errorf("%s: X-Forwarded-For at origin %q with trusted_proxies [%s]", v.name, xff, v.trusted)
		}
		for _, hdr := range []string{"X-Only-A", "X-Only-B"} {
			owned := strings.EqualFold(hdr, v.owned)
			if got := h.Get(hdr); (got == "") != owned {
				t.Errorf("%s: %s at origin = %q with owned_headers [%s]", v.name, hdr, got, v.owned)
			}
		}
		req, _ := http.NewRequest("POST", "http://"+p.Addr+"/other", strings.NewReader(strings.Repeat("x", 100)))
		req.Host = "api.example"
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if want := map[string]int{"A": 200, "B": 413}[v.name]; res.StatusCode != want {
			t.Errorf("%s: 100-byte POST with max_body_bytes %s = %d, want %d", v.name, v.body, res.StatusCode, want)
		}
		get("/x//y", map[string]string{"X-Check": n + "s"})
		if _, path := org.got(n + "s"); strings.Contains(path, "//") == v.merge {
			t.Errorf("%s: origin path %q with merge_slashes %t", v.name, path, v.merge)
		}
		// Without a token: /api/* authorizes it (A), /api/load/* does not
		// match it and the catch-all has no function (B).
		nreq, _ := http.NewRequest("GET", "http://"+p.Addr+"/api/notoken", nil)
		nreq.Host = "api.example"
		nres, err := client.Do(nreq)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, nres.Body)
		nres.Body.Close()
		if (nres.StatusCode == http.StatusOK) != (v.pattern != "/api/*") {
			t.Errorf("%s: GET /api/notoken without a token under path_pattern %s = %d", v.name, v.pattern, nres.StatusCode)
		}
	}
	logged := func(path string) bool {
		b, err := os.ReadFile(path)
		return err == nil && len(b) > 0
	}

	// Baseline, under the same load without reloads.
	waitFor(t, func() bool { return ok.Load() > 200 }, "load before the baseline")
	check(a)
	base := settle(t, p, nil)
	t.Logf("baseline: %v", base)

	for i := range reloads {
		v := b
		if i%2 == 1 {
			v = a
		}
		p.reload(v.config(iss))
		if i < 2 || i >= reloads-2 {
			check(v)
		}
	}
	if !poll(func() bool { return logged(a.accessLog) && logged(b.accessLog) }) {
		t.Errorf("access log paths %s and %s: not both written; a reload must switch the access log", a.accessLog, b.accessLog)
	}
	close(stop)
	wg.Wait()
	if n := failed.Load(); n > 0 {
		t.Errorf("%d of %d requests failed during %d reloads; first: %s", n, n+ok.Load(), reloads, *firstErr.Load())
	}
	t.Logf("%d requests served during %d reloads", ok.Load(), reloads)
	client.CloseIdleConnections()

	after := settle(t, p, base)
	t.Logf("after %d reloads: %v", reloads, after)
	for _, f := range []string{a.decLog, b.decLog} {
		if !logged(f) {
			t.Errorf("decision log %s is empty: a replaced decision service's buffered lines were not flushed", f)
		}
	}
}

// stats are the resources the soak test bounds.
type stats struct{ goroutines, fds, heap, rss float64 }

func (s stats) String() string {
	return fmt.Sprintf("goroutines %.0f, open fds %.0f, heap in use %.1f MiB, RSS %.1f MiB",
		s.goroutines, s.fds, s.heap/(1<<20), s.rss/(1<<20))
}

// settle reads the process's resources once it is idle. With a baseline,
// it waits (bounded) for them to come back within the bound.
func settle(t *testing.T, p *proc, base *stats) *stats {
	t.Helper()
	read := func() *stats {
		// A heap profile with gc=1 runs a collection first.
		if res, err := http.Get("http://" + p.Admin + "/debug/pprof/heap?gc=1"); err == nil {
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
		}
		m := p.metrics("go_goroutines", "process_open_fds", "go_memstats_heap_inuse_bytes", "process_resident_memory_bytes")
		return &stats{m["go_goroutines"], m["process_open_fds"], m["go_memstats_heap_inuse_bytes"], m["process_resident_memory_bytes"]}
	}
	if base == nil {
		return read()
	}
	within := func(s *stats) bool {
		return s.goroutines <= base.goroutines+8 && s.fds <= base.fds+8 &&
			s.heap <= base.heap*1.5+16<<20 && s.rss <= base.rss+64<<20
	}
	var s *stats
	deadline := time.Now().Add(20 * time.Second)
	for {
		s = read()
		if within(s) || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond) // polling an external process
	}
	if !within(s) {
		t.Errorf("after reloads: %v; want within (+8 goroutines, +8 fds, heap 1.5x+16MiB, RSS +64MiB) of the baseline %v", s, base)
	}
	return s
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	if !poll(cond) {
		t.Fatalf("timed out waiting for %s", what)
	}
}

// poll reports whether cond holds within 20s.
func poll(cond func() bool) bool {
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond) // polling an external process
	}
	return true
}

// TestDrain_ReadyzTurns503AtOnceWhileInFlightRequestsFinish sends SIGTERM
// while a request is in flight: /readyz must answer 503 within 100ms,
// /healthz stay 200, new requests still be served during drain_delay, and
// the in-flight request complete with 200.
func TestDrain_ReadyzTurns503AtOnceWhileInFlightRequestsFinish(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 8)
	org := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			entered <- struct{}{}
			<-release
		}
		io.WriteString(w, "done")
	}))
	defer org.Close()
	defer close(release)
	file := filepath.Join(t.TempDir(), "edgeward.yaml")
	writeFile(t, file, fmt.Sprintf(`
listen: 127.0.0.1:0
admin: 127.0.0.1:0
drain_delay: 1s
shutdown_grace: 10s
origins:
  o: {url: "http://%s", protocol_policy: http-only}
behaviors:
  - {path_pattern: "*", origin: o}
logging: {access_log: {path: off}}
`, strings.TrimPrefix(org.URL, "http://")))
	p := start(t, file)
	status := func(url string) int {
		c := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
		res, err := c.Get(url)
		if err != nil {
			return 0
		}
		res.Body.Close()
		return res.StatusCode
	}
	if got := status("http://" + p.Admin + "/readyz"); got != http.StatusOK {
		t.Fatalf("/readyz before SIGTERM = %d, want 200", got)
	}

	slow := make(chan int, 1)
	go func() { slow <- status("http://" + p.Addr + "/slow") }()
	<-entered

	sent := time.Now()
	if err := p.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for status("http://"+p.Admin+"/readyz") != http.StatusServiceUnavailable {
		if time.Since(sent) > 2*time.Second {
			t.Fatal("/readyz never answered 503 after SIGTERM")
		}
	}
	if d := time.Since(sent); d > 100*time.Millisecond {
		t.Errorf("/readyz turned 503 %v after SIGTERM, want within 100ms", d)
	}
	if got := status("http://" + p.Admin + "/healthz"); got != http.StatusOK {
		t.Errorf("/healthz during the drain = %d, want 200 until exit", got)
	}
	if got := status("http://" + p.Addr + "/during-delay"); got != http.StatusOK {
		t.Errorf("a new request during drain_delay = %d, want 200 (the listener serves on while load balancers notice)", got)
	}
	release <- struct{}{}
	if got := <-slow; got != http.StatusOK {
		t.Errorf("the in-flight request across SIGTERM = %d, want 200", got)
	}
	select {
	case <-p.Exited:
		if p.ExitErr != nil {
			t.Errorf("edgeward exited with %v after a clean drain\n%s", p.ExitErr, tail(p.Logs.String(), 10))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("edgeward did not exit after the drain")
	}
	if c, err := net.DialTimeout("tcp", p.Addr, time.Second); err == nil {
		c.Close()
		t.Error("the viewer listener still accepts after exit")
	}
}
