package app

import (
	"bytes"
	"context"
	"crypto/sha256"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
)

// reloader is what Watch reloads.
type reloader interface {
	Reload(ctx context.Context) error
}

// debounce is how long Watch waits after the last change in the file's
// directory before it reloads: editors and Kubernetes write in several steps.
const debounce = 200 * time.Millisecond

// Watch reloads r when the file at path changes or the process gets SIGHUP,
// until ctx is done. A reload that fails is logged and the running
// configuration stays.
//
// The directory is watched, not the file: editors replace files, and a
// Kubernetes ConfigMap volume updates by swapping the ..data symlink that
// the file's own symlink points through, so the file itself never sees an
// event. After any event in the directory (or in the directory the file
// resolves to) the file is read and compared with what was read last; it
// reloads when the content differs. SIGHUP always reloads.
func Watch(ctx context.Context, path string, r reloader, log logger) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	var events <-chan fsnotify.Event
	var errs <-chan error
	w, err := fsnotify.NewWatcher()
	if err == nil {
		defer w.Close()
		if err = w.Add(filepath.Dir(path)); err == nil {
			events, errs = w.Events, w.Errors
			if real, rerr := filepath.EvalSymlinks(path); rerr == nil && filepath.Dir(real) != filepath.Dir(path) {
				_ = w.Add(filepath.Dir(real)) // best effort: the parent's events suffice for ..data
			}
		}
	}
	if err != nil {
		log.Warn("config file is not watched; reload with SIGHUP", "file", path, "err", err.Error())
	}

	last := digest(path)
	var settle <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			last = digest(path)
			reload(ctx, r, log, "SIGHUP")
		case _, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			settle = time.After(debounce)
		case err, ok := <-errs:
			if ok {
				log.Warn("config watch error", "file", path, "err", err.Error())
			} else {
				errs = nil
			}
		case <-settle:
			settle = nil
			d := digest(path)
			if d == nil || bytes.Equal(d, last) {
				continue // unreadable mid-swap, or nothing changed
			}
			last = d
			if w != nil {
				// A swapped symlink may now resolve to a new directory.
				if real, err := filepath.EvalSymlinks(path); err == nil && filepath.Dir(real) != filepath.Dir(path) {
					_ = w.Add(filepath.Dir(real))
				}
			}
			reload(ctx, r, log, "file changed")
		}
	}
}

// digest is the SHA-256 of the file at path (following symlinks), or nil
// if it cannot be read.
func digest(path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	h := sha256.Sum256(b)
	return h[:]
}

type logger interface {
	Info(msg string, args ...any)
	Warn(msg string, args ...any)
	Error(msg string, args ...any)
}

func reload(ctx context.Context, r reloader, log logger, why string) {
	if err := r.Reload(ctx); err != nil {
		log.Error("reload failed; keeping the running configuration", "why", why, "err", err.Error())
	}
}
