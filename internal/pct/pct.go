// Package pct reads percent-encoding (RFC 3986 section 2.1): the one
// hex-digit rule that the path canonicaliser, the decision service's path
// check, the protections' query decoding and the access log's query
// redaction share.
package pct

// Digit returns the value of the hexadecimal digit c, in either case;
// false when c is not one.
func Digit(c byte) (byte, bool) {
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

// At decodes the escape "%XX" that begins s[i:]; false when s[i:] does
// not begin with one (no '%', fewer than two characters after it, or a
// character that is not a hex digit).
func At(s string, i int) (byte, bool) {
	if i+2 >= len(s) || s[i] != '%' {
		return 0, false
	}
	h, ok1 := Digit(s[i+1])
	l, ok2 := Digit(s[i+2])
	return h<<4 | l, ok1 && ok2
}
