package httpcache

import (
	"net/http"
	"net/textproto"
	"time"
)

// device is the token edgeward answers to in Surrogate-Control and
// announces in Surrogate-Capability.
const device = "edgeward"

// surrogateCapability is the Surrogate-Capability value sent to origins.
const surrogateCapability = device + `="Surrogate/1.0"`

// maxAgeDuration is 2^31 seconds: the age of a response whose Age header
// cannot be trusted, and the cap of every age sent.
const maxAgeDuration = time.Duration(maxDelta) * time.Second

// maxHeuristic caps a heuristic lifetime when default_ttl is 0.
const maxHeuristic = 24 * time.Hour

// source says where a freshness lifetime came from.
type source uint8

const (
	fromNone      source = iota // nothing allows storing: lifetime 0
	fromExplicit                // Surrogate-Control, s-maxage, max-age or Expires
	fromHeuristic               // 10% of the time since Last-Modified
	fromDefault                 // the policy's default_ttl
	fromError                   // the policy's error caching TTL
)

// meta is what the policy reads from one origin response.
type meta struct {
	status int
	// cc are the directives the cache obeys: Cache-Control, or the
	// targeted field that replaces it (targeted).
	cc       directives
	targeted bool
	// sc are the Surrogate-Control directives that apply to edgeward;
	// hasSC is false when there are none (or Surrogate-Control is off).
	sc    directives
	hasSC bool

	date          time.Time // zero when absent or invalid
	expires       time.Time // zero when absent or invalid
	hasExpires    bool
	lastModified  time.Time     // zero when absent or invalid
	ageValue      time.Duration // the first member of Age; 0 when absent or invalid (parseAge)
	hasValidator  bool          // ETag or Last-Modified
	vary          []string
	varyStar      bool
	setCookie     bool
	trailer       bool
	contentLength int64 // -1 when absent

	requestTime, responseTime time.Time
}

// parseMeta reads the response header fields the policy needs.
func parseMeta(status int, h http.Header, surrogate bool, reqTime, respTime time.Time) *meta {
	m := &meta{status: status, requestTime: reqTime, responseTime: respTime, contentLength: -1}
	// RFC 9213: a valid targeted field (Edgeward-Cache-Control, else
	// CDN-Cache-Control) replaces Cache-Control and Surrogate-Control for
	// the cache's own decisions.
	if d, ok := parseTargeted(h); ok {
		m.cc, m.targeted = d, true
	} else {
		m.cc = parseCacheControl(h["Cache-Control"])
		if surrogate {
			m.sc, m.hasSC = parseSurrogateControl(h["Surrogate-Control"], device)
		}
	}
	m.date = parseDate(h["Date"])
	if v := h["Expires"]; len(v) > 0 {
		m.hasExpires = true
		m.expires = parseDate(v)
	}
	m.lastModified = parseDate(h["Last-Modified"])
	m.hasValidator = len(h["Etag"]) > 0 || !m.lastModified.IsZero()
	m.ageValue, _ = parseAge(h["Age"])
	splitList(h["Vary"], func(name string) {
		if name == "*" {
			m.varyStar = true
			return
		}
		if !validHeaderName(name) {
			m.varyStar = true // unparseable: never match
			return
		}
		name = textproto.CanonicalMIMEHeaderKey(name)
		for _, v := range m.vary {
			if v == name {
				return
			}
		}
		m.vary = append(m.vary, name)
	})
	m.setCookie = len(h["Set-Cookie"]) > 0 || len(h["Set-Cookie2"]) > 0
	m.trailer = len(h["Trailer"]) > 0
	if v := h["Content-Length"]; len(v) == 1 {
		m.contentLength = parseDelta(v[0], true, -1)
	}
	return m
}

// parseDate parses a field holding one HTTP-date (RFC 9110 5.6.7, see
// parseHTTPDate); anything else, several field lines included, is the
// zero time.
func parseDate(v []string) time.Time {
	if len(v) != 1 {
		return time.Time{}
	}
	t, ok := parseHTTPDate(v[0])
	if !ok {
		return time.Time{}
	}
	return t
}

