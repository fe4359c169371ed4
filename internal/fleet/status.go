package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/edgeward/edgeward/internal/httpcache"
	"github.com/redis/go-redis/v9"
)

// Invalidation statuses, as CloudFront names them.
const (
	InProgress = "InProgress"
	Completed  = "Completed"
	// Offline is a node that stopped its heartbeat: it is not waited for
	// (it replays the stream, or drops its cache, when it is back).
	Offline = "Offline"
)

// Status is an invalidation's progress across the fleet.
type Status struct {
	ID         string    `json:"id"`
	Paths      int       `json:"paths"`
	Status     string    `json:"status"`
	CreateTime time.Time `json:"create_time"`
	// Node accepted it.
	Node string `json:"node"`
	// Published is false while the accepting node waits for Redis.
	Published bool         `json:"published"`
	Nodes     []NodeStatus `json:"nodes"`
	// Detail says why the per-node status is partial.
	Detail string `json:"detail,omitempty"`
}

// NodeStatus is one node's progress on an invalidation.
type NodeStatus struct {
	Node   string `json:"node"`
	Status string `json:"status"`
}

// errUnknown is Status's answer for an id nobody recorded.
var errUnknown = errors.New("no such invalidation (records are kept for a day)")

// Status returns invalidation id's progress: Completed once every live
// node has applied it. While Redis is away, an invalidation accepted here
// is InProgress (this node applied it; the others are unknown).
func (n *Node) Status(ctx context.Context, id string) (Status, error) {
	if p, ok := n.pendingOf(id); ok {
		return Status{ID: id, Paths: p.inv.Paths, Status: InProgress, CreateTime: p.inv.CreateTime, Node: n.cfg.Node,
			Nodes: []NodeStatus{{n.cfg.Node, Completed}}, Detail: "waiting for redis to reach the other nodes"}, nil
	}
	st, err := n.fleetStatus(ctx, id)
	if err == nil || errors.Is(err, errUnknown) {
		return st, err
	}
	if inv, ok := n.store.History(id); ok {
		return Status{ID: id, Paths: inv.Paths, Status: InProgress, CreateTime: inv.CreateTime, Node: n.cfg.Node,
			Published: true, Nodes: []NodeStatus{{n.cfg.Node, Completed}},
			Detail: "redis unreachable: the other nodes' progress is unknown"}, nil
	}
	return Status{}, err
}

func (n *Node) fleetStatus(ctx context.Context, id string) (Status, error) {
	if !n.linkUp.Load() {
		return Status{}, errors.New("redis unreachable")
	}
	ctx, cancel := context.WithTimeout(ctx, 2*n.cfg.Redis.Timeout)
	defer cancel()
	rec, err := n.rdb.HGetAll(ctx, n.k.record(id)).Result()
	if err != nil {
		return Status{}, err
	}
	if rec["entry"] == "" {
		return Status{}, errUnknown
	}
	since := strconv.FormatInt(time.Now().Add(-nodesHistory).UnixMilli(), 10)
	//lint:ignore SA1019 ZRANGEBYSCORE works on every Redis; ZRANGE ... BYSCORE needs 6.2.
	names, err := n.rdb.ZRangeByScore(ctx, n.k.nodes, &redis.ZRangeBy{Min: since, Max: "+inf"}).Result()
	if err != nil {
		return Status{}, err
	}
	st := Status{ID: id, Status: Completed, Node: rec["node"], Published: true, Nodes: []NodeStatus{}}
	st.Paths, _ = strconv.Atoi(rec["paths"])
	if ms, err := strconv.ParseInt(rec["at"], 10, 64); err == nil {
		st.CreateTime = time.UnixMilli(ms).UTC()
	}
	if len(names) == 0 {
		return st, nil
	}
	slices.Sort(names)
	alive := make([]string, len(names))
	for i, name := range names {
		alive[i] = n.k.alive(name)
	}
	pos, err := n.rdb.MGet(ctx, alive...).Result()
	if err != nil {
		return Status{}, err
	}
	for i, name := range names {
		p, _ := pos[i].(string)
		s := Completed
		switch {
		case p == "":
			s = Offline
		case compareID(p, rec["entry"]) < 0:
			s = InProgress
			st.Status = InProgress
		}
		st.Nodes = append(st.Nodes, NodeStatus{name, s})
	}
	return st, nil
}

// InvalidationHandler serves the admin API for invalidations in a fleet,
// in place of the store's own:
//
//	POST /invalidations       {"paths": ["/orders/1", "/images/*"]}
//	                          → 201 the Status (InProgress until every live node applied it)
//	GET  /invalidations/{id}  → 200 the Status, with one entry per node
func (n *Node) InvalidationHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /invalidations", func(w http.ResponseWriter, r *http.Request) {
		paths, ok := httpcache.ReadInvalidationPaths(w, r)
		if !ok {
			return
		}
		inv, err := n.Accept(r.Context(), paths)
		switch {
		case errors.Is(err, ErrQueueFull):
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": err.Error()})
			return
		case err != nil:
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		st, err := n.Status(r.Context(), inv.ID)
		if err != nil {
			st = Status{ID: inv.ID, Paths: inv.Paths, Status: InProgress, CreateTime: inv.CreateTime, Node: n.cfg.Node,
				Published: true, Nodes: []NodeStatus{{n.cfg.Node, Completed}}, Detail: err.Error()}
		}
		w.Header().Set("Location", "/invalidations/"+inv.ID)
		writeJSON(w, http.StatusCreated, st)
	})
	mux.HandleFunc("GET /invalidations/{id}", func(w http.ResponseWriter, r *http.Request) {
		st, err := n.Status(r.Context(), r.PathValue("id"))
		switch {
		case errors.Is(err, errUnknown):
			writeJSON(w, http.StatusNotFound, map[string]string{"error": err.Error()})
		case err != nil:
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "no record here and redis unreachable: " + err.Error()})
		default:
			writeJSON(w, http.StatusOK, st)
		}
	})
	return mux
}

// Health is the node's fleet state, for /readyz?verbose. A node is
// degraded, not unready, without Redis: it still serves.
type Health struct {
	Node string `json:"node"`
	// Redis is "up" or "down".
	Redis string `json:"redis"`
	// Synced is true while the node follows every invalidation.
	Synced bool `json:"synced"`
	// SharedTier is "off", "on" or "bypassed".
	SharedTier          string     `json:"shared_tier"`
	QueuedInvalidations int        `json:"queued_invalidations"`
	LastError           string     `json:"last_error,omitempty"`
	OutOfSyncSince      *time.Time `json:"out_of_sync_since,omitempty"`
	CacheDroppedAt      *time.Time `json:"cache_dropped_at,omitempty"`
}

// Degraded reports whether the node runs without (part of) the fleet.
func (h Health) Degraded() bool { return !h.Synced || h.Redis != "up" }

// Health returns the node's fleet state.
func (n *Node) Health() Health {
	h := Health{Node: n.cfg.Node, Redis: "down", Synced: n.synced.Load(), SharedTier: "off"}
	if n.linkUp.Load() {
		h.Redis = "up"
	}
	if n.cfg.SharedTier.Enabled {
		h.SharedTier = "on"
		if h.Redis != "up" {
			h.SharedTier = "bypassed"
		}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	h.QueuedInvalidations = len(n.queue)
	if h.Redis != "up" {
		h.LastError = n.lastErr
	}
	if !h.Synced {
		t := n.lastRead.UTC()
		h.OutOfSyncSince = &t
	}
	if !n.lastDrop.IsZero() {
		t := n.lastDrop.UTC()
		h.CacheDroppedAt = &t
	}
	return h
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
