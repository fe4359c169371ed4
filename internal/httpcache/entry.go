package httpcache

import (
	"net/http"
	"slices"
	"strconv"
	"sync/atomic"
	"time"
)

// entry is one stored response. It is immutable once stored, apart from
// the atomics; a refresh stores a new entry.
type entry struct {
	status int
	// fields are the headers to send, precomputed at store time: hop-by-hop
	// and per-response fields removed, Content-Length set, every slice
	// clipped so that a later append copies it.
	fields []field
	header http.Header // the same fields, for lookups
	body   []byte

	vary    []string // canonical names of the Vary fields
	varySig string   // the request's values for them, normalised

	etag         string    // the ETag, for If-None-Match
	lastModified string    // the Last-Modified, for If-Modified-Since
	modified     time.Time // Last-Modified, or Date, for viewers' conditionals

	responseTime time.Time
	initialAge   time.Duration
	lifetime     time.Duration
	swr, sie     time.Duration
	siu          time.Duration // stale_if_unreachable, 0 when neverStale
	neverStale   bool          // must-revalidate, proxy-revalidate, s-maxage, no-cache
	revalidate   bool          // no-cache: validate before every use
	removeAt     int64         // unix nanoseconds: past freshness and retention
	size         int64         // weight in bytes

	refreshing atomic.Bool
	ageText    atomic.Pointer[ageText]
}

type field struct {
	name   string
	values []string
}

type ageText struct {
	sec    int64
	values []string
}

// hopByHop reports whether a response header must not be stored or
// forwarded by a cache (RFC 9110 7.6.1, RFC 9111 3.1).
func hopByHop(name string) bool {
	switch name {
	case "Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authentication-Info",
		"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade":
		return true
	}
	return false
}

// bodyAllowed reports whether a response with status may have content.
func bodyAllowed(status int) bool { return status >= 200 && status != 204 && status != 304 }

// notStored are fields the cache recomputes for every response it sends.
func notStored(name string) bool { return name == "Age" || name == "X-Cache" }

// noUpdate are fields a 304 must not change in the stored response (RFC
// 9111 3.2: what the stored content depends on).
func noUpdate(name string) bool {
	switch name {
	case "Content-Length", "Content-Encoding", "Content-Md5", "Content-Range", "Etag":
		return true
	}
	return false
}

// storedHeader copies h without the fields a cache must not keep:
// hop-by-hop ones, those named by Connection, by no-cache="..." and by
// private="..." (RFC 9111 3.1, 5.2.2.4, 5.2.2.7).
func storedHeader(h http.Header, cc *directives) http.Header {
	out := make(http.Header, len(h)+1)
	var connection []string
	splitList(h["Connection"], func(n string) { connection = append(connection, http.CanonicalHeaderKey(n)) })
	for name, values := range h {
		if hopByHop(name) || notStored(name) || slices.Contains(connection, name) ||
			slices.Contains(cc.noCacheFields, name) || slices.Contains(cc.privateFields, name) {
			continue
		}
		out[name] = slices.Clip(slices.Clone(values))
	}
	return out
}

// newEntry builds the object to store for a response. h must already be
// a private copy (storedHeader); it is completed with Content-Length and,
// when the origin sent none, Date.
func newEntry(m *meta, t *ttls, h http.Header, body []byte, vary []string, varySig string) *entry {
	if bodyAllowed(m.status) {
		h["Content-Length"] = []string{strconv.Itoa(len(body))}
	} else {
		delete(h, "Content-Length") // RFC 9110 8.6: never on 1xx, 204, 304
	}
	if len(h["Date"]) == 0 {
		h["Date"] = []string{m.responseTime.UTC().Format(http.TimeFormat)}
	}
	life, _ := t.lifetime(m)
	swr, sie, never := t.staleWindows(m)
	e := &entry{
		status:       m.status,
		header:       h,
		body:         body,
		vary:         vary,
		varySig:      varySig,
		responseTime: m.responseTime,
		initialAge:   initialAge(m),
		lifetime:     life,
		swr:          swr,
		sie:          sie,
		neverStale:   never,
		siu:          unreachableWindow(t, never),
		revalidate:   t.alwaysRevalidate(m),
	}
	if v := h["Etag"]; len(v) > 0 {
		e.etag = v[0]
	}
	if v := h["Last-Modified"]; len(v) > 0 && !m.lastModified.IsZero() {
		e.lastModified = v[0]
		e.modified = m.lastModified
	} else if !m.date.IsZero() {
		e.modified = m.date
	} else {
		e.modified = m.responseTime
	}
	freshFor := max(life-e.initialAge, 0)
	e.removeAt = m.responseTime.Add(freshFor + t.retention(m)).UnixNano()
	e.size = int64(len(body)) + entryOverhead + int64(len(varySig))
	e.fields = make([]field, 0, len(h))
	for name, values := range h {
		e.fields = append(e.fields, field{name, values})
		e.size += int64(len(name))
		for _, v := range values {
			e.size += int64(len(v)) + 16
		}
	}
	return e
}

