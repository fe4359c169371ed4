package edge

import (
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/edgeward/edgeward/internal/pct"
)

// pattern is a compiled CloudFront path pattern: "*" matches any run of
// characters including "/", "?" exactly one; everything else matches
// itself, case-sensitively. It is matched against the canonical escaped
// path, so its literal parts are written in canonical form at compile time
// ("%7e" becomes "~", "{" becomes "%7B"), and "?" matches one byte of that
// form.
type pattern struct {
	src string
	// chunks are the parts between stars; a pattern without a star has
	// exactly one chunk, which must match the whole path.
	chunks []chunk
}

type chunk struct {
	lit  string
	wild bool // lit contains '?'
}

// compilePattern compiles a path pattern. As in CloudFront, a leading "/"
// is optional: "images/*.jpg" and "/images/*.jpg" are the same pattern.
func compilePattern(src string) (pattern, error) {
	if src == "" {
		return pattern{}, errors.New("empty (use \"*\" to match every path)")
	}
	norm, err := normalizePattern(src)
	if err != nil {
		return pattern{}, err
	}
	if norm[0] != '/' && norm != "*" {
		norm = "/" + norm
	}
	p := pattern{src: src}
	for part := range strings.SplitSeq(norm, "*") {
		p.chunks = append(p.chunks, chunk{lit: part, wild: strings.IndexByte(part, '?') >= 0})
	}
	return p, nil
}

// normalizePattern writes the literal characters of a pattern in the form
// Canonicalize gives them, so that a pattern can match a canonical path.
func normalizePattern(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", errors.New("not valid UTF-8")
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		encoded := false
		if c == '%' {
			if i+2 >= len(s) {
				return "", errors.New("truncated percent-encoding")
			}
			d, ok := pct.At(s, i)
			if !ok {
				return "", errors.New("invalid percent-encoding")
			}
			c, encoded = d, true
			i += 2
		}
		switch {
		case !encoded && (c == '*' || c == '?' || c == '/'):
			b.WriteByte(c)
		case c >= 0x80:
			b.WriteByte('%')
			b.WriteByte(upperHex[c>>4])
			b.WriteByte(upperHex[c&15])
		case pathClass[c] == classRefuse, c == '/' && encoded:
			return "", errors.New("contains a character no canonical path has (control character, backslash or encoded slash)")
		case pathClass[c] == classUnreserved, pathClass[c] == classRaw && !encoded:
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(upperHex[c>>4])
			b.WriteByte(upperHex[c&15])
		}
	}
	return b.String(), nil
}

// String returns the pattern in its normalised form.
func (pt *pattern) String() string {
	var b strings.Builder
	for i, c := range pt.chunks {
		if i > 0 {
			b.WriteByte('*')
		}
		b.WriteString(c.lit)
	}
	return b.String()
}

// match reports whether the canonical path p matches.
func (pt *pattern) match(p string) bool {
	cs := pt.chunks
	first := cs[0]
	if len(cs) == 1 {
		return len(p) == len(first.lit) && first.equal(p)
	}
	if len(p) < len(first.lit) || !first.equal(p[:len(first.lit)]) {
		return false
	}
	p = p[len(first.lit):]
	last := cs[len(cs)-1]
	if len(p) < len(last.lit) || !last.equal(p[len(p)-len(last.lit):]) {
		return false
	}
	p = p[:len(p)-len(last.lit)]
	// Middle chunks have a fixed length, so taking each at its leftmost
	// occurrence never loses a match.
	for _, c := range cs[1 : len(cs)-1] {
		i := c.index(p)
		if i < 0 {
			return false
		}
		p = p[i+len(c.lit):]
	}
	return true
}

// equal reports whether s (of the chunk's length) matches the chunk.
func (c chunk) equal(s string) bool {
	if !c.wild {
		return s == c.lit
	}
	for i := 0; i < len(c.lit); i++ {
		if c.lit[i] != '?' && c.lit[i] != s[i] {
			return false
		}
	}
	return true
}

// index returns the leftmost position in s where the chunk matches, or -1.
func (c chunk) index(s string) int {
	if !c.wild {
		return strings.Index(s, c.lit)
	}
	for i := 0; i+len(c.lit) <= len(s); i++ {
		if c.equal(s[i : i+len(c.lit)]) {
			return i
		}
	}
	return -1
}
