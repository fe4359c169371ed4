package app

import (
	"context"
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

// Watch reloads r when the file at path changes (editors replace files, so
// the directory is watched) or the process gets SIGHUP, until ctx is done.
// A reload that fails is logged and the running configuration stays.
func Watch(ctx context.Context, path string, r reloader, log logger) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	var events <-chan fsnotify.Event
	w, err := fsnotify.NewWatcher()
	if err == nil {
		defer w.Close()
		if err = w.Add(filepath.Dir(path)); err == nil {
			events = w.Events
		}
	}
	if err != nil {
		log.Warn("config file is not watched; reload with SIGHUP", "file", path, "err", err)
	}

	base := filepath.Base(path)
	var debounce <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			reload(ctx, r, log, "SIGHUP")
		case ev := <-events:
			if filepath.Base(ev.Name) == base && ev.Op&(fsnotify.Write|fsnotify.Create|fsnotify.Rename) != 0 {
				debounce = time.After(200 * time.Millisecond) // editors write in several steps
			}
		case <-debounce:
			debounce = nil
			reload(ctx, r, log, "file changed")
		}
	}
}

type logger interface {
	Info(msg string, args ...any)
	Warn(msg string, args ...any)
	Error(msg string, args ...any)
}

func reload(ctx context.Context, r reloader, log logger, why string) {
	err := r.Reload(ctx)
	if e, ok := r.(*Edge); ok {
		e.status.recordReload(e.path, why, err) // the status page's last reload
	}
	if err != nil {
		log.Error("reload failed; keeping the running configuration", "why", why, "err", err.Error())
	}
}