// ttls are a behavior's TTL settings, resolved from PolicyConfig.
type ttls struct {
	min, def, max   time.Duration
	errorMin        time.Duration
	errorTTLs       map[int]time.Duration
	staleIfError    time.Duration
	staleWhileReval time.Duration
	keepStale       time.Duration
	unreachable     time.Duration // stale_if_unreachable
	cacheSetCookie  bool
}

// heuristicStatus lists the status codes that are heuristically cacheable
// (RFC 9110 15.1).
func heuristicStatus(code int) bool {
	switch code {
	case 200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501:
		return true
	}
	return false
}

// understood lists the final status codes whose caching semantics
// edgeward implements (RFC 9111 3: must-understand).
func understood(code int) bool {
	switch code {
	case 200, 203, 204, 300, 301, 302, 303, 307, 308,
		400, 403, 404, 405, 410, 414, 416, 500, 501, 502, 503, 504:
		return true
	}
	return false
}

// errorCached lists the error codes CloudFront caches for its error
// caching minimum TTL.
func errorCached(code int) bool {
	switch code {
	case 400, 403, 404, 405, 414, 416, 500, 501, 502, 503, 504:
		return true
	}
	return false
}

// overridden reports whether min_ttl > 0 overrides the origin's no-store,
// no-cache and private, as CloudFront does.
func (t *ttls) overridden() bool { return t.min > 0 }

// lifetime is the freshness lifetime of a response for a shared cache
// (RFC 9111 4.2.1) with CloudFront's clamps: the origin's lifetime is
// clamped into [min_ttl, max_ttl]; without one, 4xx/5xx get the error
// caching TTL and the rest a heuristic (Last-Modified, 10%, capped at
// default_ttl, or a day when default_ttl is 0) or default_ttl.
func (t *ttls) lifetime(m *meta) (time.Duration, source) {
	life, src := t.originLifetime(m)
	switch src {
	case fromExplicit, fromHeuristic:
		life = min(max(life, t.min), t.max)
	case fromDefault, fromError:
		life = min(life, t.max)
	}
	return life, src
}

func (t *ttls) originLifetime(m *meta) (time.Duration, source) {
	switch {
	case m.hasSC && m.sc.maxAge >= 0:
		return seconds(m.sc.maxAge), fromExplicit
	case m.cc.sMaxAge >= 0:
		return seconds(m.cc.sMaxAge), fromExplicit
	case m.cc.maxAge >= 0:
		return seconds(m.cc.maxAge), fromExplicit
	case m.hasExpires:
		if m.expires.IsZero() {
			return 0, fromExplicit // an invalid Expires is in the past
		}
		date := m.date
		if date.IsZero() {
			date = m.responseTime
		}
		return max(m.expires.Sub(date), 0), fromExplicit
	}
	if !m.lastModified.IsZero() && (heuristicStatus(m.status) || m.cc.has(ccPublic)) {
		if m.status < 400 || t.errorTTL(m.status) == 0 {
			date := m.date
			if date.IsZero() {
				date = m.responseTime
			}
			limit := t.def
			if limit == 0 {
				limit = maxHeuristic
			}
			return min(max(date.Sub(m.lastModified)/10, 0), limit), fromHeuristic
		}
	}
	if m.status >= 400 {
		if d := t.errorTTL(m.status); d > 0 {
			return d, fromError
		}
		return 0, fromNone
	}
	if heuristicStatus(m.status) || m.cc.has(ccPublic) {
		return t.def, fromDefault
	}
	return 0, fromNone
}

func (t *ttls) errorTTL(code int) time.Duration {
	if d, ok := t.errorTTLs[code]; ok {
		return d
	}
	if errorCached(code) {
		return t.errorMin
	}
	return 0
}

