package attack

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// Group 3 of docs/security.md: owned headers. A client can never set a
// header the edge or the decision owns, on any behavior, in any spelling;
// Connection can never remove what the edge adds; hop-by-hop headers and
// request trailers never reach the origin.

// ownedCase is one spoofing attempt: header lines sent by the client.
// marker is a string from the spoofed values that must not appear
// anywhere in what the origin receives ("" when the checks of
// ownedInvariants say everything).
type ownedCase struct {
	name   string
	lines  []string
	marker string
}

// ownedBehaviors are the three kinds of behavior of the default
// configuration: no function (cached), authorized and cached, authorized
// and uncached (forwards every header).
var ownedBehaviors = []struct {
	name       string
	prefix     string
	authorized bool
}{
	{"public", "/public/own-", false},
	{"orders", "/orders/own-", true},
	{"catchall", "/echo/own-", true},
}

var ownedCases = []ownedCase{
	// The identity header a decision statement sets (x-user-id), in every
	// spelling a lenient origin may fold into the same name.
	{"x-user-id canonical", []string{"X-User-Id: evil"}, "evil"},
	{"x-user-id lower case", []string{"x-user-id: evil"}, "evil"},
	{"x-user-id upper case", []string{"X-USER-ID: evil"}, "evil"},
	{"x-user-id mixed case", []string{"x-UsEr-iD: evil"}, "evil"},
	{"x-user-id twice", []string{"X-User-Id: evil1", "x-user-id: evil2"}, "evil"},
	{"x-user-id empty value", []string{"X-User-Id:"}, ""},
	{"x-user-id value padded with blanks", []string{"X-User-Id: \t evil \t "}, "evil"},
	{"x_user_id underscores (CGI folds to HTTP_X_USER_ID)", []string{"x_user_id: evil"}, "evil"},
	{"X_USER_ID underscores upper case", []string{"X_USER_ID: evil"}, "evil"},
	{"x-user_id dash and underscore mixed", []string{"x-user_id: evil"}, "evil"},
	// The gateway credential header.
	{"credential header CLIENT-TOKEN", []string{"CLIENT-TOKEN: evil-credential"}, "evil-credential"},
	{"credential header lower case", []string{"client-token: evil-credential"}, "evil-credential"},
	{"credential header with underscore", []string{"client_token: evil-credential"}, "evil-credential"},
	// Forwarding headers: the edge says who the viewer is.
	{"x-forwarded-for", []string{"X-Forwarded-For: 198.51.100.66"}, "198.51.100.66"},
	{"x-forwarded-for twice", []string{"X-Forwarded-For: 198.51.100.66", "X-Forwarded-For: 198.51.100.67"}, "198.51.100.6"},
	{"x-forwarded-host", []string{"X-Forwarded-Host: evil.example"}, "evil"},
	{"x-forwarded-proto", []string{"X-Forwarded-Proto: https"}, ""},
	{"x-forwarded-port prefix rule", []string{"X-Forwarded-Port: 8443"}, "8443"},
	{"x-forwarded-prefix prefix rule", []string{"X-Forwarded-Prefix: /evil"}, "evil"},
	{"x-forwarded-server prefix rule", []string{"x-forwarded-server: evil"}, "evil"},
	{"x_forwarded_for underscores", []string{"x_forwarded_for: 198.51.100.66"}, "198.51.100.66"},
	{"forwarded", []string{"Forwarded: for=198.51.100.66;host=evil.example;proto=https"}, "198.51.100.66"},
	{"via", []string{"Via: 1.1 evil-proxy"}, "evil"},
	{"x-real-ip", []string{"X-Real-IP: 198.51.100.66"}, "198.51.100.66"},
	{"true-client-ip", []string{"True-Client-IP: 198.51.100.66"}, "198.51.100.66"},
	{"x-request-id", []string{"X-Request-Id: evil-id"}, "evil"},
	// The configured owned_headers list (x-tenant).
	{"configured owned header", []string{"X-Tenant: evil"}, "evil"},
	{"configured owned header upper case", []string{"X-TENANT: evil"}, "evil"},
	// Method and URL override headers: an origin framework that honours
	// them acts on another method or path than the one authorized.
	{"x-http-method-override", []string{"X-HTTP-Method-Override: DELETE"}, "delete"},
	{"x-http-method", []string{"X-HTTP-Method: DELETE"}, "delete"},
	{"x-method-override", []string{"X-Method-Override: DELETE"}, "delete"},
	{"x-original-url", []string{"X-Original-URL: /admin/evil"}, "evil"},
	{"x-rewrite-url", []string{"X-Rewrite-URL: /admin/evil"}, "evil"},
	// Connection nominating headers the edge adds afterwards.
	{"connection nominates x-user-id", []string{"Connection: x-user-id"}, ""},
	{"connection nominates forwarding headers", []string{"Connection: x-forwarded-for, via"}, ""},
	{"connection nominates request id and proto", []string{"Connection: X-Request-Id, X-Forwarded-Proto, X-Forwarded-Host"}, ""},
	{"connection nominates with spoofed value", []string{"Connection: keep-alive, X-USER-ID", "X-User-Id: evil"}, "evil"},
	// Hop-by-hop headers are the client's hop only.
	{"keep-alive", []string{"Keep-Alive: timeout=5, evil=1"}, "evil"},
	{"te other than trailers", []string{"TE: gzip;q=evil"}, "evil"},
	{"trailer announcement", []string{"Trailer: X-Evil"}, "evil"},
	{"upgrade other than websocket", []string{"Connection: upgrade", "Upgrade: evil-protocol"}, "evil"},
	{"proxy-authorization", []string{"Proxy-Authorization: Basic ZXZpbDpldmls"}, "ZXZpbDpldmls"},
	{"proxy-connection", []string{"Proxy-Connection: evil"}, "evil"},
	{"proxy-authenticate", []string{"Proxy-Authenticate: evil"}, "evil"},
	// All of it at once.
	{"every owned header at once", []string{
		"X-User-Id: evil", "CLIENT-TOKEN: evil", "X-Forwarded-For: evil", "Forwarded: for=evil",
		"Via: evil", "X-Real-Ip: evil", "True-Client-Ip: evil", "X-Tenant: evil",
		"X-Original-URL: /evil", "X-HTTP-Method-Override: evil", "Connection: x-user-id, via",
	}, "evil"},
}

