package httpcache

import "net/http"

// TargetedField is the response field that only edgeward obeys (RFC 9213
// 2.1 lets a cache define its own targeted field): it has the syntax and
// meaning of CDN-Cache-Control and wins over it.
const TargetedField = "Edgeward-Cache-Control"

// targetedFields are the targeted cache-control fields edgeward obeys,
// most specific first (RFC 9213 2.1). The first one that is present and
// parses as a Structured Field Dictionary replaces Cache-Control (and
// Surrogate-Control) for the cache's own decisions; the rest are ignored.
// The fields themselves pass through to the viewer unchanged: a CDN in
// front of edgeward may obey CDN-Cache-Control too.
var targetedFields = [...]string{TargetedField, "Cdn-Cache-Control"}

// parseTargeted returns the directives of the first targeted field of h
// that is present and valid, and whether there was one. A field that is
// not a valid Dictionary is ignored whole, as if it were absent (RFC 9213
// 2.1).
func parseTargeted(h http.Header) (directives, bool) {
	for _, name := range targetedFields {
		lines, ok := h[name]
		if !ok {
			continue
		}
		if d, ok := parseCDNCacheControl(lines); ok {
			return d, true
		}
	}
	return directives{}, false
}

// parseCDNCacheControl maps a CDN-Cache-Control Dictionary to directives
// (RFC 9213 2.1, 2.2): delta-seconds directives must be non-negative
// Integers and the value-less ones Boolean true; a directive of any other
// type is ignored, and so are unknown keys and all parameters. ok is
// false when the lines do not parse.
func parseCDNCacheControl(lines []string) (directives, bool) {
	members, err := parseSFDictionary(lines)
	if err != nil {
		return directives{}, false
	}
	d := directives{maxAge: -1, sMaxAge: -1, staleWhileRevalidate: -1, staleIfError: -1, maxStale: -1, minFresh: -1}
	for _, m := range members {
		it := m.item
		switch m.key {
		case "max-age", "s-maxage", "stale-while-revalidate", "stale-if-error":
			if it.kind != sfInteger || it.num < 0 {
				continue
			}
			v := min(it.num, maxDelta)
			switch m.key {
			case "max-age":
				d.maxAge = v
			case "s-maxage":
				d.sMaxAge = v
			case "stale-while-revalidate":
				d.staleWhileRevalidate = v
			default:
				d.staleIfError = v
			}
		default:
			f, known := sfFlags[m.key]
			if !known || it.kind != sfBoolean || it.num != 1 {
				continue
			}
			d.flags |= f
		}
	}
	return d, true
}

// sfFlags are the value-less directives a targeted field may carry.
var sfFlags = map[string]flags{
	"no-store":         ccNoStore,
	"no-cache":         ccNoCache,
	"private":          ccPrivate,
	"public":           ccPublic,
	"must-revalidate":  ccMustRevalidate,
	"proxy-revalidate": ccProxyRevalidate,
	"must-understand":  ccMustUnderstand,
	"immutable":        ccImmutable,
}
