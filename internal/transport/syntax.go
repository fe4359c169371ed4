package transport

import "bytes"

// The lexical rules the framing guard applies (RFC 9110, RFC 9112), as
// strict as net/http's server or stricter.

// badTarget says why net/http would refuse a request target (control
// bytes anywhere, an invalid percent-encoding in the path), or "".
func badTarget(t []byte) string {
	inPath := true
	for i := 0; i < len(t); i++ {
		c := t[i]
		switch {
		case c < 0x20 || c == 0x7f:
			return "control character in the request target"
		case c == '?':
			inPath = false
		case c == '%' && inPath:
			if i+2 >= len(t) {
				return "invalid percent-encoding in the path"
			}
			if _, ok := unhex(t[i+1]); !ok {
				return "invalid percent-encoding in the path"
			}
			if _, ok := unhex(t[i+2]); !ok {
				return "invalid percent-encoding in the path"
			}
		}
	}
	return ""
}

// protoByte reports whether b can be byte i of "HTTP/d.d".
func protoByte(i int, b byte) bool {
	const proto = "HTTP/#.#"
	switch {
	case i >= len(proto):
		return false
	case proto[i] == '#':
		return '0' <= b && b <= '9'
	}
	return b == proto[i]
}

// validProto reports whether p is an HTTP-version net/http reads
// ("HTTP/" digit "." digit; it answers those other than 1.x with 505).
func validProto(p []byte) bool {
	if len(p) != len("HTTP/1.1") {
		return false
	}
	for i, b := range p {
		if !protoByte(i, b) {
			return false
		}
	}
	return true
}

// containsFold reports whether b contains the lower-case ASCII s, ignoring
// case.
func containsFold(b []byte, s string) bool {
	for i := 0; i+len(s) <= len(b); i++ {
		if asciiEqualFold(b[i:i+len(s)], s) {
			return true
		}
	}
	return false
}

// underscoreFraming reports whether name is Content-Length or
// Transfer-Encoding with an underscore for a dash. Such a header is not a
// framing header to net/http, so it would reach the origin as an ordinary
// one; but CGI, WSGI and Rack map "-" and "_" to the same variable, and an
// origin (or a server in front of it) that reads it as a framing header
// frames the forwarded message differently from the edge.
func underscoreFraming(name []byte) bool {
	if len(name) != len("content-length") && len(name) != len("transfer-encoding") {
		return false
	}
	if bytes.IndexByte(name, '_') < 0 {
		return false
	}
	alias := func(want string) bool {
		if len(name) != len(want) {
			return false
		}
		for i := range name {
			c := name[i]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c == '_' {
				c = '-'
			}
			if c != want[i] {
				return false
			}
		}
		return true
	}
	return alias("content-length") || alias("transfer-encoding")
}

func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

func asciiEqualFold(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i := range b {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// parseDecimal reads a Content-Length value as net/http does: digits only.
func parseDecimal(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, true
}

func parseHex(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 16 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		d, ok := unhex(c)
		if !ok {
			return 0, false
		}
		n = n<<4 | uint64(d)
	}
	return n, true
}

// isToken reports whether b is an RFC 9110 token (a valid header name).
func isToken(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 || !tokenChar[c] {
			return false
		}
	}
	return true
}

// tokenChar is the constant table of tchar (RFC 9110 section 5.6.2).
var tokenChar = func() (t [128]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
