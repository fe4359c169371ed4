package httpcache

import (
	"net/textproto"
	"strings"
)

// maxDelta is the largest delta-seconds value kept: RFC 9111 1.2.2 has a
// cache treat any larger value, and any overflow, as 2^31.
const maxDelta = 1 << 31

// flags are the value-less Cache-Control directives.
type flags uint16

const (
	ccNoStore flags = 1 << iota
	ccNoCache
	ccPrivate
	ccPublic
	ccMustRevalidate
	ccProxyRevalidate
	ccMustUnderstand
	ccImmutable
	ccOnlyIfCached
	ccMaxStaleAny
)

// directives is a parsed Cache-Control (or Surrogate-Control) field. The
// delta-seconds values are -1 when absent. A directive whose value is not
// valid delta-seconds (a quoted value is accepted, as RFC 9111 5.2 asks)
// is taken conservatively: max-age and s-maxage become 0 (stale), the
// stale-* extensions and request directives are ignored. When a directive
// repeats, the smallest value wins (RFC 9111 4.2.1 allows the first or
// "stale"; the smallest is never fresher than the first).
type directives struct {
	flags                flags
	maxAge               int64
	sMaxAge              int64
	staleWhileRevalidate int64
	staleIfError         int64
	maxStale             int64
	minFresh             int64
	// noCacheFields and privateFields are the qualified forms'
	// header names, canonical. A qualified directive with an empty or
	// malformed list counts as the unqualified one.
	noCacheFields []string
	privateFields []string
}

func (d *directives) has(f flags) bool { return d.flags&f != 0 }

// parseCacheControl parses every line of a Cache-Control field.
func parseCacheControl(lines []string) directives {
	d := directives{maxAge: -1, sMaxAge: -1, staleWhileRevalidate: -1, staleIfError: -1, maxStale: -1, minFresh: -1}
	for _, line := range lines {
		scanDirectives(line, func(name, value string, hasValue, ok bool, target string) {
			d.apply(name, value, hasValue, ok && target == "")
		})
	}
	return d
}

// parseSurrogateControl parses Surrogate-Control (W3C Edge Architecture):
// directives may end in ";device" to target one surrogate. Directives
// targeted at device win over untargeted ones; others are ignored. The
// max-age=N+M form gives M seconds of stale-if-error.
func parseSurrogateControl(lines []string, device string) (d directives, present bool) {
	mine := directives{maxAge: -1, sMaxAge: -1, staleWhileRevalidate: -1, staleIfError: -1, maxStale: -1, minFresh: -1}
	all := mine
	var targeted, untargeted bool
	for _, line := range lines {
		scanDirectives(line, func(name, value string, hasValue, ok bool, target string) {
			dst := &all
			switch {
			case target == "":
				untargeted = true
			case strings.EqualFold(target, device):
				dst, targeted = &mine, true
			default:
				return
			}
			if strings.EqualFold(name, "max-age") && ok {
				if base, ext, found := strings.Cut(value, "+"); found {
					dst.apply("max-age", base, true, true)
					dst.apply("stale-if-error", ext, true, true)
					return
				}
			}
			dst.apply(name, value, hasValue, ok)
		})
	}
	if targeted {
		return mine, true
	}
	return all, untargeted
}

// apply records one directive. ok is false when the directive did not
// follow the grammar (e.g. "max-age =5").
func (d *directives) apply(name, value string, hasValue, ok bool) {
	switch {
	case strings.EqualFold(name, "max-age"):
		d.maxAge = minDelta(d.maxAge, parseDelta(value, hasValue && ok, 0))
	case strings.EqualFold(name, "s-maxage"):
		d.sMaxAge = minDelta(d.sMaxAge, parseDelta(value, hasValue && ok, 0))
	case strings.EqualFold(name, "stale-while-revalidate"):
		if v := parseDelta(value, hasValue && ok, -1); v >= 0 {
			d.staleWhileRevalidate = minDelta(d.staleWhileRevalidate, v)
		}
	case strings.EqualFold(name, "stale-if-error"):
		if v := parseDelta(value, hasValue && ok, -1); v >= 0 {
			d.staleIfError = minDelta(d.staleIfError, v)
		}
	case strings.EqualFold(name, "max-stale"):
		if !hasValue && ok {
			d.flags |= ccMaxStaleAny
		} else if v := parseDelta(value, hasValue && ok, -1); v >= 0 {
			d.maxStale = minDelta(d.maxStale, v)
		}
	case strings.EqualFold(name, "min-fresh"):
		if v := parseDelta(value, hasValue && ok, -1); v >= 0 {
			d.minFresh = max(d.minFresh, v)
		}
	case strings.EqualFold(name, "no-store"):
		d.flags |= ccNoStore
	case strings.EqualFold(name, "no-cache"):
		d.noCacheFields = d.qualified(ccNoCache, d.noCacheFields, value, hasValue && ok)
	case strings.EqualFold(name, "private"):
		d.privateFields = d.qualified(ccPrivate, d.privateFields, value, hasValue && ok)
	case strings.EqualFold(name, "public"):
		d.flags |= ccPublic
	case strings.EqualFold(name, "must-revalidate"):
		d.flags |= ccMustRevalidate
	case strings.EqualFold(name, "proxy-revalidate"):
		d.flags |= ccProxyRevalidate
	case strings.EqualFold(name, "must-understand"):
		d.flags |= ccMustUnderstand
	case strings.EqualFold(name, "immutable"):
		d.flags |= ccImmutable
	case strings.EqualFold(name, "only-if-cached"):
		d.flags |= ccOnlyIfCached
	}
}

