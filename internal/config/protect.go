package config

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
)

// validateProtections checks the protections section and the behaviors'
// references to its sets. A set whose rate rules are keyed on identity
// must read a header the edge owns (stripped from every inbound request,
// so only the viewer-request function can have set it).
func (f *Edge) validateProtections(s *Source) {
	s.Check("protections", f.Protections.Validate())
	names := slices.Sorted(maps.Keys(f.Protections.Sets))
	for i, b := range f.Behaviors {
		if b.Protection == "" {
			continue
		}
		if _, ok := f.Protections.Sets[b.Protection]; !ok {
			s.Errorf(fmt.Sprintf("behaviors[%d].protection", i), "unknown protection set %q (known: %s)", b.Protection, strings.Join(names, ", "))
		}
	}
	owned := f.ownedHeaderNames()
	for _, name := range names {
		set := f.Protections.Sets[name]
		for j, r := range set.RateRules {
			if !slices.Contains(r.Key, "identity") {
				continue
			}
			if !slices.Contains(owned, http.CanonicalHeaderKey(set.IdentityHeader)) {
				s.Errorf(fmt.Sprintf("protections.sets.%s.rate_rules[%d].key", name, j),
					"identity is read from %s, which the edge does not own: set it in a decision statement (set_headers) or list it in owned_headers, or change identity_header", set.IdentityHeader)
			}
		}
	}
}

// ownedHeaderNames are the headers stripped from every inbound request:
// owned_headers and those the embedded decision service sets.
func (f *Edge) ownedHeaderNames() []string {
	var out []string
	for _, h := range f.OwnedHeaders {
		out = append(out, http.CanonicalHeaderKey(h))
	}
	if f.Decision != nil {
		for _, h := range f.Decision.HeaderNames() {
			out = append(out, http.CanonicalHeaderKey(h))
		}
	}
	return out
}
