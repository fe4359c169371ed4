//go:build loadtest

package origin_test

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/edgeward/edgeward/internal/edge"
	"github.com/edgeward/edgeward/internal/origin"
)

// TestServeForLoad serves Forward on $LOAD_LISTEN (default
// 127.0.0.1:19200) in front of $LOAD_ORIGIN for $LOAD_FOR (default 20s),
// for an external load generator:
//
//	go test -c -tags loadtest -o /tmp/origin.test ./internal/origin/
//	LOAD_ORIGIN=http://127.0.0.1:19101 /tmp/origin.test -test.run ServeForLoad &
//	wrk -t2 -c64 -d10s http://127.0.0.1:19200/orders/1
//
// LOAD_MODE=bare answers 43 bytes from memory instead (the ceiling of a Go
// handler here); LOAD_MODE=proxy forces the ReverseProxy path.
func TestServeForLoad(t *testing.T) {
	listen := env("LOAD_LISTEN", "127.0.0.1:19200")
	d, err := time.ParseDuration(env("LOAD_FOR", "20s"))
	if err != nil {
		t.Fatal(err)
	}
	o, err := origin.New("load", origin.Config{URL: env("LOAD_ORIGIN", "http://127.0.0.1:19101")}, origin.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if os.Getenv("LOAD_MODE") == "proxy" {
		origin.DisableFastPath(o)
	}
	body := []byte(`{"id":42,"item":"order","status":"shipped"}`)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if os.Getenv("LOAD_MODE") == "bare" {
			w.Header().Set("Content-Type", "application/json")
			w.Write(body)
			return
		}
		peer, _ := netip.ParseAddrPort(r.RemoteAddr)
		er := &edge.Request{ID: "load", HTTP: r, Scheme: "http", Host: r.Host, Peer: peer}
		if err := o.Forward(w, er); err != nil {
			var e *edge.Error
			errors.As(err, &e)
			http.Error(w, e.Msg, e.Status)
		}
	})
	srv := &http.Server{Addr: listen, Handler: h}
	go func() {
		time.Sleep(d) // the load window, not synchronisation
		srv.Shutdown(context.Background())
	}()
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		t.Fatal(err)
	}
}

func env(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
