package httpcache

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/maypok86/otter/v2"
)

// Invalidation status values.
const InvalidationCompleted = "Completed"

// maxInvalidationPath bounds the length of one invalidation path.
const maxInvalidationPath = 4096

// historySize is how many invalidations GET /invalidations/{id} remembers.
const historySize = 100

// Invalidation is the record of one invalidation request, as the admin API
// returns it.
type Invalidation struct {
	ID         string    `json:"id"`
	Paths      int       `json:"paths"`
	Status     string    `json:"status"`
	CreateTime time.Time `json:"create_time"`
}

// Invalidate removes every stored object whose path matches one of paths,
// in CloudFront's syntax: a path starting with "/", either exact or ending
// in "*" to match every path with that prefix ("/*" matches all), at most
// MaxInvalidationPaths per call. Paths are matched against the decoded
// canonical path, across hosts, query strings and every behavior; the
// percent-encoded and the plain spelling of a path are the same path.
// Invalidation is synchronous: when Invalidate returns, no matching object
// is served again, and fills in flight for a matching path do not store.
func (s *Store) Invalidate(paths []string) (Invalidation, error) {
	type target struct {
		path   string
		prefix bool
	}
	var errs []error
	if len(paths) == 0 {
		errs = append(errs, errors.New("paths: at least one path is required"))
	}
	if len(paths) > MaxInvalidationPaths {
		errs = append(errs, fmt.Errorf("paths: %d paths, at most %d per invalidation", len(paths), MaxInvalidationPaths))
	}
	targets := make([]target, 0, len(paths))
	for i, p := range paths {
		t, err := parseInvalidationPath(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("paths[%d]: %w", i, err))
			continue
		}
		prefix := strings.HasSuffix(t, "*")
		targets = append(targets, target{strings.TrimSuffix(t, "*"), prefix})
	}
	if err := errors.Join(errs...); err != nil {
		return Invalidation{}, err
	}
	for _, t := range targets {
		if t.prefix {
			s.invalidatePrefix(t.path)
		} else {
			s.invalidatePath(t.path)
		}
	}
	inv := Invalidation{ID: newID(), Paths: len(paths), Status: InvalidationCompleted, CreateTime: s.now().UTC()}
	s.history.add(inv)
	return inv, nil
}

// parseInvalidationPath checks one path and returns it decoded (with a
// trailing "*" kept).
func parseInvalidationPath(p string) (string, error) {
	switch {
	case p == "":
		return "", errors.New("empty path")
	case p[0] != '/':
		return "", fmt.Errorf("%q must start with /", p)
	case len(p) > maxInvalidationPath:
		return "", fmt.Errorf("longer than %d bytes", maxInvalidationPath)
	case strings.Contains(strings.TrimSuffix(p, "*"), "*"):
		return "", fmt.Errorf("%q: * is only allowed at the end", p)
	case strings.ContainsAny(p, "?#"):
		return "", fmt.Errorf("%q: a path has no query or fragment", p)
	}
	d, err := url.PathUnescape(p)
	if err != nil {
		return "", fmt.Errorf("%q: %v", p, err)
	}
	return d, nil
}

// invalidatePath removes the objects of one path.
func (s *Store) invalidatePath(path string) {
	s.inval.add(path, false)
	s.drop(path)
}

// invalidatePrefix removes the objects of every path starting with prefix:
// a scan of the stored paths (admin invalidations are rare; each lookup
// stays O(1)).
func (s *Store) invalidatePrefix(prefix string) {
	s.inval.add(prefix, true)
	for path := range s.cache.Keys() {
		if strings.HasPrefix(path, prefix) {
			s.drop(path)
		}
	}
}

// drop removes a path's node and marks it dead for writers holding it.
func (s *Store) drop(path string) {
	s.cache.Compute(path, func(old *node, found bool) (*node, otter.ComputeOp) {
		if !found {
			return old, otter.CancelOp
		}
		old.mu.Lock()
		old.dead = true
		old.mu.Unlock()
		s.metrics.invalidations.Inc()
		return old, otter.InvalidateOp
	})
}

// newID returns an invalidation id in CloudFront's style: 14 characters,
// upper-case letters and digits.
func newID() string {
	return "I" + strings.ToUpper(rand.Text()[:13])
}

// history remembers the latest invalidations.
type history struct {
	mu    sync.Mutex
	order []string
	byID  map[string]Invalidation
}

func (h *history) add(inv Invalidation) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.order) == historySize {
		delete(h.byID, h.order[0])
		h.order = h.order[1:]
	}
	h.order = append(h.order, inv.ID)
	h.byID[inv.ID] = inv
}

func (h *history) get(id string) (Invalidation, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	inv, ok := h.byID[id]
	return inv, ok
}

// Invalidations returns the latest invalidations (at most 100), newest
// first, for the admin status page.
func (s *Store) Invalidations() []Invalidation {
	h := &s.history
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]Invalidation, 0, len(h.order))
	for i := len(h.order) - 1; i >= 0; i-- {
		out = append(out, h.byID[h.order[i]])
	}
	return out
}

// InvalidationHandler serves the admin API for invalidations:
//
//	POST /invalidations       {"paths": ["/orders/1", "/images/*"]}
//	                          → 201 {"id": "...", "paths": 2, "status": "Completed", ...}
//	GET  /invalidations/{id}  → 200 the same record (the latest 100 are kept)
func (s *Store) InvalidationHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /invalidations", func(w http.ResponseWriter, r *http.Request) {
		paths, ok := ReadInvalidationPaths(w, r)
		if !ok {
			return
		}
		inv, err := s.Invalidate(paths)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		w.Header().Set("Location", "/invalidations/"+inv.ID)
		writeJSON(w, http.StatusCreated, inv)
	})
	mux.HandleFunc("GET /invalidations/{id}", func(w http.ResponseWriter, r *http.Request) {
		inv, ok := s.history.get(r.PathValue("id"))
		if !ok {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such invalidation (the latest 100 are kept)"})
			return
		}
		writeJSON(w, http.StatusOK, inv)
	})
	return mux
}

// ReadInvalidationPaths reads the body of POST /invalidations,
// {"paths": [...]}, bounded to 1MiB. A malformed body is answered with 400
// here, and ok is false.
func ReadInvalidationPaths(w http.ResponseWriter, r *http.Request) (paths []string, ok bool) {
	var body struct {
		Paths []string `json:"paths"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "want a JSON object {\"paths\": [\"/path\", \"/prefix*\"]}: " + err.Error()})
		return nil, false
	}
	return body.Paths, true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
