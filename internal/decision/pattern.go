package decision

import (
	"errors"
	"fmt"
	"strings"
)

// segKind is what one segment of a PARAMETER pattern matches.
type segKind uint8

const (
	segLiteral segKind = iota // the segment, verbatim
	segParam                  // {name}: one whole non-empty segment, bound
	segGlob                   // literals and *: within one segment
	segRest                   // ends in **: this segment's prefix, then the rest of the path
)

// segment is one compiled segment of a PARAMETER pattern.
type segment struct {
	kind segKind
	lit  string // segLiteral: the unescaped text
	name string // segParam
	glob glob   // segGlob; segRest: the prefix before ** with a trailing *
}

// pattern is a compiled PARAMETER pattern.
type pattern struct {
	segs      []segment
	literals  int // segments without wildcards or parameters
	wildcards int // every *, ** and {name}
	params    []string
}

// glob matches one segment: parts are the literal runs between stars, so a
// glob has len(parts)-1 stars ("a*b" is ["a","b"], "*" is ["",""]).
type glob struct {
	parts []string
}

// key is a string that is equal for equal globs.
func (g glob) key() string { return strings.Join(g.parts, "\x00") }

// match reports whether s (one segment) matches g.
func (g glob) match(s string) bool {
	p := g.parts
	if len(p) == 1 {
		return s == p[0]
	}
	if !strings.HasPrefix(s, p[0]) {
		return false
	}
	s = s[len(p[0]):]
	last := p[len(p)-1]
	if len(s) < len(last) || !strings.HasSuffix(s, last) {
		return false
	}
	s = s[:len(s)-len(last)]
	for _, mid := range p[1 : len(p)-1] {
		i := strings.Index(s, mid)
		if i < 0 {
			return false
		}
		s = s[i+len(mid):]
	}
	return true
}

// intersects reports whether some segment matches both g and h. Used at
// load only, to find precedence ties.
func (g glob) intersects(h glob) bool {
	a, b := g.tokens(), h.tokens()
	memo := make(map[[2]int]bool)
	var rec func(i, j int) bool
	rec = func(i, j int) bool {
		if v, ok := memo[[2]int{i, j}]; ok {
			return v
		}
		var r bool
		switch {
		case i == len(a) && j == len(b):
			r = true
		case i < len(a) && a[i] < 0:
			r = rec(i+1, j) || (j < len(b) && rec(i, j+1))
		case j < len(b) && b[j] < 0:
			r = rec(i, j+1) || (i < len(a) && rec(i+1, j))
		case i < len(a) && j < len(b):
			r = a[i] == b[j] && rec(i+1, j+1)
		}
		memo[[2]int{i, j}] = r
		return r
	}
	return rec(0, 0)
}

// tokens spells g as bytes with -1 for each star.
func (g glob) tokens() []int {
	var t []int
	for i, p := range g.parts {
		if i > 0 {
			t = append(t, -1)
		}
		for j := 0; j < len(p); j++ {
			t = append(t, int(p[j]))
		}
	}
	return t
}

// withStar returns g followed by a star: the prefix of a ** segment.
func (g glob) withStar() glob {
	parts := append(append([]string(nil), g.parts...), "")
	return glob{parts: parts}
}

