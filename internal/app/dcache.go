package app

import (
	"encoding/json"
	"net/http"
	"slices"

	"github.com/edgeward/edgeward/internal/authorizer"
)

// FlushDecisionCaches drops the decisions kept by the authorize functions
// of the current snapshot (all of them when function is empty) and returns
// the names of the functions flushed. A reload needs no flush: the new
// snapshot's functions start with empty caches. A fleet-wide flush calls
// this on every node.
func (e *Edge) FlushDecisionCaches(function string) []string {
	s := e.snap.Load()
	if s == nil {
		return nil
	}
	flushed := []string{}
	for _, b := range s.behaviors {
		a, ok := b.Function.(*authorizer.Authorizer)
		if !ok || !a.CacheEnabled() || slices.Contains(flushed, a.Name()) || (function != "" && a.Name() != function) {
			continue
		}
		a.Flush()
		flushed = append(flushed, a.Name())
	}
	return flushed
}

// flushDecisionCache serves POST /decision-cache/flush on the admin
// listener: ?function=NAME flushes one function, no parameter flushes
// every function with a decision cache. It answers the names flushed; a
// named function with no decision cache is 404.
func (e *Edge) flushDecisionCache(w http.ResponseWriter, r *http.Request) {
	fn := r.URL.Query().Get("function")
	flushed := e.FlushDecisionCaches(fn)
	w.Header().Set("Content-Type", "application/json")
	if fn != "" && len(flushed) == 0 {
		w.WriteHeader(http.StatusNotFound)
		json.NewEncoder(w).Encode(map[string]string{"error": "no function " + fn + " with a decision cache"})
		return
	}
	json.NewEncoder(w).Encode(map[string][]string{"flushed": flushed})
}
