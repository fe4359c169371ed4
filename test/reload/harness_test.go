// Package reload tests reload and drain against the real edgeward binary:
// a process under load, reloaded hundreds of times, must fail no request,
// apply every reloadable key, and end with the goroutines, file
// descriptors and memory it had before; a process told to stop must say
// so on /readyz at once and still finish what it serves.
package reload

import (
	"bufio"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/edgeward/edgeward/internal/testkit"
)

var binary string

func TestMain(m *testing.M) { os.Exit(testkit.RunWithEdgeward(m, &binary)) }

// proc is a running edgeward serve.
type proc struct {
	*testkit.Edgeward
	t    testing.TB
	file string

	mu      sync.Mutex
	reloads int           // "configuration reloaded" lines seen
	changed chan struct{} // closed and replaced at each such line
}

// start runs the binary on the config file and returns once both
// listeners are up. The process is stopped by t.Cleanup.
func start(t testing.TB, file string) *proc {
	t.Helper()
	p := &proc{t: t, file: file, changed: make(chan struct{})}
	p.Edgeward = testkit.StartEdgeward(t, binary, file, func(msg string) {
		if msg != "configuration reloaded" {
			return
		}
		p.mu.Lock()
		p.reloads++
		close(p.changed)
		p.changed = make(chan struct{})
		p.mu.Unlock()
	})
	return p
}

// reload writes cfg over the file (as an editor does: a new file renamed
// over the old), sends SIGHUP, and waits for the reload to be logged.
func (p *proc) reload(cfg string) {
	p.t.Helper()
	p.mu.Lock()
	n, ch := p.reloads, p.changed
	p.mu.Unlock()
	writeFile(p.t, p.file, cfg)
	if err := p.Cmd.Process.Signal(syscall.SIGHUP); err != nil {
		p.t.Fatal(err)
	}
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		p.t.Fatalf("reload %d was not logged within 10s\n%s", n+1, tail(p.Logs.String(), 20))
	}
}

// metrics reads the named series of the admin /metrics (unlabelled ones).
func (p *proc) metrics(names ...string) map[string]float64 {
	p.t.Helper()
	res, err := http.Get("http://" + p.Admin + "/metrics")
	if err != nil {
		p.t.Fatal(err)
	}
	defer res.Body.Close()
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), " ")
		if !ok || !want[name] {
			continue
		}
		if v, err := strconv.ParseFloat(val, 64); err == nil {
			out[name] = v
		}
	}
	return out
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