// qualified handles no-cache and private, which may carry a list of field
// names. The unqualified form, or a list that names nothing, sets f (and
// clears the list: the whole response is concerned).
func (d *directives) qualified(f flags, fields []string, value string, hasValue bool) []string {
	if d.has(f) {
		return nil
	}
	if hasValue {
		var names []string
		for _, n := range strings.Split(value, ",") {
			n = strings.TrimSpace(n)
			if n == "" {
				continue
			}
			if !validHeaderName(n) {
				names = nil
				break
			}
			names = append(names, textproto.CanonicalMIMEHeaderKey(n))
		}
		if len(names) > 0 {
			return append(fields, names...)
		}
	}
	d.flags |= f
	return nil
}

// parseDelta parses delta-seconds (1*DIGIT), capping at 2^31. An invalid
// value yields bad.
func parseDelta(s string, valid bool, bad int64) int64 {
	if !valid || s == "" {
		return bad
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return bad
		}
		if n < maxDelta {
			n = n*10 + int64(c-'0')
		}
	}
	return min(n, maxDelta)
}

func minDelta(old, v int64) int64 {
	if old < 0 {
		return v
	}
	return min(old, v)
}

// scanDirectives splits one field line into directives:
//
//	directive = token [ "=" ( token / quoted-string ) ] [ ";" token ]
//
// separated by commas with optional whitespace. The ";" target is only
// meaningful in Surrogate-Control. A directive that does not follow the
// grammar is reported with ok false and skipped up to the next comma
// outside a quoted string.
func scanDirectives(s string, fn func(name, value string, hasValue, ok bool, target string)) {
	i := 0
	for i < len(s) {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == ',') {
			i++
		}
		if i >= len(s) {
			return
		}
		start := i
		for i < len(s) && isTokenChar(s[i]) {
			i++
		}
		name := s[start:i]
		ok := name != ""
		var value, target string
		hasValue := false
		if ok && i < len(s) && s[i] == '=' {
			i++
			hasValue = true
			if i < len(s) && s[i] == '"' {
				var qok bool
				value, i, qok = quotedString(s, i)
				ok = ok && qok
			} else {
				vs := i
				for i < len(s) && isTokenChar(s[i]) {
					i++
				}
				value = s[vs:i]
			}
		}
		if ok && i < len(s) && s[i] == ';' {
			ts := i + 1
			i = ts
			for i < len(s) && isTokenChar(s[i]) {
				i++
			}
			target = s[ts:i]
			ok = target != ""
		}
		j := i
		for j < len(s) && (s[j] == ' ' || s[j] == '\t') {
			j++
		}
		if j < len(s) && s[j] != ',' {
			ok = false
			j = skipToComma(s, j)
		}
		i = j
		if name != "" {
			fn(name, value, hasValue, ok, target)
		}
	}
}

// quotedString reads a quoted-string starting at s[i] == '"' and returns
// its unescaped content and the index after the closing quote.
func quotedString(s string, i int) (string, int, bool) {
	i++
	var b []byte
	start := i
	for i < len(s) {
		switch c := s[i]; c {
		case '"':
			if b == nil {
				return s[start:i], i + 1, true
			}
			return string(b), i + 1, true
		case '\\':
			if i+1 >= len(s) {
				return "", len(s), false
			}
			if b == nil {
				b = append([]byte(nil), s[start:i]...)
			}
			b = append(b, s[i+1])
			i += 2
		default:
			if b != nil {
				b = append(b, c)
			}
			i++
		}
	}
	return "", len(s), false
}

// skipToComma returns the index of the next comma outside a quoted string,
// or len(s).
func skipToComma(s string, i int) int {
	for i < len(s) {
		switch s[i] {
		case ',':
			return i
		case '"':
			_, i, _ = quotedString(s, i)
		default:
			i++
		}
	}
	return i
}

// isTokenChar reports whether c is a tchar (RFC 9110 5.6.2).
func isTokenChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// splitList splits a comma-separated field over all its lines into
// trimmed, non-empty elements (quoted strings are not special: used for
// Vary, Connection and similar token lists).
func splitList(lines []string, fn func(string)) {
	for _, line := range lines {
		for line != "" {
			var part string
			part, line, _ = strings.Cut(line, ",")
			if part = strings.TrimSpace(part); part != "" {
				fn(part)
			}
		}
	}
}