// TestOwnedHeaders sends every spoofing attempt to every kind of behavior
// and checks, byte for byte, what the origin got.
func TestOwnedHeaders(t *testing.T) {
	t.Parallel()
	for _, l := range lanes {
		t.Run(l.name, func(t *testing.T) {
			t.Parallel()
			ownedHeaders(t, newEnvWith(t, options{top: l.top}))
		})
	}
}

// ownedHeaders runs TestOwnedHeaders' table against one edge.
func ownedHeaders(t *testing.T, e *env) {
	tok := e.writer() // bob: orders:read and orders:write
	n := 0
	for _, b := range ownedBehaviors {
		for _, c := range ownedCases {
			n++
			path := fmt.Sprintf("%s%d", b.prefix, n)
			t.Run(b.name+"/"+c.name, func(t *testing.T) {
				lines := c.lines
				if b.authorized {
					lines = append([]string{"Authorization: Bearer " + tok}, lines...)
				}
				before := e.origin.count()
				res := e.secOne(secRaw("GET", path, lines, ""))
				if res.status != http.StatusOK {
					t.Fatalf("GET %s = %d %q, want 200", path, res.status, res.body)
				}
				got := secReached(t, e.origin, before, path)
				ownedInvariants(t, got, res, b.authorized, "bob")
				if c.marker != "" {
					secNoValue(t, got, c.marker)
				}
			})
		}
	}
}

// ownedInvariants checks the headers the edge owns on one origin request:
// exactly the edge's values, never the client's.
func ownedInvariants(t *testing.T, got originRequest, res response, authorized bool, user string) {
	t.Helper()
	if authorized {
		secHeaderIs(t, got, "X-User-Id", user)
	} else {
		secHeaderIs(t, got, "X-User-Id")
	}
	secHeaderIs(t, got, "X-Forwarded-For", "127.0.0.1")
	secHeaderIs(t, got, "X-Forwarded-Proto", "http")
	secHeaderIs(t, got, "X-Forwarded-Host", host)
	secHeaderIs(t, got, "Via", "1.1 edgeward")
	secHeaderIs(t, got, "X-Request-Id", res.header.Get("X-Request-Id"))
	for _, name := range []string{"Client-Token", "Forwarded", "X-Real-Ip", "True-Client-Ip", "X-Tenant",
		"X-Http-Method-Override", "X-Http-Method", "X-Method-Override", "X-Original-Url", "X-Rewrite-Url",
		"X-Forwarded-Port", "X-Forwarded-Prefix", "X-Forwarded-Server", "Authorization",
		"Connection", "Keep-Alive", "Trailer", "Upgrade", "Proxy-Authorization", "Proxy-Connection", "Proxy-Authenticate"} {
		secHeaderIs(t, got, name)
	}
	for name := range got.Header {
		if strings.ContainsRune(name, '_') {
			t.Fatalf("origin received the underscore header %q: %q", name, got.Header[name])
		}
	}
}

