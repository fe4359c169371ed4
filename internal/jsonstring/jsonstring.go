// Package jsonstring is the one JSON string encoder of the hand-built JSON
// lines and bodies: the access log's JSON format, the decision log, the
// edge's error bodies and the sideband header lists. They are written
// without encoding/json's reflection on hot paths, and all escape alike.
//
// The output is a JSON string (RFC 8259 section 7) that is also safe to
// read in a terminal or embed in HTML: it escapes what encoding/json
// escapes (", \, control characters, <, > and &, U+2028 and U+2029), and
// DEL (0x7f) as well; each byte of invalid UTF-8 becomes U+FFFD, as
// encoding/json does, so a line is always valid UTF-8 and a value can
// never end a log line or forge a field.
package jsonstring

import "unicode/utf8"

const hex = "0123456789abcdef"

// Append appends s to b as a quoted JSON string.
func Append(b []byte, s string) []byte {
	b = append(b, '"')
	b = AppendEscaped(b, s)
	return append(b, '"')
}

// AppendEscaped appends s to b escaped for the inside of a JSON string,
// without the quotes: for values assembled from several parts.
func AppendEscaped(b []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if safe(c) {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	return append(b, s[start:]...)
}

// safe reports whether the ASCII byte c is written as is.
func safe(c byte) bool {
	return c >= 0x20 && c != 0x7f && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
}
