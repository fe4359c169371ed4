package app

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// reads records the file's content at each reload.
type reads struct {
	path string
	got  chan string
}

func (r *reads) Reload(context.Context) error {
	b, err := os.ReadFile(r.path)
	if err != nil {
		return err
	}
	r.got <- string(b)
	return nil
}

type nopLog struct{}

func (nopLog) Info(string, ...any)  {}
func (nopLog) Warn(string, ...any)  {}
func (nopLog) Error(string, ...any) {}

// A Kubernetes ConfigMap volume updates by writing a new timestamped
// directory and renaming a ..data_tmp symlink over ..data; the file's own
// symlink (edgeward.yaml -> ..data/edgeward.yaml) never changes.
func TestWatch_ReloadsOnAConfigMapSymlinkSwap(t *testing.T) {
	dir := t.TempDir()
	mk := func(ts, content string) {
		t.Helper()
		if err := os.Mkdir(filepath.Join(dir, ts), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, ts, "edgeward.yaml"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mk("..2026_12_06_01", "v1")
	if err := os.Symlink("..2026_12_06_01", filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "edgeward.yaml")
	if err := os.Symlink("..data/edgeward.yaml", path); err != nil {
		t.Fatal(err)
	}

	r := &reads{path: path, got: make(chan string, 4)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	started := make(chan struct{})
	go func() {
		close(started)
		Watch(ctx, path, r, nopLog{})
	}()
	<-started

	// The swap, as the kubelet's atomic writer does it. Until the watcher
	// has its watch in place the first swap may go unseen, so swap again
	// until a reload reads the new content.
	deadline := time.After(10 * time.Second)
	for i := 2; ; i++ {
		ts := "..2026_12_06_0" + string(rune('0'+i))
		mk(ts, "v"+string(rune('0'+i)))
		tmp := filepath.Join(dir, "..data_tmp")
		if err := os.Symlink(ts, tmp); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, "..data")); err != nil {
			t.Fatal(err)
		}
		select {
		case got := <-r.got:
			if want := "v" + string(rune('0'+i)); got != want {
				t.Fatalf("reload read %q, want %q", got, want)
			}
			return
		case <-time.After(2 * time.Second):
			if i >= 6 {
				t.Fatal("a ConfigMap-style symlink swap never triggered a reload")
			}
		case <-deadline:
			t.Fatal("a ConfigMap-style symlink swap never triggered a reload")
		}
	}
}
