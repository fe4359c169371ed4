package httpcache

import (
	"errors"
	"fmt"
	"strings"
)

// This file is what a fleet (internal/fleet) needs from a Store beyond
// the admin API: applying an invalidation another node accepted, and
// dropping everything when a node cannot prove it saw every invalidation.

// Apply removes what an invalidation accepted elsewhere names (paths in
// Invalidate's syntax), without recording it: the node that accepted it
// keeps the record. Like Invalidate, fills in flight for the paths do not
// store.
func (s *Store) Apply(paths []string) error {
	targets, err := InvalidationTargets(paths)
	if err != nil {
		return err
	}
	for _, t := range targets {
		if p, ok := strings.CutSuffix(t, "*"); ok {
			s.invalidatePrefix(p)
		} else {
			s.invalidatePath(p)
		}
	}
	return nil
}

// Purge removes every object, and bars every fill in flight from storing.
func (s *Store) Purge() {
	s.invalidatePrefix("")
}

// InvalidationTargets checks paths as Invalidate does and returns them
// decoded, a prefix keeping its trailing "*": the paths as the cache
// stores them.
func InvalidationTargets(paths []string) ([]string, error) {
	var errs []error
	if len(paths) == 0 {
		errs = append(errs, errors.New("paths: at least one path is required"))
	}
	if len(paths) > MaxInvalidationPaths {
		errs = append(errs, fmt.Errorf("paths: %d paths, at most %d per invalidation", len(paths), MaxInvalidationPaths))
	}
	out := make([]string, 0, len(paths))
	for i, p := range paths {
		t, err := parseInvalidationPath(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("paths[%d]: %w", i, err))
			continue
		}
		out = append(out, t)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// History returns the record of the invalidation id accepted by this
// store, if it is among the latest kept.
func (s *Store) History(id string) (Invalidation, bool) {
	return s.history.get(id)
}
