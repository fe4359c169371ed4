package app

import (
	"net/http"
	"net/http/pprof"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
)

// adminHandler serves the admin listener: health, readiness, metrics,
// invalidations, the decision explain endpoint and Go's runtime profiles
// under /debug/pprof/ (as Caddy's admin endpoint does). The admin listener
// is an operator's port: bind it to loopback or a private network.
func (e *Edge) adminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("verbose") {
			e.readyVerbose(w, e.ready.Load() && e.snap.Load() != nil)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if !e.ready.Load() || e.snap.Load() == nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte("not ready\n"))
			return
		}
		w.Write([]byte("ready\n"))
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(e.gatherer(), promhttp.HandlerOpts{}))
	inv := e.invalidations()
	mux.Handle("/invalidations", inv)
	mux.Handle("/invalidations/", inv)
	mux.HandleFunc("GET /status", e.serveStatus)
	mux.HandleFunc("/status/explain", e.serveExplain)
	mux.HandleFunc("POST /decision-cache/flush", e.flushDecisionCache)
	handleProfiles(mux)
	mux.HandleFunc("POST /v1/decisions/explain", func(w http.ResponseWriter, r *http.Request) {
		h := e.snap.Load().explain()
		if h == nil {
			http.Error(w, `{"error":"no decision service in this edge"}`, http.StatusNotFound)
			return
		}
		h.ServeHTTP(w, r)
	})
	return mux
}

// handleProfiles serves Go's runtime profiles under /debug/pprof/ on an
// admin mux (the edge's and the standalone decision service's).
func handleProfiles(mux *http.ServeMux) {
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
}

// gatherer merges the process-wide registry with the current snapshot's, so
// that a reload replaces the snapshot's collectors without re-registering.
func (e *Edge) gatherer() prometheus.Gatherer {
	return prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		gs := prometheus.Gatherers{e.reg}
		if s := e.snap.Load(); s != nil {
			gs = append(gs, s.reg)
		}
		return gs.Gather()
	})
}