// parseParameter compiles a PARAMETER pattern (PingOne's grammar): it starts
// with "/"; * matches any characters within one segment; ** matches the rest
// of the path and ends the pattern; {name} is a whole segment, bound to
// name; \{ \} \\ \* escape. It must contain a wildcard or a parameter.
func parseParameter(s string) (*pattern, error) {
	if err := checkPatternText(s); err != nil {
		return nil, err
	}
	p := &pattern{}
	seen := map[string]bool{}
	raw := s[1:]
	for i := 0; ; {
		// One segment: raw[i:end].
		var (
			parts = []string{""}
			stars int
			rest  bool
			cur   strings.Builder
		)
		start := i
		for i < len(raw) && raw[i] != '/' {
			c := raw[i]
			switch {
			case rest:
				return nil, errors.New(`"**" must be last`)
			case c == '\\':
				if i+1 >= len(raw) || strings.IndexByte(`{}\*`, raw[i+1]) < 0 {
					return nil, fmt.Errorf("invalid escape at offset %d (only \\{ \\} \\\\ \\* are escapes)", i+1)
				}
				cur.WriteByte(raw[i+1])
				i += 2
				continue
			case c == '*':
				if i+1 < len(raw) && raw[i+1] == '*' {
					rest = true
					parts[len(parts)-1] += cur.String()
					cur.Reset()
					i += 2
					continue
				}
				parts[len(parts)-1] += cur.String()
				cur.Reset()
				parts = append(parts, "")
				stars++
			case c == '{':
				end := strings.IndexByte(raw[i:], '}')
				if i != start || end < 0 {
					return nil, errors.New(`a parameter must be a whole segment, as in /{name}`)
				}
				name := raw[i+1 : i+end]
				after := i + end + 1
				switch {
				case name == "":
					return nil, errors.New(`empty parameter name "{}"`)
				case strings.ContainsAny(name, `{\/`):
					return nil, fmt.Errorf("parameter name %q may not contain {, }, \\ or /", name)
				case after < len(raw) && raw[after] != '/':
					return nil, errors.New(`a parameter must be a whole segment, as in /{name}`)
				case seen[name]:
					return nil, fmt.Errorf("parameter {%s} appears twice", name)
				}
				seen[name] = true
				p.segs = append(p.segs, segment{kind: segParam, name: name})
				p.params = append(p.params, name)
				p.wildcards++
				i = after
				goto next
			case c == '}':
				return nil, errors.New(`unbalanced "}" (escape it as \})`)
			default:
				cur.WriteByte(c)
			}
			i++
		}
		parts[len(parts)-1] += cur.String()
		switch {
		case rest:
			p.segs = append(p.segs, segment{kind: segRest, glob: glob{parts: parts}.withStar()})
			p.wildcards += stars + 1
		case stars > 0:
			p.segs = append(p.segs, segment{kind: segGlob, glob: glob{parts: parts}})
			p.wildcards += stars
		default:
			lit := parts[0]
			if lit == "." || lit == ".." {
				return nil, errors.New(`dot segments ("/./", "/../") are not allowed`)
			}
			if lit == "" && i < len(raw) {
				return nil, errors.New(`empty segment ("//") is not allowed`)
			}
			p.segs = append(p.segs, segment{kind: segLiteral, lit: lit})
			p.literals++
		}
	next:
		if i >= len(raw) {
			break
		}
		if p.segs[len(p.segs)-1].kind == segRest {
			return nil, errors.New(`"**" must be last`)
		}
		i++ // the '/'
	}
	if p.wildcards == 0 {
		return nil, errors.New("a PARAMETER pattern must contain a wildcard or a {parameter} (use type EXACT for a fixed path)")
	}
	return p, nil
}

// checkExact validates an EXACT pattern: an absolute path in canonical
// form, compared verbatim with the request's relative path.
func checkExact(s string) error {
	if err := checkPatternText(s); err != nil {
		return err
	}
	for i, seg := range strings.Split(s[1:], "/") {
		switch {
		case seg == "." || seg == "..":
			return errors.New(`dot segments ("/./", "/../") are not allowed`)
		case seg == "" && i < strings.Count(s[1:], "/"):
			return errors.New(`empty segment ("//") is not allowed`)
		}
	}
	return nil
}

// checkPatternText checks what both pattern types require.
func checkPatternText(s string) error {
	if !strings.HasPrefix(s, "/") {
		return errors.New(`must start with "/"`)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f {
			return fmt.Errorf("control character at offset %d", i)
		}
	}
	return nil
}
