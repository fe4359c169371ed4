package app

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"

	"github.com/redis/go-redis/v9"

	"github.com/edgeward/edgeward/internal/config"
	"github.com/edgeward/edgeward/internal/fleet"
	"github.com/edgeward/edgeward/internal/protect"
)

// startFleet joins the fleet of f's fleet: section, if it has one: the
// node follows invalidations in the background (Redis may be away: the
// edge starts and serves anyway) and, when the shared tier is on, the
// store looks there on a local miss. The node lives as long as the store.
func (e *Edge) startFleet(ctx context.Context, f *config.Edge) error {
	if f.Fleet == nil {
		return nil
	}
	// go-redis logs to one process-wide logger; its messages (a pool that
	// cannot dial) repeat what the node logs once per state change.
	redis.SetLogger(fleet.RedisLogger{Log: e.log})
	n, err := fleet.New(*f.Fleet, e.store, fleet.Options{Logger: e.log, Registerer: e.reg})
	if err != nil {
		return fmt.Errorf("fleet: %w", err)
	}
	if t := f.Fleet.SharedTier; t.Enabled {
		var covers func(string) bool
		if len(t.Behaviors) > 0 {
			covers = func(b string) bool { return slices.Contains(t.Behaviors, b) }
		}
		e.store.SetTier(n.Tier(), covers, int64(t.MaxObjectSize))
	}
	n.Start(ctx)
	e.fleet = n
	return nil
}

// closeFleet leaves the fleet.
func (e *Edge) closeFleet() {
	if e.fleet != nil {
		e.fleet.Close()
	}
}

// invalidations is the admin API for invalidations: the fleet's, which
// publishes to every node and reports each node's progress, or the
// store's alone.
func (e *Edge) invalidations() http.Handler {
	if e.fleet != nil {
		return e.fleet.InvalidationHandler()
	}
	return e.store.InvalidationHandler()
}

// Counters are the fleet-wide rate counters, nil without a fleet.
func (e *Edge) Counters() *fleet.Counters {
	if e.fleet == nil {
		return nil
	}
	return e.fleet.Counters()
}

// counter is what rate rules count with: the fleet's counters, or nil
// (each node counts alone). A nil *fleet.Counters must not become a
// non-nil interface.
func (e *Edge) counter() protect.Counter {
	if c := e.Counters(); c != nil {
		return c
	}
	return nil
}

var _ protect.Counter = (*fleet.Counters)(nil)

// readyVerbose answers /readyz?verbose: the same status as /readyz (200
// or 503) with a JSON body that says what is degraded. A node without
// Redis is ready: it serves from its local cache and the origin.
func (e *Edge) readyVerbose(w http.ResponseWriter, ready bool) {
	body := struct {
		Ready    bool          `json:"ready"`
		Degraded []string      `json:"degraded,omitempty"`
		Fleet    *fleet.Health `json:"fleet,omitempty"`
	}{Ready: ready}
	if e.fleet != nil {
		h := e.fleet.Health()
		body.Fleet = &h
		if h.Redis != "up" {
			body.Degraded = append(body.Degraded, "redis")
		}
		if h.SharedTier == "bypassed" {
			body.Degraded = append(body.Degraded, "shared_tier")
		}
		if !h.Synced {
			body.Degraded = append(body.Degraded, "invalidations")
		}
	}
	w.Header().Set("Content-Type", "application/json")
	if !ready {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	json.NewEncoder(w).Encode(body)
}