// age is the entry's current age (RFC 9111 4.2.3).
func (e *entry) age(now time.Time) time.Duration {
	return min(e.initialAge+max(now.Sub(e.responseTime), 0), maxAgeDuration)
}

// fresh reports whether the entry may be served without validation.
func (e *entry) fresh(now time.Time) bool { return e.age(now) < e.lifetime }

// staleBy is how long ago the entry stopped being fresh (<= 0 if fresh).
func (e *entry) staleBy(now time.Time) time.Duration { return e.age(now) - e.lifetime }

// usable reports whether the entry may still be used at all (served,
// revalidated or served stale).
func (e *entry) usable(now time.Time) bool { return now.UnixNano() < e.removeAt }

// staleWhileRevalidate reports whether the stale entry may be served while
// it is refreshed in the background.
func (e *entry) staleWhileRevalidate(now time.Time) bool {
	return !e.neverStale && !e.revalidate && e.staleBy(now) < e.swr
}

// staleIfError reports whether the entry may be served because the origin
// failed.
func (e *entry) staleIfError(now time.Time) bool {
	return !e.neverStale && !e.revalidate && e.staleBy(now) < e.sie
}

// staleIfUnreachable reports whether the entry may be served because the
// origin could not be reached at all.
func (e *entry) staleIfUnreachable(now time.Time) bool {
	return !e.neverStale && !e.revalidate && e.staleBy(now) < max(e.siu, e.sie)
}

func unreachableWindow(t *ttls, never bool) time.Duration {
	if never {
		return 0
	}
	return t.unreachable
}

// hasValidator reports whether a conditional request can revalidate e.
func (e *entry) hasValidator() bool { return e.etag != "" || e.lastModified != "" }

// ageValues is the Age field for now, formatted once per second.
func (e *entry) ageValues(now time.Time) []string {
	sec := int64(e.age(now) / time.Second)
	if a := e.ageText.Load(); a != nil && a.sec == sec {
		return a.values
	}
	a := &ageText{sec: sec, values: []string{strconv.FormatInt(sec, 10)}}
	e.ageText.Store(a)
	return a.values
}

// refreshed is e updated by a 304 (RFC 9111 3.2, 4.3.4): its fields
// replaced by the 304's, except hop-by-hop ones and those the stored
// content depends on, and its age and freshness computed anew from the
// 304 (whose timing and Age are in m304).
func (e *entry) refreshed(h304 http.Header, m304 *meta, t *ttls, surrogate bool, vary []string, varySig string) (*entry, *meta) {
	h := make(http.Header, len(e.header)+len(h304))
	for name, values := range e.header {
		h[name] = values
	}
	var connection []string
	splitList(h304["Connection"], func(n string) { connection = append(connection, http.CanonicalHeaderKey(n)) })
	for name, values := range h304 {
		if hopByHop(name) || notStored(name) || noUpdate(name) || slices.Contains(connection, name) {
			continue
		}
		h[name] = slices.Clip(slices.Clone(values))
	}
	m := parseMeta(e.status, h, surrogate, m304.requestTime, m304.responseTime)
	m.ageValue = m304.ageValue
	h = storedHeader(h, &m.cc)
	return newEntry(m, t, h, e.body, vary, varySig), m
}
