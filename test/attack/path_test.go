package attack

import (
	"net/http"
	"net/url"
	"path"
	"strings"
	"testing"
)

// pathCase is one spelling of a request target and what must come of it.
type pathCase struct {
	name   string
	method string // GET unless set
	target string // the request target, byte for byte
	token  bool   // send alice's token (orders:read)
	header string // extra header lines, each ending in CRLF
	status int
	// origin is the target the origin must receive, after the /prod stage
	// of the origin URL; "" means nothing may reach the origin.
	origin string
	// understood is the path the lenient origin must understand (after
	// /prod); "" means the path of origin.
	understood string
}

// pathHead is the request head of c.
func (e *env) pathHead(c pathCase) string {
	m := c.method
	if m == "" {
		m = "GET"
	}
	h := m + " " + c.target + " HTTP/1.1\r\nHost: " + host + "\r\n"
	if c.token {
		h += "Authorization: Bearer " + e.reader() + "\r\n"
	}
	return h + c.header + "\r\n"
}

// runPathCases sends every case on its own connection, one after the
// other (each case counts what reached the shared origin), and checks the
// one-view property: the origin received exactly the canonical target, and
// understood exactly the resource the edge answered for.
func runPathCases(t *testing.T, e *env, cases []pathCase, strict bool) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := e.origin.count()
			w := wire(t, e.addr, e.pathHead(c), 1)
			if w.err != nil || len(w.responses) != 1 {
				t.Fatalf("%q: got %v (%v), want one answer", c.target, w.statuses(), w.err)
			}
			res := w.responses[0]
			if res.status != c.status {
				t.Errorf("%q: status %d (%s), want %d", c.target, res.status, res.body, c.status)
			}
			got := e.origin.since(n)
			if c.origin == "" {
				if len(got) != 0 {
					t.Fatalf("%q reached the origin as %q (understood %q), want nothing", c.target, got[0].Target, got[0].Path)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("%q: the origin got %d requests, want exactly 1", c.target, len(got))
			}
			understood := c.understood
			if understood == "" {
				understood, _, _ = strings.Cut(c.origin, "?")
				understood = lenientPath(understood)
			}
			o := got[0]
			if o.Target != "/prod"+c.origin {
				t.Errorf("%q: the origin got target %q, want %q", c.target, o.Target, "/prod"+c.origin)
			}
			if o.Path != "/prod"+understood {
				t.Errorf("%q: the origin understood %q, want %q", c.target, o.Path, "/prod"+understood)
			}
			user := ""
			if c.token {
				user = "alice"
			}
			if want := "resource=" + o.Path + " user=" + user; res.status == http.StatusOK && res.body != want {
				t.Errorf("%q: body %q, want %q", c.target, res.body, want)
			}
			if strict {
				if once := singleDecodedPath(o.Target); once != o.Path {
					t.Errorf("%q: an origin decoding twice reads %q, one decoding once reads %q", c.target, o.Path, once)
				}
			}
		})
	}
}

// singleDecodedPath is how a strict origin resolves a target: the path
// decoded once, ";params" dropped, dot segments resolved. On every target
// the edge forwards with its default settings, it must agree with
// lenientPath (which decodes twice and reads "\" as "/").
func singleDecodedPath(target string) string {
	p, _, _ := strings.Cut(target, "?")
	if d, err := url.PathUnescape(p); err == nil {
		p = d
	}
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if j := strings.IndexByte(s, ';'); j >= 0 {
			segs[i] = s[:j]
		}
	}
	return path.Clean("/" + strings.Join(segs, "/"))
}

