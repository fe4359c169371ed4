package edge

import (
	"strconv"
	"unicode/utf8"

	"github.com/edgeward/edgeward/internal/pct"
)

// PathOptions tune path canonicalisation (see Canonicalize). The zero value
// is the strict default.
type PathOptions struct {
	// KeepEmptySegments keeps "//" instead of merging it into "/".
	KeepEmptySegments bool
	// AllowEncodedSlash lets %2F and %5C through (kept encoded) instead of
	// refusing the request with 400.
	AllowEncodedSlash bool
	// AllowDoubleEncoding lets "%25" followed by two hex digits through
	// instead of refusing the request with 400.
	AllowDoubleEncoding bool
}

// PathError says why Canonicalize refused a path. The edge answers it with
// 400; Reason is safe to show to the viewer.
type PathError struct {
	// Offset is the byte offset in the input where the problem starts.
	Offset int
	// Reason says what was wrong, e.g. "encoded slash (%2F)".
	Reason string
}

// Error implements error.
func (e *PathError) Error() string {
	return "path: " + e.Reason + " at byte " + strconv.Itoa(e.Offset)
}

// Canonicalize returns the canonical form of the request path p (an escaped
// path as sent by the client, without the query), or a *PathError for a
// path the edge refuses (400). The canonical path is the one value that is
// matched against behaviors, authorized, used as the cache key and sent to
// the origin, so that no spelling of a path reaches an origin as another
// resource than the one that was authorized.
//
// The rules, applied to each segment between raw slashes:
//
//   - p must start with "/".
//   - Percent-encoded unreserved characters (RFC 3986 section 2.3: ALPHA,
//     DIGIT, "-", ".", "_", "~") are decoded; every other percent-encoding
//     is kept, with its hex digits in upper case. Reserved characters keep
//     their form: "%3B" and ";" stay different, as RFC 3986 section 6.2.2.2
//     requires.
//   - Characters that may not appear raw in a path (space, '"', '<', '{',
//     '#', non-ASCII bytes ...) are percent-encoded.
//   - Dot segments ("." and "..", in any spelling such as "%2e%2E") are
//     resolved as in RFC 3986 section 5.2.4; ".." never climbs above "/".
//   - Empty segments are merged ("/a//b" is "/a/b") unless
//     KeepEmptySegments; a trailing slash is kept.
//
// Refused, because origins disagree on what they mean: "%2F" and "%5C"
// (unless AllowEncodedSlash), a raw "\", "%00" and every other control
// character raw or encoded, an invalid percent-encoding, bytes that do not
// decode to valid UTF-8 (overlong forms and surrogates included), a dot
// segment with parameters ("..;x", ".;", ".%3B"), and "%25" followed by two
// hex digits, which an origin that decodes twice would read as another
// character (unless AllowDoubleEncoding).
//
// Canonicalize is idempotent, and allocates nothing when p is already
// canonical.
func Canonicalize(p string, opt PathOptions) (string, error) {
	if p == "" || p[0] != '/' {
		return "", &PathError{Offset: 0, Reason: "does not start with /"}
	}
	if isCanonical(p, opt) {
		return p, nil
	}
	return canonicalize(p, opt)
}

// Character classes of the canonical form.
const (
	classEncode     = iota // percent-encoded in the canonical form
	classUnreserved        // ALPHA DIGIT - . _ ~: always raw
	classRaw               // sub-delims, ':' and '@': kept in the form received
	classRefuse            // control characters and '\'
)

// pathClass classifies every byte value. It is a constant table (never
// written after initialisation).
var pathClass = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		switch {
		case c < 0x20 || c == 0x7f || c == '\\':
			t[c] = classRefuse
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '-', c == '.', c == '_', c == '~':
			t[c] = classUnreserved
		case c == '!', c == '$', c == '&', c == '\'', c == '(', c == ')', c == '*',
			c == '+', c == ',', c == ';', c == '=', c == ':', c == '@':
			t[c] = classRaw
		default:
			t[c] = classEncode
		}
	}
	return t
}()

// isCanonical reports whether p (starting with "/") is already in canonical
// form: only characters that stay raw, no dot segment, no dot segment with
// parameters, no empty segment (unless kept).
func isCanonical(p string, opt PathOptions) bool {
	seg := 1
	for i := 1; i <= len(p); i++ {
		if i < len(p) && p[i] != '/' {
			if c := pathClass[p[i]]; c != classUnreserved && c != classRaw {
				return false
			}
			continue
		}
		s := p[seg:i]
		switch {
		case s == "":
			if !opt.KeepEmptySegments && i < len(p) {
				return false
			}
		case s[0] == '.':
			if dotSegment(s) {
				return false
			}
		}
		seg = i + 1
	}
	return true
}

