package httpcache

import (
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strings"

	"github.com/edgeward/edgeward/internal/edge"
)

// Key separators: header values cannot hold control characters, paths and
// queries reach here percent-encoded, so these never occur in a component.
const (
	sepComponent = 0x00
	sepItem      = 0x01
	absent       = 0x02 // a varied-on header the request does not have
)

// matcher is a compiled List.
type matcher struct {
	mode  string
	names map[string]bool
}

func compileList(l List, canonical bool) matcher {
	m := matcher{mode: l.Mode}
	names := l.Include
	if l.Mode == ListExclude {
		names = l.Exclude
	}
	if len(names) > 0 {
		m.names = make(map[string]bool, len(names))
		for _, n := range names {
			if canonical {
				n = textproto.CanonicalMIMEHeaderKey(n)
			}
			m.names[n] = true
		}
	}
	return m
}

func (m *matcher) match(name string) bool {
	switch m.mode {
	case ListAll:
		return true
	case ListInclude:
		return m.names[name]
	case ListExclude:
		return !m.names[name]
	}
	return false
}

func (m *matcher) none() bool { return m.mode == ListNone || m.mode == "" }

// appendKey appends the variant key of r to b: everything that selects an
// object within its path (the store groups objects by path). Two requests
// with the same path and key are served the same object, Vary aside.
func (c *Cache) appendKey(b []byte, r *edge.Request) []byte {
	req := r.HTTP
	if req.Method == http.MethodOptions {
		b = append(b, 'O')
	} else {
		b = append(b, 'G')
	}
	b = append(b, c.prefix...)
	b = append(b, sepComponent)
	b = append(b, r.Scheme...)
	b = append(b, sepComponent)
	for i := 0; i < len(r.Host); i++ {
		ch := r.Host[i]
		if 'A' <= ch && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		b = append(b, ch)
	}
	b = append(b, sepComponent)
	b = append(b, req.URL.EscapedPath()...)
	b = append(b, sepComponent)
	b = c.appendQueryKey(b, req.URL.RawQuery)
	b = append(b, sepComponent)
	for _, name := range c.keyHeaders {
		b = appendNormalized(b, req.Header[name], false)
		b = append(b, sepItem)
	}
	b = append(b, sepComponent)
	if !c.keyCookies.none() {
		b = c.appendCookieKey(b, req.Header["Cookie"])
	}
	if c.compress {
		b = append(b, sepComponent)
		b = append(b, normalizeEncoding(req.Header["Accept-Encoding"])...)
	}
	return b
}

// param is one query parameter or cookie: its raw text and raw name.
type param struct{ raw, name string }

// maxParams bounds the parameters or cookies sorted in place; past it the
// rest are appended unsorted, which costs hit ratio, never correctness.
const maxParams = 32

// appendQueryKey appends the key's query parameters, sorted by name
// (stable: repeated names keep their order, which origins may rely on).
func (c *Cache) appendQueryKey(b []byte, raw string) []byte {
	if c.keyQuery.none() || raw == "" {
		return b
	}
	var arr [maxParams]param
	ps := arr[:0]
	for raw != "" {
		var p string
		p, raw, _ = strings.Cut(raw, "&")
		if p == "" {
			continue
		}
		name, _, _ := strings.Cut(p, "=")
		if c.keyQuery.mode != ListAll && !c.keyQuery.match(decodeQueryName(name)) {
			continue
		}
		if len(ps) == maxParams {
			b = append(b, p...)
			b = append(b, sepItem)
			continue
		}
		ps = append(ps, param{raw: p, name: name})
	}
	sortParams(ps)
	for _, p := range ps {
		b = append(b, p.raw...)
		b = append(b, sepItem)
	}
	return b
}

// sortParams sorts ps by name, keeping the order of repeated names.
func sortParams(ps []param) {
	slices.SortStableFunc(ps, func(a, b param) int { return strings.Compare(a.name, b.name) })
}

// decodeQueryName decodes a parameter name so that include and exclude
// lists cannot be bypassed by spelling a name with escapes.
func decodeQueryName(name string) string {
	if strings.ContainsAny(name, "%+") {
		if d, err := url.QueryUnescape(name); err == nil {
			return d
		}
	}
	return name
}

// appendCookieKey appends the keyed cookies, sorted by name.
func (c *Cache) appendCookieKey(b []byte, lines []string) []byte {
	var arr [maxParams]param
	ps := arr[:0]
	for _, line := range lines {
		for line != "" {
			var p string
			p, line, _ = strings.Cut(line, ";")
			p = strings.TrimSpace(p)
			if p == "" {
				continue
			}
			name, _, _ := strings.Cut(p, "=")
			if !c.keyCookies.match(name) {
				continue
			}
			if len(ps) == maxParams {
				b = append(b, p...)
				b = append(b, sepItem)
				continue
			}
			ps = append(ps, param{raw: p, name: name})
		}
	}
	sortParams(ps)
	for _, p := range ps {
		b = append(b, p.raw...)
		b = append(b, sepItem)
	}
	return b
}