// TestPath_OneView attacks the canonical path: every spelling that origins
// disagree on is refused, every other one is forwarded as exactly the
// canonical path the edge matched, authorized and keyed the cache on.
//
// Refusals are sent under /public/, the behavior without a function: there
// nothing but the path rules stands between the spelling and the origin,
// and the lenient origin would read most of them as /admin.
func TestPath_OneView(t *testing.T) {
	t.Parallel()
	bad := http.StatusBadRequest
	cases := []pathCase{
		// Encoded delimiters.
		{name: "encoded slash %2F", target: "/public/a%2F..%2F..%2Fadmin", status: bad},
		{name: "encoded slash lower-case %2f", target: "/public/a%2f..%2f..%2fadmin", status: bad},
		{name: "encoded backslash %5C", target: "/public/a%5C..%5C..%5Cadmin", status: bad},
		{name: "encoded backslash lower-case %5c", target: "/public/a%5c..%5cadmin", status: bad},
		{name: "raw backslash", target: `/public/..\admin`, status: bad},
		{name: "raw backslash as the only separator", target: `/public\..\admin`, status: bad},
		// NUL and control characters.
		{name: "encoded NUL %00", target: "/public/report.pdf%00.json", status: bad},
		{name: "encoded line feed %0A", target: "/public/a%0a", status: bad},
		{name: "encoded CRLF header injection", target: "/public/a%0D%0AX-Injected:%201", status: bad},
		{name: "encoded DEL %7F", target: "/public/a%7F", status: bad},
		{name: "encoded tab %09", target: "/public/a%09b", status: bad},
		// Invalid UTF-8.
		{name: "overlong dots %C0%AE%C0%AE", target: "/public/%C0%AE%C0%AE/admin", status: bad},
		{name: "overlong slash %C0%AF", target: "/public/..%C0%AF..%C0%AFadmin", status: bad},
		{name: "three-byte overlong slash %E0%80%AF", target: "/public/..%E0%80%AFadmin", status: bad},
		{name: "UTF-16 surrogate %ED%A0%80", target: "/public/%ED%A0%80", status: bad},
		{name: "invalid byte %FF", target: "/public/%FF", status: bad},
		{name: "truncated UTF-8 sequence", target: "/public/caf%C3", status: bad},
		{name: "raw invalid UTF-8 byte", target: "/public/caf\xe9", status: bad},
		// Invalid percent-encoding.
		{name: "IIS %u encoding", target: "/public/%u002e%u002e/admin", status: bad},
		{name: "invalid percent-encoding %zz", target: "/public/a%zz", status: bad},
		{name: "truncated percent-encoding", target: "/public/a%2", status: bad},
		// Dot segments with parameters (matrix-parameter origins).
		{name: "dot-dot with parameters ..;", target: "/public/..;/admin", status: bad},
		{name: "dot-dot with parameter values ..;x=1", target: "/public/..;x=1/admin", status: bad},
		{name: "dot with parameters .;", target: "/public/.;/x", status: bad},
		{name: "encoded dot-dot with parameters %2e%2e;", target: "/public/%2e%2e;/admin", status: bad},
		{name: "dot-dot with encoded semicolon ..%3B", target: "/public/..%3B/admin", status: bad},
		{name: "dot-dot with lower-case encoded semicolon ..%3b", target: "/public/..%3bx/admin", status: bad},
		// Double encoding.
		{name: "double-encoded slash %252F", target: "/public/a%252F..%252F..%252Fadmin", status: bad},
		{name: "double-encoded dots %252e%252e", target: "/public/%252e%252e/admin", status: bad},
		{name: "double encoding assembled from encoded digits %25%32%65", target: "/public/%25%32%65%25%32%65/admin", status: bad},
		{name: "double-encoded backslash %255C", target: "/public/..%255Cadmin", status: bad},
		// Dot segments in every spelling are resolved before matching.
		{name: "dot-dot out of the open behavior", target: "/public/../admin/users", token: true, status: http.StatusForbidden},
		{name: "encoded dot-dot out of the open behavior", target: "/public/%2e%2e/admin/users", status: http.StatusUnauthorized},
		{name: "mixed-case encoded dot-dot", target: "/public/%2E%2e/admin/users", status: http.StatusUnauthorized},
		{name: "half-encoded dot-dot .%2e", target: "/public/.%2e/admin/users", status: http.StatusUnauthorized},
		{name: "half-encoded dot-dot %2e.", target: "/public/%2e./admin/users", status: http.StatusUnauthorized},
		{name: "dot-dot above the root stays at the root", target: "/../../../public/root", status: http.StatusOK, origin: "/public/root"},
		{name: "dot-dot inside an authorized path", target: "/orders/7/../8", token: true, status: http.StatusOK, origin: "/orders/8"},
		{name: "single dot segments", target: "/orders/./9", token: true, status: http.StatusOK, origin: "/orders/9"},
		{name: "encoded single dot", target: "/orders/%2e/10", token: true, status: http.StatusOK, origin: "/orders/10"},
		{name: "trailing dot-dot keeps a trailing slash", target: "/echo/a/b/..", token: true, status: http.StatusOK, origin: "/echo/a/", understood: "/echo/a"},
		{name: "three dots are a name, not a dot segment", target: "/echo/.../x", token: true, status: http.StatusOK, origin: "/echo/.../x"},
		// Duplicate slashes (merged by default).
		{name: "duplicate slashes are merged", target: "/orders//11", token: true, status: http.StatusOK, origin: "/orders/11"},
		{name: "many slashes are merged", target: "/public///many", status: http.StatusOK, origin: "/public/many"},
		{name: "leading double slash is a path, not an authority", target: "//evil.example/public/x", token: true, status: http.StatusForbidden},
		// Encodings that are decoded or kept, never reinterpreted.
		{name: "encoded letters cannot dodge authorization", target: "/%6Frders/12", status: http.StatusUnauthorized},
		{name: "encoded letters are decoded", target: "/%6frders/%31%33", token: true, status: http.StatusOK, origin: "/orders/13"},
		{name: "encoded unreserved punctuation is decoded", target: "/echo/%7e%2D%2e%5F", token: true, status: http.StatusOK, origin: "/echo/~-._"},
		{name: "percent-encoding hex is upper-cased", target: "/echo/caf%c3%a9", token: true, status: http.StatusOK, origin: "/echo/caf%C3%A9", understood: "/echo/café"},
		{name: "raw UTF-8 is percent-encoded", target: "/echo/na\xc3\xafve", token: true, status: http.StatusOK, origin: "/echo/na%C3%AFve", understood: "/echo/naïve"},
		{name: "raw unsafe characters are percent-encoded", target: "/echo/\"<>^`{|}", token: true, status: http.StatusOK, origin: "/echo/%22%3C%3E%5E%60%7B%7C%7D", understood: "/echo/\"<>^`{|}"},
		{name: "raw hash is encoded, never a fragment", target: "/echo/frag#admin", token: true, status: http.StatusOK, origin: "/echo/frag%23admin", understood: "/echo/frag#admin"},
		{name: "encoded hash stays encoded", target: "/echo/frag2%23admin", token: true, status: http.StatusOK, origin: "/echo/frag2%23admin", understood: "/echo/frag2#admin"},
		{name: "encoded question mark stays in the path", target: "/echo/qm%3Fx=1", token: true, status: http.StatusOK, origin: "/echo/qm%3Fx=1", understood: "/echo/qm?x=1"},
		{name: "reserved characters keep their spelling", target: "/echo/s%2bt+u%3Dv=w", token: true, status: http.StatusOK, origin: "/echo/s%2Bt+u%3Dv=w", understood: "/echo/s+t+u=v=w"},
		{name: "fullwidth solidus is a character, not a slash", target: "/echo/x%EF%BC%8Fadmin", token: true, status: http.StatusOK, origin: "/echo/x%EF%BC%8Fadmin", understood: "/echo/x／admin"},
		// Matrix parameters pass verbatim (docs/security.md).
		{name: "matrix parameter passes verbatim", target: "/orders/14;jsessionid=x", token: true, status: http.StatusOK, origin: "/orders/14;jsessionid=x", understood: "/orders/14"},
		{name: "matrix parameter on a parent segment is matched verbatim", target: "/orders;x/15", token: true, status: http.StatusForbidden},
		{name: "encoded and raw semicolons stay distinct", target: "/echo/m%3bn;o", token: true, status: http.StatusOK, origin: "/echo/m%3Bn;o", understood: "/echo/m"},
		// Matching is case-sensitive.
		{name: "upper-case path is not the authorized one", target: "/ORDERS/16", token: true, status: http.StatusForbidden},
		{name: "upper-case path is not the open behavior", target: "/Public/x", status: http.StatusForbidden},
		// The query passes byte for byte and never affects the path.
		{name: "query with encoded traversal is forwarded verbatim", target: "/echo/q1?b=2&a=1&a=%2F..%2Fadmin", token: true, status: http.StatusOK, origin: "/echo/q1?b=2&a=1&a=%2F..%2Fadmin"},
		{name: "dot segments in the query are not resolved", target: "/echo/q2?next=/../admin", token: true, status: http.StatusOK, origin: "/echo/q2?next=/../admin"},
		{name: "second question mark belongs to the query", target: "/echo/q3??a=1", token: true, status: http.StatusOK, origin: "/echo/q3??a=1"},
		{name: "backslash and hash in the query pass verbatim", target: `/echo/q4?x=\..\admin#f`, token: true, status: http.StatusOK, origin: `/echo/q4?x=\..\admin#f`, understood: "/echo/q4"},
		{name: "dot-dot right before the query is resolved", target: "/echo/q5/x/..?a=1", token: true, status: http.StatusOK, origin: "/echo/q5/?a=1", understood: "/echo/q5"},
		{name: "query cannot carry a path into the open behavior", target: "/admin/x?/public/y", status: http.StatusUnauthorized},
		// Absolute-form: matched by its path; its authority never selects an origin.
		{name: "absolute-form authority never selects an origin", target: "http://127.0.0.1:1/public/abs1", status: http.StatusOK, origin: "/public/abs1"},
		{name: "absolute-form with userinfo", target: "http://api.example@127.0.0.1:1/public/abs2", status: http.StatusOK, origin: "/public/abs2"},
		{name: "absolute-form https scheme", target: "https://api.example/echo/abs3", token: true, status: http.StatusOK, origin: "/echo/abs3"},
		{name: "absolute-form upper-case scheme", target: "HTTP://api.example/echo/abs4", token: true, status: http.StatusOK, origin: "/echo/abs4"},
		{name: "absolute-form path is canonicalised", target: "http://api.example/public/../admin/abs5", token: true, status: http.StatusForbidden},
		{name: "absolute-form path refusals apply", target: "http://api.example/public/a%2Fb", status: bad},
		{name: "absolute-form without a path", target: "http://api.example", token: true, status: http.StatusForbidden},
		{name: "absolute-form with an empty authority", target: "http:///public/abs6", status: http.StatusOK, origin: "/public/abs6"},
		{name: "absolute-form names another API", target: "http://evil.example/echo/abs7", token: true, status: http.StatusNotFound},
		{name: "absolute-form with another scheme", target: "ftp://api.example/public/abs8", status: bad},
		{name: "target without a leading slash", target: "public/abs9", status: bad},
		// Request forms and methods that never reach an origin.
		{name: "asterisk-form OPTIONS", method: "OPTIONS", target: "*", status: bad},
		{name: "asterisk-form GET", target: "*", status: bad},
		{name: "CONNECT in authority-form", method: "CONNECT", target: "api.example:443", status: http.StatusMethodNotAllowed},
		{name: "CONNECT in origin-form", method: "CONNECT", target: "/public/tunnel", status: http.StatusMethodNotAllowed},
		{name: "authority-form GET", target: "api.example:80", status: bad},
		{name: "TRACE is not an allowed method", method: "TRACE", target: "/public/trace", status: http.StatusMethodNotAllowed},
		{name: "methods are case-sensitive", method: "get", target: "/public/lower", status: http.StatusMethodNotAllowed},
	}
	for _, l := range lanes {
		t.Run(l.name, func(t *testing.T) {
			t.Parallel()
			runPathCases(t, newEnvWith(t, options{top: l.top}), cases, true)
		})
	}
}