// TestOwnedHeaders_Trailers: a chunked body's trailer section cannot
// smuggle owned headers past the hygiene that ran on the head.
func TestOwnedHeaders_Trailers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// This origin reads a chunked body up to its last chunk and leaves
	// the final CRLF unread, so a connection that carried one is never
	// reused (a POST on it would not be retried): close after each.
	for _, p := range []string{"/public/trailer-", "/echo/trailer-"} {
		e.origin.route(p, func(r originRequest) originReply {
			rep := e.origin.defaultReply(r)
			rep.Header.Set("Connection", "close")
			return rep
		})
	}
	tok := e.writer()
	trailer := "X-User-Id: evil\r\nClient-Token: evil\r\nX-Forwarded-For: evil\r\nX-Original-URL: /evil\r\n\r\n"
	for _, c := range []struct {
		name       string
		path       string
		announce   bool
		authorized bool
	}{
		{"undeclared trailers, no function", "/public/trailer-1", false, false},
		{"declared trailers, no function", "/public/trailer-2", true, false},
		{"undeclared trailers, authorized", "/echo/trailer-3", false, true},
		{"declared trailers, authorized", "/echo/trailer-4", true, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			lines := []string{"Transfer-Encoding: chunked", "Content-Type: text/plain"}
			if c.announce {
				lines = append(lines, "Trailer: X-User-Id, Client-Token, X-Forwarded-For, X-Original-URL")
			}
			if c.authorized {
				lines = append(lines, "Authorization: Bearer "+tok)
			}
			before := e.origin.count()
			res := e.secOne(secRaw("POST", c.path, lines, "5\r\nhello\r\n0\r\n"+trailer))
			if res.status != http.StatusOK {
				t.Fatalf("POST %s = %d %q, want 200", c.path, res.status, res.body)
			}
			got := secReached(t, e.origin, before, c.path)
			if string(got.Body) != "hello" {
				t.Fatalf("origin body = %q, want %q", got.Body, "hello")
			}
			ownedInvariants(t, got, res, c.authorized, "bob")
			secNoValue(t, got, "evil")
		})
	}
	// Every request the origin saw is one the suite sent: this origin
	// reads no trailers, so a trailer section forwarded after a body would
	// have been read as a request whose method is a header name.
	probe := e.do("GET", "/public/trailer-probe", nil, "")
	if probe.status != http.StatusOK {
		t.Fatalf("probe = %d", probe.status)
	}
	for _, r := range e.origin.requests() {
		if r.Method != "GET" && r.Method != "POST" {
			t.Fatalf("origin read a smuggled request %q: %q", r.Method, r.Raw)
		}
	}
}

// TestOwnedHeaders_NeverReachTheDecision: the decision service sees the
// request after hygiene, so a policy reading x-user-id, the forwarding
// headers or an override header reads the edge's values or none, and
// the gateway credential it gets is the edge's own.
func TestOwnedHeaders_NeverReachTheDecision(t *testing.T) {
	t.Parallel()
	svc := newSecSideband(t)
	e := newEnvWith(t, options{functions: svc.functions()})
	var all []string
	for _, c := range ownedCases {
		all = append(all, c.lines...)
	}
	res := e.secOne(secRaw("GET", "/echo/own-decision", append([]string{"Authorization: Bearer " + e.reader()}, all...), ""))
	if res.status != http.StatusOK {
		t.Fatalf("GET /echo/own-decision = %d %q, want 200", res.status, res.body)
	}
	if svc.count() != 1 {
		t.Fatalf("the service was called %d times, want 1", svc.count())
	}
	for _, h := range svc.last().Headers {
		name := strings.ToLower(strings.ReplaceAll(h.Name, "_", "-"))
		if strings.Contains(strings.ToLower(h.Value), "evil") || strings.HasPrefix(name, "x-forwarded-") ||
			strings.Contains(h.Value, "198.51.100.6") {
			t.Errorf("the decision service saw %s: %q", h.Name, h.Value)
		}
		switch name {
		case "x-user-id", "client-token", "forwarded", "via", "x-real-ip", "true-client-ip", "x-tenant",
			"x-http-method-override", "x-http-method", "x-method-override", "x-original-url", "x-rewrite-url",
			"keep-alive", "proxy-authorization", "proxy-connection", "trailer", "upgrade":
			t.Errorf("the decision service saw %s: %q", h.Name, h.Value)
		}
	}
	svc.mu.Lock()
	cred := svc.headers[len(svc.headers)-1].Values("Client-Token")
	svc.mu.Unlock()
	if len(cred) != 1 || cred[0] != "gateway-credential" {
		t.Errorf("the service got credential %q, want the edge's own", cred)
	}
}
