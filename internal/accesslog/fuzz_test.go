package accesslog

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/edgeward/edgeward/internal/edge"
	"github.com/edgeward/edgeward/internal/pct"
)

// unescapeW3C reverses CloudFront's field encoding.
func unescapeW3C(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if d, ok := pct.At(s, i); ok {
			b.WriteByte(d)
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// validUTF8 replaces each invalid byte with U+FFFD, as JSON encoding does.
func validUTF8(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b.WriteString("\uFFFD")
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// FuzzLog checks that whatever a viewer sends, a cloudfront line has
// exactly 33 fields of printable ASCII that decode back to what was sent,
// and a json line is valid JSON carrying the same values.
func FuzzLog(f *testing.F) {
	f.Add("Mozilla/5.0 (X11; Linux x86_64)", "/orders/42", "a=1&b=2", "req-1")
	f.Add("a\tb\nc", "/a%20b", "access_token=x", "")
	f.Add("\xff\xfe\x00", "/€", "q=\"x\"", "id with space")
	f.Fuzz(func(t *testing.T, ua, path, query, id string) {
		h := httptest.NewRequest(http.MethodGet, "/", nil)
		h.RequestURI = "/" + strings.ReplaceAll(path, "?", "")
		if query != "" {
			h.RequestURI += "?" + query
		}
		h.Header["User-Agent"] = []string{ua}
		r := &edge.Request{ID: id, HTTP: h, Start: testStart, Host: "h"}
		rec := &edge.Record{Status: 200, TimeTaken: time.Millisecond}

		l := &Log{location: DefaultLocation, now: time.Now}
		line := string(l.appendLine(nil, r, rec))
		if !strings.HasSuffix(line, "\n") {
			t.Fatalf("line does not end with a newline: %q", line)
		}
		line = line[:len(line)-1]
		for i := 0; i < len(line); i++ {
			if c := line[i]; c != '\t' && (c <= ' ' || c >= 0x7f) {
				t.Fatalf("line has raw byte %#x at %d: %q", c, i, line)
			}
		}
		fields := strings.Split(line, "\t")
		if len(fields) != 33 {
			t.Fatalf("line has %d fields, want 33: %q", len(fields), line)
		}
		check := func(i int, name, want string) {
			got := fields[i]
			if want == "" {
				if got != "-" {
					t.Errorf("%s = %q for an empty value, want -", name, got)
				}
				return
			}
			if got := unescapeW3C(got); got != want {
				t.Errorf("%s decodes to %q, want %q", name, got, want)
			}
		}
		check(10, "cs(User-Agent)", ua)
		check(7, "cs-uri-stem", h.RequestURI[:len(h.RequestURI)-len(query)-boolLen(query != "")])
		check(11, "cs-uri-query", query)
		check(14, "x-edge-request-id", id)

		l.json = true
		js := l.appendLine(nil, r, rec)
		var m map[string]any
		if err := json.Unmarshal(js, &m); err != nil {
			t.Fatalf("invalid JSON %s: %v", js, err)
		}
		if len(m) != 33 {
			t.Errorf("json has %d keys, want 33", len(m))
		}
		if ua != "" && m["cs(User-Agent)"] != validUTF8(ua) {
			t.Errorf("json cs(User-Agent) = %q, want %q", m["cs(User-Agent)"], validUTF8(ua))
		}
		if id != "" && m["x-edge-request-id"] != validUTF8(id) {
			t.Errorf("json x-edge-request-id = %q, want %q", m["x-edge-request-id"], validUTF8(id))
		}
	})
}

func boolLen(v bool) int {
	if v {
		return 1
	}
	return 0
}

// FuzzFillResponse checks the response-header parsing: any Content-Length
// and Content-Range give sane numbers and a well-formed line.
func FuzzFillResponse(f *testing.F) {
	f.Add("text/html", "78", "bytes 0-99/1234")
	f.Add("", "-1", "bytes */20")
	f.Add("a b", "99999999999999999999", "bytes 5-4/9")
	f.Fuzz(func(t *testing.T, ctype, clen, crange string) {
		var e entry
		fillResponse(&e, http.Header{"Content-Type": {ctype}, "Content-Length": {clen}, "Content-Range": {crange}})
		if e.contentLen < -1 || e.rangeStart < -1 || e.rangeEnd < -1 {
			t.Fatalf("negative field: %+v", e)
		}
		if (e.rangeStart < 0) != (e.rangeEnd < 0) || e.rangeStart > e.rangeEnd {
			t.Fatalf("range %d-%d from %q", e.rangeStart, e.rangeEnd, crange)
		}
		if e.contentLen >= 0 && strings.TrimLeft(clen, "0") != strings.TrimLeft(strconv.FormatInt(e.contentLen, 10), "0") {
			t.Fatalf("Content-Length %q parsed as %d", clen, e.contentLen)
		}
		if n := strings.Count(string(e.appendW3C(nil)), "\t"); n != 32 {
			t.Fatalf("line has %d tabs, want 32", n)
		}
	})
}
