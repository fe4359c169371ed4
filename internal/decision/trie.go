package decision

import (
	"slices"
	"strings"
)

// route is one path of one operation, compiled.
type route struct {
	op        *operation
	path      int // index in the operation's paths, for errors and traces
	exact     bool
	pattern   string // as configured
	literals  int
	wildcards int
	params    []paramAt
}

// paramAt binds a parameter name to a segment of the relative path.
type paramAt struct {
	name string
	seg  int
}

// outranks reports whether r takes precedence over o: EXACT before
// PARAMETER, then more literal segments, then fewer wildcards.
func (r *route) outranks(o *route) bool {
	if r.exact != o.exact {
		return r.exact
	}
	if r.literals != o.literals {
		return r.literals > o.literals
	}
	return r.wildcards < o.wildcards
}

// sameRank reports whether neither route outranks the other.
func (r *route) sameRank(o *route) bool {
	return r.exact == o.exact && r.literals == o.literals && r.wildcards == o.wildcards
}

// node is a segment trie node. Lookup follows, for each path segment, the
// literal child (a map lookup), the parameter child, the glob children and
// the ** routes: its cost depends on the path's depth and on how many
// distinct wildcard shapes share a prefix, never on how many operations
// there are.
type node struct {
	lits  map[string]*node
	param *node
	globs []globEdge
	ends  []*route    // routes whose pattern ends here
	rests []restRoute // routes whose last segment ends in ** here
}

type globEdge struct {
	g    glob
	key  string
	next *node
}

type restRoute struct {
	g glob
	r *route
}

// table holds the operations of one API service.
type table struct {
	exact map[string][]*route
	root  node
}

func newTable() *table {
	return &table{exact: map[string][]*route{}}
}

// addExact adds an EXACT route.
func (t *table) addExact(r *route) {
	t.exact[r.pattern] = append(t.exact[r.pattern], r)
}

// addParameter adds a PARAMETER route compiled from p.
func (t *table) addParameter(r *route, p *pattern) {
	n := &t.root
	for i, s := range p.segs {
		switch s.kind {
		case segLiteral:
			if n.lits == nil {
				n.lits = map[string]*node{}
			}
			c := n.lits[s.lit]
			if c == nil {
				c = &node{}
				n.lits[s.lit] = c
			}
			n = c
		case segParam:
			if n.param == nil {
				n.param = &node{}
			}
			r.params = append(r.params, paramAt{name: s.name, seg: i})
			n = n.param
		case segGlob:
			k := s.glob.key()
			j := slices.IndexFunc(n.globs, func(e globEdge) bool { return e.key == k })
			if j < 0 {
				n.globs = append(n.globs, globEdge{g: s.glob, key: k, next: &node{}})
				j = len(n.globs) - 1
			}
			n = n.globs[j].next
		case segRest:
			n.rests = append(n.rests, restRoute{g: s.glob, r: r})
			return
		}
	}
	n.ends = append(n.ends, r)
}

// maxInlineSegs is how many path segments a lookup holds without
// allocating.
const maxInlineSegs = 16

// matcher is the state of one lookup.
type matcher struct {
	method  string
	best    *route
	matched bool     // some route matched the path, whatever its methods
	allow   []string // collected only to answer 405
	collect bool
}

// lookup finds the best route for m.method and the relative path rel
// (which starts with "/"), whose segments are segs. m.matched reports
// whether any route matched the path (with another method, when m.best is
// nil: a 405).
func (t *table) lookup(m *matcher, rel string, segs []string) {
	for _, r := range t.exact[rel] {
		m.consider(r)
	}
	if m.best != nil && !m.collect {
		return // EXACT outranks every PARAMETER route
	}
	m.walk(&t.root, segs, 0)
}

// splitSegments splits an absolute path into its segments: "/" is [""],
// "/a/" is ["a", ""].
func splitSegments(p string, dst []string) []string {
	p = p[1:]
	for {
		i := strings.IndexByte(p, '/')
		if i < 0 {
			return append(dst, p)
		}
		dst = append(dst, p[:i])
		p = p[i+1:]
	}
}

func (m *matcher) walk(n *node, segs []string, i int) {
	if i == len(segs) {
		for _, r := range n.ends {
			m.consider(r)
		}
		return
	}
	s := segs[i]
	if c := n.lits[s]; c != nil {
		m.walk(c, segs, i+1)
	}
	if n.param != nil && s != "" {
		m.walk(n.param, segs, i+1)
	}
	for k := range n.globs {
		if n.globs[k].g.match(s) {
			m.walk(n.globs[k].next, segs, i+1)
		}
	}
	for k := range n.rests {
		if n.rests[k].g.match(s) {
			m.consider(n.rests[k].r)
		}
	}
}

func (m *matcher) consider(r *route) {
	m.matched = true
	if m.collect {
		m.allow = r.op.addMethods(m.allow)
		return
	}
	if !r.op.allows(m.method) {
		return
	}
	if m.best == nil || r.outranks(m.best) {
		m.best = r
	}
}

// coMatches calls fn for every route of t that may match some path that p
// also matches (an over-approximation only where globs meet **). It finds
// precedence ties at load.
func (t *table) coMatches(segs []segment, fn func(*route)) {
	coWalk(&t.root, segs, fn)
}

func coWalk(n *node, segs []segment, fn func(*route)) {
	if len(segs) == 0 {
		for _, r := range n.ends {
			fn(r)
		}
		return
	}
	s, rest := segs[0], segs[1:]
	// meets reports whether a path segment can match both s and a trie
	// edge with glob g (literal edges pass a one-part glob).
	meets := func(g glob) bool {
		switch s.kind {
		case segLiteral:
			return g.match(s.lit)
		case segParam:
			return len(g.parts) > 1 || g.parts[0] != "" // any non-empty segment
		default:
			return s.glob.intersects(g)
		}
	}
	next := func(c *node) {
		if s.kind == segRest {
			allRoutes(c, fn)
		} else {
			coWalk(c, rest, fn)
		}
	}
	for k, c := range n.lits {
		if meets(glob{parts: []string{k}}) {
			next(c)
		}
	}
	if n.param != nil && !(s.kind == segLiteral && s.lit == "") {
		next(n.param)
	}
	for _, e := range n.globs {
		if meets(e.g) {
			next(e.next)
		}
	}
	for _, rr := range n.rests {
		if meets(rr.g) {
			fn(rr.r)
		}
	}
}

// allRoutes calls fn for every route under n.
func allRoutes(n *node, fn func(*route)) {
	for _, r := range n.ends {
		fn(r)
	}
	for _, rr := range n.rests {
		fn(rr.r)
	}
	for _, c := range n.lits {
		allRoutes(c, fn)
	}
	if n.param != nil {
		allRoutes(n.param, fn)
	}
	for _, e := range n.globs {
		allRoutes(e.next, fn)
	}
}
