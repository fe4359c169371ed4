package config

import (
	"fmt"
	"slices"
)

// fleetDefaults defaults the fleet: section, when there is one.
func (f *Edge) fleetDefaults() {
	if f.Fleet != nil {
		f.Fleet.Defaults()
	}
}

// validateFleet checks the fleet: section and that the shared tier names
// behaviors that exist and cache.
func (f *Edge) validateFleet(s *Source) {
	if f.Fleet == nil {
		return
	}
	s.Check("fleet", f.Fleet.Validate())
	for i, p := range f.Fleet.SharedTier.Behaviors {
		j := slices.IndexFunc(f.Behaviors, func(b Behavior) bool { return b.PathPattern == p })
		switch {
		case j < 0:
			s.Errorf(fmt.Sprintf("fleet.shared_tier.behaviors[%d]", i), "no behavior has path_pattern %q", p)
		case f.Behaviors[j].Cache == nil || !f.Behaviors[j].Cache.Enabled():
			s.Errorf(fmt.Sprintf("fleet.shared_tier.behaviors[%d]", i), "behavior %q does not cache: give it a cache section", p)
		}
	}
	if f.Fleet.SharedTier.MaxObjectSize > f.Cache.MaxObjectSize {
		s.Errorf("fleet.shared_tier.max_object_size", "%s is larger than cache.max_object_size %s: larger objects are never buffered", f.Fleet.SharedTier.MaxObjectSize, f.Cache.MaxObjectSize)
	}
}