// lanes are the two ways the edge serves HTTP/1.1: its fast lane for
// plain GET and HEAD, and net/http for everything else. The suites made
// of GET attacks run against both.
var lanes = []struct{ name, top string }{
	{"fast lane", ""},
	{"net/http", "http1_fast_lane: false"},
}

// TestPath_Upgrades checks that only a WebSocket upgrade ever reaches an
// origin as an upgrade, and that an upgrade the origin does not accept
// opens no tunnel past the edge.
func TestPath_Upgrades(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tests := []struct {
		name    string
		method  string
		header  string
		upgrade string // Upgrade the origin must see
	}{
		{"h2c upgrade is not honoured", "GET", "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n", ""},
		{"h2c upgrade without nominating its settings", "GET", "Connection: Upgrade\r\nUpgrade: h2c\r\n", ""},
		{"upgrade to an arbitrary protocol", "GET", "Connection: Upgrade\r\nUpgrade: smuggle/1.0\r\n", ""},
		{"upgrade without Connection", "GET", "Upgrade: websocket\r\n", ""},
		{"websocket upgrade on POST", "POST", "Connection: Upgrade\r\nUpgrade: websocket\r\nContent-Length: 0\r\n", ""},
		{"websocket next to another protocol", "GET", "Connection: keep-alive, Upgrade\r\nUpgrade: foo, websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", "websocket"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := e.origin.count()
			target := "/echo/upgrade" + string(rune('a'+i))
			req := tt.method + " " + target + " HTTP/1.1\r\nHost: " + host + "\r\nAuthorization: Bearer " + e.reader() + "\r\n" + tt.header + "\r\n"
			w := wire(t, e.addr, req, 1)
			if got := w.statuses(); len(got) != 1 || got[0] != http.StatusOK {
				t.Fatalf("statuses %v (%v), want [200]", got, w.err)
			}
			got := e.origin.since(n)
			if len(got) != 1 || got[0].Target != "/prod"+target {
				t.Fatalf("origin got %d requests, want exactly %s", len(got), target)
			}
			h := got[0].Header
			if up := h.Get("Upgrade"); up != tt.upgrade {
				t.Errorf("origin saw Upgrade %q, want %q", up, tt.upgrade)
			}
			wantConn := ""
			if tt.upgrade != "" {
				wantConn = "Upgrade"
			}
			if c := h.Get("Connection"); !strings.EqualFold(c, wantConn) && !(wantConn == "" && strings.EqualFold(c, "keep-alive")) {
				t.Errorf("origin saw Connection %q, want %q", c, wantConn)
			}
			if s := h.Get("Http2-Settings"); s != "" {
				t.Errorf("origin saw HTTP2-Settings %q", s)
			}
		})
	}

	// An origin that answers a WebSocket handshake with anything but 101
	// leaves the connection HTTP: what follows is a new request, which the
	// edge authorizes like any other.
	t.Run("websocket refused by the origin opens no tunnel", func(t *testing.T) {
		n := e.origin.count()
		req := "GET /echo/ws-refused HTTP/1.1\r\nHost: " + host + "\r\nAuthorization: Bearer " + e.reader() + "\r\n" +
			"Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n" +
			"GET /admin/tunnelled HTTP/1.1\r\nHost: " + host + "\r\n\r\n"
		w := wire(t, e.addr, req, 2)
		if got := w.statuses(); len(got) != 2 || got[0] != http.StatusOK || got[1] != http.StatusUnauthorized {
			t.Fatalf("statuses %v (%v), want [200 401]", got, w.err)
		}
		for _, r := range e.origin.since(n) {
			if strings.Contains(r.Path, "admin") {
				t.Fatalf("the origin got %q through the refused upgrade", r.Target)
			}
		}
	})
}