// staleWindows returns how long past its freshness a response may be
// served while revalidating in the background (swr) or when the origin
// fails (sie), and whether it must never be served stale (must-revalidate,
// proxy-revalidate, s-maxage, no-cache: RFC 9111 4.2.4, 5.2.2).
func (t *ttls) staleWindows(m *meta) (swr, sie time.Duration, never bool) {
	never = m.cc.has(ccMustRevalidate|ccProxyRevalidate) || m.cc.sMaxAge >= 0 || m.cc.has(ccNoCache)
	if never && t.overridden() && !m.cc.has(ccMustRevalidate|ccProxyRevalidate) && m.cc.sMaxAge < 0 {
		never = false // min_ttl overrides no-cache
	}
	if never {
		return 0, 0, true
	}
	swr, sie = t.staleWhileReval, t.staleIfError
	if m.cc.staleWhileRevalidate >= 0 {
		swr = seconds(m.cc.staleWhileRevalidate)
	}
	if m.cc.staleIfError >= 0 {
		sie = seconds(m.cc.staleIfError)
	}
	if m.hasSC && m.sc.staleIfError >= 0 {
		sie = seconds(m.sc.staleIfError)
	}
	return swr, sie, false
}

// alwaysRevalidate reports whether a stored response must be validated
// before every reuse (no-cache, unless min_ttl overrides it, or a
// Surrogate-Control lifetime replaces Cache-Control).
func (t *ttls) alwaysRevalidate(m *meta) bool {
	return m.cc.has(ccNoCache) && !t.overridden() && !(m.hasSC && m.sc.maxAge >= 0)
}

// reason says why a response is not stored; "" means it is storable.
type reason string

// storable applies RFC 9111 3 for a shared cache, with CloudFront's
// overrides, to a response to a GET (or cached OPTIONS) request.
// authorization is whether the request identified the viewer beyond the
// key (see Cache.identified).
func (t *ttls) storable(m *meta, authorization bool) reason {
	switch {
	case t.max <= 0:
		return "max_ttl 0" // CloudFront's CachingDisabled: nothing is stored
	case m.status < 200 || m.status == http.StatusPartialContent || m.status == http.StatusNotModified:
		return "status"
	case m.cc.has(ccMustUnderstand) && !understood(m.status):
		return "must-understand"
	case m.varyStar:
		return "vary"
	case m.setCookie && !t.cacheSetCookie:
		return "set-cookie"
	case m.trailer:
		return "trailer"
	}
	if m.hasSC && m.sc.has(ccNoStore) {
		return "no-store"
	}
	scLifetime := m.hasSC && m.sc.maxAge >= 0
	if m.cc.has(ccNoStore) && !t.overridden() && !scLifetime && !(m.cc.has(ccMustUnderstand) && understood(m.status)) {
		return "no-store"
	}
	if m.cc.has(ccPrivate) && !t.overridden() {
		return "private"
	}
	if authorization && !m.cc.has(ccPublic|ccMustRevalidate) && m.cc.sMaxAge < 0 {
		return "authorization"
	}
	life, src := t.lifetime(m)
	if src == fromNone {
		return "no freshness"
	}
	swr, sie, _ := t.staleWindows(m)
	if life <= 0 && !m.hasValidator && swr <= 0 && sie <= 0 {
		return "no freshness"
	}
	return ""
}

// retention is how long past its freshness a stored response is kept.
func (t *ttls) retention(m *meta) time.Duration {
	swr, sie, _ := t.staleWindows(m)
	keep := max(swr, sie)
	if _, _, never := t.staleWindows(m); !never {
		keep = max(keep, t.unreachable)
	}
	if m.hasValidator {
		keep = max(keep, t.keepStale)
	}
	return keep
}

// initialAge is the corrected initial age of a response (RFC 9111 4.2.3).
// An Age list counts by its first member and an invalid Age is ignored
// (RFC 9111 5.1; see parseAge).
func initialAge(m *meta) time.Duration {
	var apparent time.Duration
	if !m.date.IsZero() {
		apparent = max(m.responseTime.Sub(m.date), 0)
	}
	delay := max(m.responseTime.Sub(m.requestTime), 0)
	return max(apparent, m.ageValue+delay)
}

func seconds(n int64) time.Duration { return time.Duration(n) * time.Second }
