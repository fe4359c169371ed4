package config

import (
	"fmt"
	"maps"
	"net"
	"regexp"
	"slices"
	"strings"

	"github.com/edgeward/edgeward/internal/authorizer"
	"github.com/edgeward/edgeward/internal/edge"
)

// DefaultAdmin is the admin listener's default address.
const DefaultAdmin = "127.0.0.1:9901"

// ImplicitFunction is the function name that exists without a functions
// entry when the file has a decision section: the authorize function
// calling the embedded decision service.
const ImplicitFunction = "authorize"

// LoadEdge reads, decodes, defaults and validates an edge file. The error
// is a Problems listing everything wrong, each with file, line and key.
func LoadEdge(path string, lookup LookupEnv) (*Edge, error) {
	name, data, err := readFile(path)
	if err != nil {
		return nil, err
	}
	return ParseEdge(name, data, lookup)
}

// ParseEdge is LoadEdge for a document already in memory; name is used in
// error messages.
func ParseEdge(name string, data []byte, lookup LookupEnv) (*Edge, error) {
	var f Edge
	s := decode(name, data, &f, lookup)
	if err := s.Err(); err != nil {
		return nil, err
	}
	f.resolvePolicies(s)
	f.defaults()
	f.validate(s)
	if err := s.Err(); err != nil {
		return nil, err
	}
	return &f, nil
}

// defaults applies every default in one place: each package's own, then
// the file's.
func (f *Edge) defaults() {
	f.Config.Defaults()
	if f.Admin == "" {
		f.Admin = DefaultAdmin
	}
	for id, o := range f.Origins {
		o.Defaults()
		f.Origins[id] = o
	}
	for i := range f.Behaviors {
		b := &f.Behaviors[i]
		if len(b.AllowedMethods) == 0 {
			b.AllowedMethods = []string{"GET", "HEAD"}
		}
		for j, m := range b.AllowedMethods {
			b.AllowedMethods[j] = strings.ToUpper(m)
		}
		if b.Cache != nil {
			b.Cache.Defaults()
		}
	}
	if f.Decision != nil {
		f.Decision.Defaults()
		if _, ok := f.Functions[ImplicitFunction]; !ok && f.usesFunction(ImplicitFunction) {
			if f.Functions == nil {
				f.Functions = map[string]authorizer.Config{}
			}
			f.Functions[ImplicitFunction] = authorizer.Config{}
		}
	}
	for name, fn := range f.Functions {
		fn.Defaults()
		f.Functions[name] = fn
	}
	f.Cache.Defaults()
	f.Logging.defaults()
	f.fleetDefaults()
	f.Protections.Defaults()
	f.Tracing.Defaults()
}

func (f *Edge) usesFunction(name string) bool {
	for _, b := range f.Behaviors {
		if b.ViewerRequest == name {
			return true
		}
	}
	return false
}

var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*$`)

func (f *Edge) validate(s *Source) {
	s.Check("", f.Config.Validate())
	checkTLS(s, "tls", &f.TLS)
	if f.Admin != "off" {
		if _, _, err := net.SplitHostPort(f.Admin); err != nil {
			s.Errorf("admin", "want host:port or off, got %q", f.Admin)
		}
	}

	if len(f.Origins) == 0 {
		s.Errorf("origins", "at least one origin is required")
	}
	originIDs := slices.Sorted(maps.Keys(f.Origins))
	for _, id := range originIDs {
		if !idPattern.MatchString(id) {
			s.Errorf("origins."+id, "origin id must be letters, digits, - and _")
		}
		o := f.Origins[id]
		s.Check("origins."+id, o.Validate())
	}

	functionNames := slices.Sorted(maps.Keys(f.Functions))
	for _, name := range functionNames {
		fn := f.Functions[name]
		s.Check("functions."+name, fn.Validate())
		if fn.Remote() {
			checkCA(s, "functions."+name+".ca_file", fn.CAFile)
		}
		if !fn.Remote() && f.Decision == nil {
			s.Errorf("functions."+name+".service_url", "required: there is no decision section to call in-process (set service_url to a sideband service URL, or add decision:)")
		}
	}

	if len(f.Behaviors) == 0 {
		msg := `at least one behavior is required (the last one with path_pattern "*")`
		if s.Has("decision") && !s.Has("origins") {
			msg += "; this looks like a standalone decision service's file: run it with `edgeward decision serve -c FILE` (validate tells the kind from the content)"
		}
		s.Errorf("behaviors", "%s", msg)
	} else {
		// Patterns and methods are the edge's rules, checked by the edge;
		// origins, functions and cache policies are resolved here by name.
		rules := make([]edge.Behavior, len(f.Behaviors))
		for i, b := range f.Behaviors {
			rules[i] = edge.Behavior{PathPattern: b.PathPattern, AllowedMethods: b.AllowedMethods}
		}
		s.Check("", edge.ValidateBehaviors(rules))
	}
	for i, b := range f.Behaviors {
		p := fmt.Sprintf("behaviors[%d]", i)
		if _, ok := f.Origins[b.Origin]; !ok {
			if b.Origin == "" {
				s.Errorf(p+".origin", "required (known: %s)", strings.Join(originIDs, ", "))
			} else {
				s.Errorf(p+".origin", "unknown origin %q (known: %s)", b.Origin, strings.Join(originIDs, ", "))
			}
		}
		if b.ViewerRequest != "" {
			if _, ok := f.Functions[b.ViewerRequest]; !ok {
				s.Errorf(p+".viewer_request", "%s", unknownFunction(b.ViewerRequest, functionNames, f.Decision != nil))
			}
		}
		if b.Cache != nil {
			s.Check(p+".cache", b.Cache.Validate())
		}
	}

	if f.Decision != nil {
		s.Check("decision", f.Decision.Validate())
	}
	s.Check("cache", f.Cache.Validate())
	f.Logging.validate(s, "logging")
	f.validateFleet(s)
	f.validateProtections(s)
	s.Check("tracing", f.Tracing.Validate())
}

// unknownFunction says what is wrong with a viewer_request naming no
// function, and how to define it: "authorize" exists on its own only with
// a decision section.
func unknownFunction(name string, known []string, hasDecision bool) string {
	list := "none"
	if len(known) > 0 {
		list = strings.Join(known, ", ")
	}
	msg := fmt.Sprintf("unknown function %q (known: %s)", name, list)
	if name == ImplicitFunction && !hasDecision {
		return msg + `: add a decision: section (the embedded decision service, which defines "authorize"), or define it under functions: with the service_url of a decision service`
	}
	return msg + ": define it under functions:"
}