// TestPath_Knobs turns every path knob off and checks that each changes
// exactly its own rule (docs/security.md), and that the rest still holds.
func TestPath_Knobs(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, options{top: "paths: {merge_slashes: false, reject_encoded_slash: false, reject_double_encoding: false}"})
	bad := http.StatusBadRequest
	cases := []pathCase{
		{name: "merge_slashes off keeps empty segments", target: "/public//kept", status: http.StatusOK, origin: "/public//kept", understood: "/public/kept"},
		{name: "merge_slashes off still resolves dot segments", target: "/public//x/../dots", status: http.StatusOK, origin: "/public//dots", understood: "/public/dots"},
		{name: "empty segments on an authorized path are denied by the decision", target: "/echo//kept", token: true, status: bad},
		{name: "reject_encoded_slash off keeps %2F encoded", target: "/public/a%2fb", status: http.StatusOK, origin: "/public/a%2Fb", understood: "/public/a/b"},
		{name: "reject_encoded_slash off keeps %5C encoded", target: "/public/c%5cd", status: http.StatusOK, origin: "/public/c%5Cd", understood: "/public/c/d"},
		{name: "reject_double_encoding off keeps %25 encoded", target: "/public/e%252Ff", status: http.StatusOK, origin: "/public/e%252Ff", understood: "/public/e/f"},
		{name: "raw backslash is refused whatever the knobs", target: `/public/..\admin`, status: bad},
		{name: "NUL is refused whatever the knobs", target: "/public/a%00", status: bad},
		{name: "dot-dot with parameters is refused whatever the knobs", target: "/public/..;/admin", status: bad},
		{name: "overlong UTF-8 is refused whatever the knobs", target: "/public/%C0%AE%C0%AE/admin", status: bad},
	}
	runPathCases(t, e, cases, false)
}
