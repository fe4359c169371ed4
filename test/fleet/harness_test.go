package fleet

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgeward/edgeward/internal/testkit"
)

// binary is the edgeward binary, built once by TestMain (or taken from
// $EDGEWARD_BIN).
var binary string

func TestMain(m *testing.M) { os.Exit(testkit.RunWithEdgeward(m, &binary)) }

// origin answers "path vN", N the path's version (bumped by the test),
// cacheable for 10 minutes; /slow/* takes 300ms, /private/* is private,
// /aged/* says Age: 100. It counts requests per path.
type origin struct {
	srv      *httptest.Server
	versions sync.Map // path -> *atomic.Int64
	counts   sync.Map // path -> *atomic.Int64
}

func newOrigin(t *testing.T) *origin {
	o := &origin{}
	o.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		counter(&o.counts, r.URL.Path).Add(1)
		v := counter(&o.versions, r.URL.Path).Load() + 1
		cc := "max-age=600"
		switch {
		case strings.HasPrefix(r.URL.Path, "/slow/"):
			time.Sleep(300 * time.Millisecond) // a slow origin, so that misses overlap
		case strings.HasPrefix(r.URL.Path, "/private/"):
			cc = "private, max-age=600"
		case strings.HasPrefix(r.URL.Path, "/aged/"):
			w.Header().Set("Age", "100")
		}
		w.Header().Set("Cache-Control", cc)
		fmt.Fprintf(w, "%s v%d", r.URL.Path, v)
	}))
	t.Cleanup(o.srv.Close)
	return o
}

func counter(m *sync.Map, key string) *atomic.Int64 {
	v, _ := m.LoadOrStore(key, new(atomic.Int64))
	return v.(*atomic.Int64)
}

func (o *origin) bump(path string)               { counter(&o.versions, path).Add(1) }
func (o *origin) count(path string) int64        { return counter(&o.counts, path).Load() }
func (o *origin) addr() string                   { return strings.TrimPrefix(o.srv.URL, "http://") }
func (o *origin) want(path string, v int) string { return fmt.Sprintf("%s v%d", path, v) }

// nodeOptions change one node's fleet section.
type nodeOptions struct {
	name  string
	redis string // host:port
	tier  bool
	bound time.Duration
}

const edgeConfig = `
listen: 127.0.0.1:0
admin: 127.0.0.1:0
origins:
  api: {url: "http://%[1]s"}
behaviors:
  - path_pattern: "*"
    origin: api
    cache: {default_ttl: 60s}
fleet:
  redis: {address: %[2]q, timeout: 500ms}
  node: %[3]s
  heartbeat: 100ms
  disconnect_bound: %[4]s
  shared_tier: {enabled: %[5]v, collapse_wait: 3s}
logging:
  format: json
  access_log: {path: off}
`

// node is one edgeward process.
type node struct {
	t     *testing.T
	name  string
	addr  string
	admin string
	proc  *testkit.Edgeward
	logs  *testkit.Buffer
}

// startNode runs the binary and returns once both listeners are up.
func startNode(t *testing.T, o *origin, opts nodeOptions) *node {
	t.Helper()
	if opts.bound == 0 {
		opts.bound = time.Minute
	}
	cfg := fmt.Sprintf(edgeConfig, o.addr(), opts.redis, opts.name, opts.bound, opts.tier)
	file := filepath.Join(t.TempDir(), "edgeward.yaml")
	if err := os.WriteFile(file, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	p := testkit.StartEdgeward(t, binary, file, nil)
	n := &node{t: t, name: opts.name, addr: p.Addr, admin: p.Admin, proc: p, logs: p.Logs}
	return n
}

// kill stops the node with SIGKILL.
func (n *node) kill() { n.proc.Kill() }

var client = &http.Client{Timeout: 10 * time.Second}

// get fetches path from the node's viewer listener.
func (n *node) get(path string) (status int, body string, h http.Header, err error) {
	req, err := http.NewRequest("GET", "http://"+n.addr+path, nil)
	if err != nil {
		return 0, "", nil, err
	}
	req.Host = "api.example" // the distribution's name, the same on every node (it is in the key)
	res, err := client.Do(req)
	if err != nil {
		return 0, "", nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, string(b), res.Header, err
}

// mustGet is get that fails the test on a transport error or non-200.
func (n *node) mustGet(path string) (string, http.Header) {
	n.t.Helper()
	status, body, h, err := n.get(path)
	if err != nil || status != 200 {
		n.t.Fatalf("%s: GET %s = %d %q, %v", n.name, path, status, body, err)
	}
	return body, h
}

// status is an invalidation's fleet status.
type status struct {
	ID        string `json:"id"`
	Status    string `json:"status"`
	Published bool   `json:"published"`
	Nodes     []struct {
		Node   string `json:"node"`
		Status string `json:"status"`
	} `json:"nodes"`
}

// invalidate posts paths to the node's admin API.
func (n *node) invalidate(paths ...string) status {
	n.t.Helper()
	body, _ := json.Marshal(map[string][]string{"paths": paths})
	res, err := client.Post("http://"+n.admin+"/invalidations", "application/json", strings.NewReader(string(body)))
	if err != nil {
		n.t.Fatal(err)
	}
	defer res.Body.Close()
	var st status
	if res.StatusCode != http.StatusCreated || json.NewDecoder(res.Body).Decode(&st) != nil {
		n.t.Fatalf("%s: POST /invalidations = %s", n.name, res.Status)
	}
	return st
}

// status reads an invalidation's status from the node.
func (n *node) status(id string) (status, error) {
	res, err := client.Get("http://" + n.admin + "/invalidations/" + id)
	if err != nil {
		return status{}, err
	}
	defer res.Body.Close()
	var st status
	if res.StatusCode != 200 {
		return st, fmt.Errorf("GET /invalidations/%s = %s", id, res.Status)
	}
	return st, json.NewDecoder(res.Body).Decode(&st)
}

// health is /readyz?verbose.
type health struct {
	code     int
	Ready    bool     `json:"ready"`
	Degraded []string `json:"degraded"`
	Fleet    struct {
		Redis               string  `json:"redis"`
		Synced              bool    `json:"synced"`
		SharedTier          string  `json:"shared_tier"`
		QueuedInvalidations int     `json:"queued_invalidations"`
		CacheDroppedAt      *string `json:"cache_dropped_at"`
	} `json:"fleet"`
}

func (n *node) health() health {
	n.t.Helper()
	res, err := client.Get("http://" + n.admin + "/readyz?verbose")
	if err != nil {
		n.t.Fatal(err)
	}
	defer res.Body.Close()
	h := health{code: res.StatusCode}
	if err := json.NewDecoder(res.Body).Decode(&h); err != nil {
		n.t.Fatalf("%s: /readyz?verbose: %v", n.name, err)
	}
	return h
}