// appendNormalized appends a header's value the way Vary and key headers
// compare it: all field lines combined, list elements trimmed of
// whitespace and empty ones dropped; lang also lower-cases and sorts the
// elements (Accept-Language order and case do not change the answer).
func appendNormalized(b []byte, lines []string, lang bool) []byte {
	if len(lines) == 0 {
		return append(b, absent)
	}
	if lang {
		var elems []string
		splitList(lines, func(e string) { elems = append(elems, strings.ToLower(strings.ReplaceAll(e, " ", ""))) })
		slices.Sort(elems)
		return append(b, strings.Join(elems, ",")...)
	}
	first := true
	splitList(lines, func(e string) {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, e...)
	})
	return b
}

// normalizeEncoding reduces Accept-Encoding to what the key holds and the
// origin is sent: "br,gzip", "br", "gzip" or "identity".
func normalizeEncoding(lines []string) string {
	var br, gzip bool
	splitList(lines, func(e string) {
		coding, params, _ := strings.Cut(e, ";")
		coding = strings.TrimSpace(coding)
		if q := strings.ReplaceAll(params, " ", ""); strings.HasPrefix(q, "q=0") && strings.Trim(q[2:], "0.") == "" {
			return // q=0: not acceptable
		}
		switch {
		case strings.EqualFold(coding, "br"):
			br = true
		case strings.EqualFold(coding, "gzip"):
			gzip = true
		}
	})
	switch {
	case br && gzip:
		return "br,gzip"
	case br:
		return "br"
	case gzip:
		return "gzip"
	}
	return "identity"
}

// alwaysForwarded reports whether a request header reaches the origin
// whatever the forward settings: it describes the request content or its
// conditions, or carries the edge's request id and forwarding chain.
func alwaysForwarded(name string) bool {
	switch name {
	case "Content-Type", "Content-Length", "Content-Encoding", "Content-Language",
		"If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since", "If-Range", "Range",
		"X-Request-Id", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "Forwarded", "Via":
		return true
	}
	return false
}

// forwarded reports whether the request header name (canonical) reaches
// the origin: in the key, in forward, owned by the edge, or always
// forwarded. Cookie and Accept-Encoding have their own rules.
func (c *Cache) forwarded(r *edge.Request, name string) bool {
	return c.keyHeaderSet[name] || c.fwdHeaders.match(name) || alwaysForwarded(name) || r.Owned(name)
}

// appendVarySig appends the request's values for the varied-on header
// names, as the origin was (or would be) sent them.
func (c *Cache) appendVarySig(b []byte, r *edge.Request, names []string) []byte {
	h := r.HTTP.Header
	for _, name := range names {
		switch {
		case name == "Cookie":
			if v := c.forwardCookies(h["Cookie"]); v != "" {
				b = append(b, v...)
			} else {
				b = append(b, absent)
			}
		case name == "Accept-Encoding" && c.compress:
			b = append(b, normalizeEncoding(h["Accept-Encoding"])...)
		case !c.forwarded(r, name):
			b = append(b, absent)
		default:
			b = appendNormalized(b, h[name], name == "Accept-Language")
		}
		b = append(b, sepItem)
	}
	return b
}

// forwardQuery filters a raw query to the parameters the origin gets,
// in their original order and spelling.
func (c *Cache) forwardQuery(raw string) string {
	if raw == "" || c.keyQuery.mode == ListAll || c.fwdQuery.mode == ListAll {
		return raw
	}
	if c.keyQuery.none() && c.fwdQuery.none() {
		return ""
	}
	var out []string
	for rest := raw; rest != ""; {
		var p string
		p, rest, _ = strings.Cut(rest, "&")
		if p == "" {
			continue
		}
		name, _, _ := strings.Cut(p, "=")
		n := decodeQueryName(name)
		if c.keyQuery.match(n) || c.fwdQuery.match(n) {
			out = append(out, p)
		}
	}
	return strings.Join(out, "&")
}

// forwardCookies filters Cookie lines to the cookies the origin gets,
// joined into one line ("" for none).
func (c *Cache) forwardCookies(lines []string) string {
	if len(lines) == 0 || (c.keyCookies.none() && c.fwdCookies.none()) {
		return ""
	}
	var out []string
	for _, line := range lines {
		for line != "" {
			var p string
			p, line, _ = strings.Cut(line, ";")
			if p = strings.TrimSpace(p); p == "" {
				continue
			}
			name, _, _ := strings.Cut(p, "=")
			if c.keyCookies.match(name) || c.fwdCookies.match(name) {
				out = append(out, p)
			}
		}
	}
	return strings.Join(out, "; ")
}