// dotSegment reports whether the canonical segment s is "." or "..", or
// one of them followed by parameters (";..." or "%3B...").
func dotSegment(s string) bool {
	n := 0
	for n < len(s) && n < 2 && s[n] == '.' {
		n++
	}
	if n == 0 {
		return false
	}
	rest := s[n:]
	return rest == "" || rest[0] == ';' || (len(rest) >= 3 && rest[:3] == "%3B")
}

const upperHex = "0123456789ABCDEF"

// canonicalize is the slow path of Canonicalize: it rebuilds the path in
// buf, one segment at a time, each segment preceded by "/".
func canonicalize(p string, opt PathOptions) (string, error) {
	buf := make([]byte, 0, len(p)+8)
	trailing := false // the output ends with a slash after the last segment
	i := 1
	for {
		start, in := len(buf), i
		buf = append(buf, '/')
		var err error
		if buf, i, err = appendSegment(buf, p, i, opt); err != nil {
			return "", err
		}
		seg := buf[start+1:]
		switch {
		case len(seg) == 0:
			if opt.KeepEmptySegments {
				trailing = false
			} else {
				buf, trailing = buf[:start], true
			}
		case string(seg) == ".":
			buf, trailing = buf[:start], true
		case string(seg) == "..":
			buf, trailing = buf[:start], true
			for len(buf) > 0 && buf[len(buf)-1] != '/' {
				buf = buf[:len(buf)-1]
			}
			if len(buf) > 0 {
				buf = buf[:len(buf)-1]
			}
		case dotSegment(string(seg)):
			return "", &PathError{Offset: in, Reason: "dot segment with parameters"}
		default:
			trailing = false
		}
		if i >= len(p) {
			break
		}
		i++ // the raw '/'
	}
	if trailing || len(buf) == 0 {
		buf = append(buf, '/')
	}
	return string(buf), nil
}

// appendSegment appends the canonical form of the segment of p starting at
// i to buf, and returns the index of the '/' (or end) that ends it.
func appendSegment(buf []byte, p string, i int, opt PathOptions) ([]byte, int, error) {
	segStart, in := len(buf), i
	hi := -1 // start in buf of the current run of non-ASCII bytes, or -1
	var hiRun [16]byte
	run := hiRun[:0]
	for ; i < len(p) && p[i] != '/'; i++ {
		c, at, encoded := p[i], i, false
		if c == '%' {
			if i+2 >= len(p) {
				return nil, i, &PathError{Offset: at, Reason: "truncated percent-encoding"}
			}
			d, ok := pct.At(p, i)
			if !ok {
				return nil, i, &PathError{Offset: at, Reason: "invalid percent-encoding"}
			}
			c, encoded = d, true
			i += 2
		}
		if c >= 0x80 {
			if hi < 0 {
				hi = len(buf)
			}
			run = append(run, c)
			buf = append(buf, '%', upperHex[c>>4], upperHex[c&15])
			continue
		}
		if hi >= 0 {
			if !utf8.Valid(run) {
				return nil, i, &PathError{Offset: at, Reason: "invalid UTF-8"}
			}
			hi, run = -1, run[:0]
		}
		switch pathClass[c] {
		case classRefuse:
			if c == '\\' && encoded && opt.AllowEncodedSlash {
				buf = append(buf, "%5C"...)
				continue
			}
			return nil, i, &PathError{Offset: at, Reason: refuseReason(c, encoded)}
		case classUnreserved:
			buf = append(buf, c)
		case classRaw:
			if encoded {
				buf = append(buf, '%', upperHex[c>>4], upperHex[c&15])
			} else {
				buf = append(buf, c)
			}
		default:
			if c == '/' && !opt.AllowEncodedSlash {
				return nil, i, &PathError{Offset: at, Reason: "encoded slash (%2F)"}
			}
			buf = append(buf, '%', upperHex[c>>4], upperHex[c&15])
		}
	}
	if hi >= 0 && !utf8.Valid(run) {
		return nil, i, &PathError{Offset: i, Reason: "invalid UTF-8"}
	}
	if !opt.AllowDoubleEncoding {
		if doubleEncoded(buf[segStart:]) >= 0 {
			return nil, i, &PathError{Offset: in, Reason: "double percent-encoding (%25 followed by hex digits)"}
		}
	}
	return buf, i, nil
}

func refuseReason(c byte, encoded bool) string {
	switch {
	case c == '\\' && encoded:
		return "encoded backslash (%5C)"
	case c == '\\':
		return "backslash"
	case c == 0:
		return "NUL byte"
	}
	return "control character"
}

// doubleEncoded returns the index in the canonical segment seg of a "%25"
// followed by two hex digits, or -1. Hex digits are unreserved, so they are
// always raw in the canonical form whatever their spelling in the input.
func doubleEncoded(seg []byte) int {
	for j := 0; j+4 < len(seg); j++ {
		if seg[j] == '%' && seg[j+1] == '2' && seg[j+2] == '5' {
			_, ok1 := pct.Digit(seg[j+3])
			_, ok2 := pct.Digit(seg[j+4])
			if ok1 && ok2 {
				return j
			}
		}
	}
	return -1
}
