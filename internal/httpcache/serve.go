package httpcache

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/edgeward/edgeward/internal/edge"
)

// serveEntry answers r from e: a 304 when the viewer's If-None-Match or
// If-Modified-Since matches, a 206 (or 416) for a single byte range of a
// stored 200, the stored response otherwise; HEAD gets no body. It
// allocates nothing for a plain hit: the header values are shared,
// precomputed slices.
func (c *Cache) serveEntry(w http.ResponseWriter, r *edge.Request, e *entry, now time.Time, result edge.Result) {
	r.Result = result
	h := w.Header()
	for _, f := range e.fields {
		h[f.name] = f.values
	}
	h["Age"] = e.ageValues(now)
	if result == edge.ResultRefreshHit {
		h["X-Cache"] = c.s.xRefreshHit
	} else {
		h["X-Cache"] = c.s.xHit
	}
	c.count(result)
	req := r.HTTP
	if e.status >= 200 && e.status < 300 {
		if notModified(req.Header, e) {
			delete(h, "Content-Length")
			delete(h, "Content-Range")
			w.WriteHeader(http.StatusNotModified)
			return
		}
		if rng := req.Header["Range"]; e.status == http.StatusOK && len(rng) == 1 && ifRange(req.Header["If-Range"], e) {
			if start, end, ok := parseRange(rng[0], int64(len(e.body))); ok {
				if start < 0 {
					h["Content-Range"] = []string{"bytes */" + strconv.Itoa(len(e.body))}
					delete(h, "Content-Length")
					w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
					return
				}
				h["Content-Range"] = []string{"bytes " + strconv.FormatInt(start, 10) + "-" +
					strconv.FormatInt(end, 10) + "/" + strconv.Itoa(len(e.body))}
				h["Content-Length"] = []string{strconv.FormatInt(end-start+1, 10)}
				w.WriteHeader(http.StatusPartialContent)
				if req.Method != http.MethodHead {
					w.Write(e.body[start : end+1])
				}
				return
			}
		}
	}
	w.WriteHeader(e.status)
	if req.Method != http.MethodHead && len(e.body) > 0 {
		w.Write(e.body)
	}
}

// notModified evaluates If-None-Match, or else If-Modified-Since, against
// the stored response (RFC 9110 13.1.2, 13.1.3, 13.2.2; RFC 9111 4.3.2).
func notModified(h http.Header, e *entry) bool {
	if inm := h["If-None-Match"]; len(inm) > 0 {
		match := false
		splitList(inm, func(tag string) {
			if tag == "*" || (e.etag != "" && weakMatch(tag, e.etag)) {
				match = true
			}
		})
		return match
	}
	ims := h["If-Modified-Since"]
	if len(ims) != 1 {
		return false
	}
	t, ok := parseHTTPDate(ims[0])
	if !ok {
		return false // RFC 9110 13.1.3: an invalid date is ignored
	}
	return !e.modified.After(t)
}

// weakMatch compares entity tags ignoring the weakness prefix.
func weakMatch(a, b string) bool {
	return strings.TrimPrefix(a, "W/") == strings.TrimPrefix(b, "W/")
}

// ifRange reports whether a Range request may be served partially: no
// If-Range, or one that matches e strongly (RFC 9110 13.1.5).
func ifRange(v []string, e *entry) bool {
	if len(v) == 0 {
		return true
	}
	if len(v) != 1 {
		return false
	}
	if strings.HasPrefix(v[0], `"`) {
		return e.etag != "" && !strings.HasPrefix(e.etag, "W/") && v[0] == e.etag
	}
	t, ok := parseHTTPDate(v[0])
	return ok && e.lastModified != "" && t.Equal(e.modified)
}

// parseRange parses a Range field holding one byte range against a
// representation of n bytes. ok is false for anything else (the whole
// response is then served, as RFC 9110 14.2 allows); start < 0 with ok
// means the range is unsatisfiable (416).
func parseRange(v string, n int64) (start, end int64, ok bool) {
	unit, spec, found := strings.Cut(v, "=")
	if !found || !strings.EqualFold(strings.TrimSpace(unit), "bytes") || strings.Contains(spec, ",") {
		return 0, 0, false
	}
	first, last, found := strings.Cut(strings.TrimSpace(spec), "-")
	if !found {
		return 0, 0, false
	}
	first, last = strings.TrimSpace(first), strings.TrimSpace(last)
	if first == "" {
		suffix := parseDelta(last, true, -1)
		if suffix < 0 {
			return 0, 0, false
		}
		if suffix == 0 || n == 0 {
			return -1, -1, true
		}
		return max(n-suffix, 0), n - 1, true
	}
	start = parseDelta(first, true, -1)
	if start < 0 {
		return 0, 0, false
	}
	end = n - 1
	if last != "" {
		end = parseDelta(last, true, -1)
		if end < start {
			return 0, 0, false
		}
		end = min(end, n-1)
	}
	if start >= n {
		return -1, -1, true
	}
	return start, end, true
}
