package attack

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/edgeward/edgeward/internal/token/tokentest"
)

// Group 6 of docs/security.md: the cache. Authorization runs before every
// hit; objects are keyed by the canonical path; unkeyed headers never
// change what is stored; private answers are never shared; a deny never
// poisons the cache.

// TestCache_AuthorizationBeforeEveryHit stores an object for an allowed
// reader, then asks for it in every way a cache may answer without the
// origin (plain, HEAD, conditional, range, only-if-cached) with no token,
// a forged one, an expired one and one without the scope.
func TestCache_AuthorizationBeforeEveryHit(t *testing.T) {
	eachDecisionMode(t, testCacheAuthorizationBeforeEveryHit)
}

func testCacheAuthorizationBeforeEveryHit(t *testing.T, o options) {
	e := newEnvWith(t, o)
	const path = "/orders/cached-1"
	e.origin.route("/orders/cached-1", func(r originRequest) originReply {
		rep := e.origin.defaultReply(r)
		rep.Header.Set("ETag", `"v1"`)
		rep.Header.Set("Last-Modified", "Mon, 02 Jun 2025 10:00:00 GMT")
		return rep
	})
	reader := e.reader()
	if res := e.do("GET", path, bearer(reader), ""); res.status != http.StatusOK {
		t.Fatalf("fill: GET %s = %d %q", path, res.status, res.body)
	}
	forged := e.issuer.Mint(map[string]any{"sub": "mallory", "aud": audience, "scope": "orders:read"}, tokentest.WithAlgNone())
	expired := e.issuer.Mint(map[string]any{"sub": "mallory", "aud": audience, "scope": "orders:read", "exp": 1})
	noScope := e.token("mallory", "profile")
	otherAud := e.issuer.Mint(map[string]any{"sub": "mallory", "aud": "https://other.example", "scope": "orders:read"})

	asks := []struct {
		name   string
		method string
		header http.Header
	}{
		{"GET", "GET", nil},
		{"HEAD", "HEAD", nil},
		{"If-None-Match the stored ETag", "GET", http.Header{"If-None-Match": {`"v1"`}}},
		{"If-None-Match *", "GET", http.Header{"If-None-Match": {"*"}}},
		{"If-Modified-Since after Last-Modified", "GET", http.Header{"If-Modified-Since": {"Tue, 01 Jun 2100 10:00:00 GMT"}}},
		{"Range", "GET", http.Header{"Range": {"bytes=0-3"}}},
		{"Range with If-Range", "GET", http.Header{"Range": {"bytes=0-3"}, "If-Range": {`"v1"`}}},
		{"HEAD with Range", "HEAD", http.Header{"Range": {"bytes=0-3"}}},
		{"only-if-cached", "GET", http.Header{"Cache-Control": {"only-if-cached"}}},
		{"max-stale", "GET", http.Header{"Cache-Control": {"max-stale=3600"}}},
	}
	clients := []struct {
		name   string
		header http.Header
		status int
	}{
		{"no token", nil, http.StatusUnauthorized},
		{"alg none", bearer(forged), http.StatusUnauthorized},
		{"expired", bearer(expired), http.StatusUnauthorized},
		{"other audience", bearer(otherAud), http.StatusUnauthorized},
		{"insufficient scope", bearer(noScope), http.StatusForbidden},
	}
	for _, c := range clients {
		for _, a := range asks {
			t.Run(c.name+"/"+a.name, func(t *testing.T) {
				before := e.origin.count()
				h := with(c.header)
				for k, vs := range a.header {
					h[k] = vs
				}
				res := e.do(a.method, path, h, "")
				if res.status != c.status {
					t.Fatalf("%s %s = %d %q, want %d", a.method, path, res.status, res.body, c.status)
				}
				if strings.Contains(res.body, "resource=") || res.header.Get("ETag") != "" || res.header.Get("Content-Range") != "" ||
					res.header.Get("Age") != "" {
					t.Fatalf("the denied client got the stored object: %v %q", res.header, res.body)
				}
				secNothing(t, e.origin, before)
			})
		}
	}
	// Controls: for an allowed reader the same asks are answered from the
	// cache, so the denials above are authorization's, not a miss's.
	for _, c := range []struct {
		name   string
		method string
		header http.Header
		status int
		body   string
	}{
		{"control: allowed GET is a hit", "GET", nil, http.StatusOK, "resource=/prod" + path},
		{"control: allowed If-None-Match is a 304", "GET", http.Header{"If-None-Match": {`"v1"`}}, http.StatusNotModified, ""},
		{"control: allowed Range is a 206", "GET", http.Header{"Range": {"bytes=0-3"}}, http.StatusPartialContent, "reso"},
		{"control: allowed only-if-cached is a hit", "GET", http.Header{"Cache-Control": {"only-if-cached"}}, http.StatusOK, "resource=/prod" + path},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := e.origin.count()
			h := bearer(e.token("carol", "orders:read"))
			for k, vs := range c.header {
				h[k] = vs
			}
			res := e.do(c.method, path, h, "")
			if res.status != c.status || !strings.HasPrefix(res.body, c.body) {
				t.Fatalf("%s %s = %d %q, want %d %q", c.method, path, res.status, res.body, c.status, c.body)
			}
			secNothing(t, e.origin, before)
		})
	}
}

// TestCache_KeyedOnCanonicalPath: every spelling of a path shares its
// object; no spelling reaches another path's object.
func TestCache_KeyedOnCanonicalPath(t *testing.T) { eachDecisionMode(t, testCacheKeyedOnCanonicalPath) }

func testCacheKeyedOnCanonicalPath(t *testing.T, o options) {
	e := newEnvWith(t, o)
	tok := bearer(e.reader())
	if res := e.do("GET", "/orders/k1", tok, ""); res.status != http.StatusOK {
		t.Fatalf("fill: GET /orders/k1 = %d", res.status)
	}
	for _, target := range []string{
		"/orders/./k1", "/orders//k1", "//orders/k1", "/orders/%6B1", "/%6Frders/k1", "/orders/x/../k1",
		"/orders/%2e/k1", "/public/../orders/k1",
	} {
		t.Run("same object: "+target, func(t *testing.T) {
			before := e.origin.count()
			res := e.do("GET", target, tok, "")
			if res.status != http.StatusOK || res.body != "resource=/prod/orders/k1 user=alice" {
				t.Fatalf("GET %s = %d %q, want the stored /orders/k1", target, res.status, res.body)
			}
			secNothing(t, e.origin, before)
		})
	}
	for i, c := range []struct {
		target string
		status int
		path   string // what the edge authorized and the origin must see; "" for none
	}{
		{"/orders/k1/../k2", 200, "/orders/k2"},
		{"/orders/k1;/../k3", 200, "/orders/k3"},
		{"/orders/K1", 200, "/orders/K1"},
		{"/orders/k1/.", 403, ""}, // /orders/k1/: a trailing slash is another path, and no operation has it
		{"/orders/k1%2F..%2Fk4", 400, ""},
		{"/orders/k1%252F..%252Fk5", 400, ""},
		{"/orders/k1/..;/k6", 400, ""},
		{"/orders/k1%5C..%5Ck7", 400, ""},
	} {
		t.Run(fmt.Sprintf("other object %d: %s", i, c.target), func(t *testing.T) {
			before := e.origin.count()
			res := e.do("GET", c.target, tok, "")
			if res.status != c.status {
				t.Fatalf("GET %s = %d %q, want %d", c.target, res.status, res.body, c.status)
			}
			if strings.Contains(res.body, "/orders/k1 ") {
				t.Fatalf("GET %s was served /orders/k1's object: %q", c.target, res.body)
			}
			if c.path == "" {
				secNothing(t, e.origin, before)
				return
			}
			secReached(t, e.origin, before, c.path)
			if want := "resource=/prod" + c.path + " user=alice"; res.body != want {
				t.Fatalf("GET %s = %q, want %q", c.target, res.body, want)
			}
		})
	}
}

// TestCache_UnkeyedHeadersNeverPoison: an attacker's miss with headers
// that are not in the key stores nothing a later viewer could tell from
// a clean miss.
func TestCache_UnkeyedHeadersNeverPoison(t *testing.T) {
	eachDecisionMode(t, testCacheUnkeyedHeadersNeverPoison)
}

func testCacheUnkeyedHeadersNeverPoison(t *testing.T, o options) {
	e := newEnvWith(t, o)
	reflect := func(r originRequest) originReply {
		var b strings.Builder
		for _, h := range []string{"X-Forwarded-Host", "X-Host", "X-Forwarded-Server", "X-Original-Url", "X-Rewrite-Url",
			"X-Forwarded-Scheme", "X-Forwarded-Proto", "X-Http-Method-Override", "Forwarded", "X-Forwarded-Prefix",
			"User-Agent", "Cookie", "Accept-Language", "X-User-Id", "Origin", "X-Forwarded-Port"} {
			fmt.Fprintf(&b, "%s=%q ", h, r.Header.Values(h))
		}
		fmt.Fprintf(&b, "target=%s", r.Target)
		return originReply{Header: http.Header{"Cache-Control": {"public, max-age=60"},
			"Link": {"<https://" + r.Header.Get("X-Forwarded-Host") + "/app.js>; rel=preload"}}, Body: b.String()}
	}
	e.origin.route("/public/poison", reflect)
	e.origin.route("/orders/poison", reflect)
	reader := e.reader()
	cases := []struct {
		name   string
		target string
		header http.Header
		raw    string // a raw request instead (absolute-form)
	}{
		{"X-Forwarded-Host", "", http.Header{"X-Forwarded-Host": {"evil.example"}}, ""},
		{"X-Host", "", http.Header{"X-Host": {"evil.example"}}, ""},
		{"X-Forwarded-Server", "", http.Header{"X-Forwarded-Server": {"evil.example"}}, ""},
		{"X-Forwarded-Port", "", http.Header{"X-Forwarded-Port": {"6666"}}, ""},
		{"X-Original-URL", "", http.Header{"X-Original-URL": {"/evil"}}, ""},
		{"X-Rewrite-URL", "", http.Header{"X-Rewrite-URL": {"/evil"}}, ""},
		{"X-Forwarded-Scheme", "", http.Header{"X-Forwarded-Scheme": {"evil"}}, ""},
		{"X-Forwarded-Proto", "", http.Header{"X-Forwarded-Proto": {"evil"}}, ""},
		{"X-HTTP-Method-Override", "", http.Header{"X-HTTP-Method-Override": {"evil"}}, ""},
		{"Forwarded host", "", http.Header{"Forwarded": {"host=evil.example;proto=https"}}, ""},
		{"X-Forwarded-Prefix", "", http.Header{"X-Forwarded-Prefix": {"/evil"}}, ""},
		{"User-Agent", "", http.Header{"User-Agent": {"evil"}}, ""},
		{"Cookie", "", http.Header{"Cookie": {"session=evil"}}, ""},
		{"Origin", "", http.Header{"Origin": {"https://evil.example"}}, ""},
		{"X-User-Id", "", http.Header{"X-User-Id": {"evil"}}, ""},
		{"Host", "", http.Header{"Host": {"evil.example"}}, ""},
		{"absolute-form authority", "", nil, "absolute"},
	}
	n := 0
	for _, b := range []struct {
		name, prefix string
		header       http.Header
	}{
		{"public", "/public/poison-", nil},
		{"orders", "/orders/poison-", bearer(reader)},
	} {
		for _, c := range cases {
			n++
			path := fmt.Sprintf("%s%d", b.prefix, n)
			t.Run(b.name+"/"+c.name, func(t *testing.T) {
				// The attacker's miss.
				var attacker response
				if c.raw != "" {
					lines := []string{}
					if b.header != nil {
						lines = append(lines, "Authorization: "+b.header.Get("Authorization"))
					}
					attacker = e.secOne(secRaw("GET", "http://evil.example"+path, lines, ""))
				} else {
					h := with(b.header)
					hostHeader := ""
					for k, v := range c.header {
						if k == "Host" {
							hostHeader = v[0]
							continue
						}
						h[k] = v
					}
					if hostHeader != "" {
						attacker = e.secOneHost(path, hostHeader, h)
					} else {
						attacker = e.do("GET", path, h, "")
					}
				}
				if attacker.status >= 500 {
					t.Fatalf("attacker's GET %s = %d %q", path, attacker.status, attacker.body)
				}
				// The victim's request, clean.
				victim := e.do("GET", path, b.header, "")
				if victim.status != http.StatusOK {
					t.Fatalf("victim's GET %s = %d %q", path, victim.status, victim.body)
				}
				if strings.Contains(strings.ToLower(victim.body), "evil") || strings.Contains(victim.body, "6666") ||
					strings.Contains(victim.header.Get("Link"), "evil") {
					t.Fatalf("the victim was served the attacker's variant: %q %v", victim.body, victim.header)
				}
				if !strings.Contains(victim.body, `X-Forwarded-Host=["api.example"]`) {
					t.Fatalf("victim body %q, want the origin to have seen X-Forwarded-Host api.example", victim.body)
				}
			})
		}
	}
	// A keyed header (accept-language on /orders/*) makes the attacker's
	// own variant: the victim never gets it.
	t.Run("orders/keyed Accept-Language", func(t *testing.T) {
		path := "/orders/poison-lang"
		e.do("GET", path, with(bearer(reader), "Accept-Language", "evil"), "")
		for _, lang := range []string{"en", ""} {
			h := bearer(reader)
			if lang != "" {
				h.Set("Accept-Language", lang)
			}
			res := e.do("GET", path, h, "")
			if res.status != http.StatusOK || strings.Contains(res.body, "evil") {
				t.Fatalf("victim with Accept-Language %q got %d %q", lang, res.status, res.body)
			}
		}
	})
	t.Run("public/query string is keyed", func(t *testing.T) {
		path := "/public/poison-query"
		e.do("GET", path+"?cb=evil", nil, "")
		res := e.do("GET", path, nil, "")
		if res.status != http.StatusOK || strings.Contains(res.body, "evil") {
			t.Fatalf("victim got %d %q", res.status, res.body)
		}
	})
}

// secLines turns h into raw header lines.
func secLines(h http.Header) []string {
	var out []string
	for k, vs := range h {
		for _, v := range vs {
			out = append(out, k+": "+v)
		}
	}
	return out
}

// secOneHost sends GET path with the Host header host (and h) raw.
func (e *env) secOneHost(path, hostHeader string, h http.Header) response {
	e.t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: %s\r\n", path, hostHeader)
	for _, l := range secLines(h) {
		b.WriteString(l + "\r\n")
	}
	b.WriteString("Connection: close\r\n\r\n")
	return e.secOne(b.String())
}

// TestCache_PrivateAnswersNeverShared: what the origin marks private,
// no-store or sets a cookie with, and what it sends for an identified
// viewer without saying it is public, is never served to another viewer.
func TestCache_PrivateAnswersNeverShared(t *testing.T) {
	eachDecisionMode(t, testCachePrivateAnswersNeverShared)
}

func testCachePrivateAnswersNeverShared(t *testing.T, o options) {
	e := newEnvWith(t, o)
	var seq atomic.Int64
	answer := func(cc string, cookie bool) func(originRequest) originReply {
		return func(r originRequest) originReply {
			n := seq.Add(1)
			h := http.Header{"Content-Type": {"text/plain"}}
			if cc != "" {
				h.Set("Cache-Control", cc)
			}
			if cookie {
				h.Set("Set-Cookie", fmt.Sprintf("session=s%d; HttpOnly", n))
			}
			return originReply{Header: h, Body: fmt.Sprintf("user=%s n=%d", r.Header.Get("X-User-Id"), n)}
		}
	}
	cases := []struct {
		name   string
		path   string
		cc     string
		cookie bool
	}{
		{"private", "/orders/priv-1", "private, max-age=60", false},
		{"no-store", "/orders/priv-2", "no-store, max-age=60", false},
		{"no-cache", "/orders/priv-3", "no-cache", false},
		{"Set-Cookie on a public answer", "/orders/priv-4", "public, max-age=60", true},
		{"identified viewer, max-age without public", "/orders/priv-5", "max-age=60", false},
		{"identified viewer, no Cache-Control (default_ttl)", "/orders/priv-6", "", false},
		{"private on a function-less behavior", "/public/priv-7", "private, max-age=60", false},
		{"no-store on a function-less behavior", "/public/priv-8", "no-store", false},
		{"Set-Cookie on a function-less behavior", "/public/priv-9", "max-age=60", true},
	}
	for _, c := range cases {
		e.origin.route(c.path, answer(c.cc, c.cookie))
		t.Run(c.name, func(t *testing.T) {
			before := e.origin.count()
			first := e.do("GET", c.path, bearer(e.reader()), "")  // alice
			second := e.do("GET", c.path, bearer(e.writer()), "") // bob
			if first.status != http.StatusOK || second.status != http.StatusOK {
				t.Fatalf("GET %s = %d, %d, want 200, 200", c.path, first.status, second.status)
			}
			if first.body == second.body {
				t.Fatalf("the second viewer was served the first one's answer %q", second.body)
			}
			if c.cookie && first.header.Get("Set-Cookie") == second.header.Get("Set-Cookie") {
				t.Fatalf("the second viewer got the first one's cookie %q", second.header.Get("Set-Cookie"))
			}
			if strings.HasPrefix(c.path, "/orders/") && !strings.Contains(second.body, "user=bob") {
				t.Fatalf("bob got %q", second.body)
			}
			if got := len(e.origin.since(before)); got != 2 {
				t.Fatalf("origin got %d requests, want 2 (nothing shared)", got)
			}
		})
	}
	// What the rule means: an origin that marks a per-user answer public
	// has said it may be shared, and it is: the identity header the
	// decision set is not in the key. Origins that answer per user must
	// say private (or the operator puts x-user-id in the key).
	t.Run("documented: a public answer is shared, identity header notwithstanding", func(t *testing.T) {
		e.origin.route("/orders/pub-1", answer("public, max-age=60", false))
		first := e.do("GET", "/orders/pub-1", bearer(e.reader()), "")
		second := e.do("GET", "/orders/pub-1", bearer(e.writer()), "")
		if first.body != second.body || !strings.Contains(second.body, "user=alice") {
			t.Fatalf("public answer: alice got %q, bob got %q; want bob served alice's stored answer", first.body, second.body)
		}
	})
}

// TestCache_DeceptionNeverStoresPrivate: web cache deception. An origin
// that ignores what follows its resource (/orders/1/x.css, ;x.css,
// %2Fx.css) answers with the viewer's private data; nothing about the
// spelling makes the edge store it.
func TestCache_DeceptionNeverStoresPrivate(t *testing.T) {
	eachDecisionMode(t, testCacheDeceptionNeverStoresPrivate)
}

func testCacheDeceptionNeverStoresPrivate(t *testing.T, o options) {
	e := newEnvWith(t, o)
	for _, cc := range []string{"private", "none"} {
		e.origin.route("/orders/wcd-"+cc, func(r originRequest) originReply {
			h := http.Header{"Content-Type": {"text/css"}}
			if cc == "private" {
				h.Set("Cache-Control", "private")
			}
			return originReply{Header: h, Body: "secret of " + r.Header.Get("X-User-Id")}
		})
	}
	for _, cc := range []string{"private", "none"} {
		for _, c := range []struct {
			suffix string
			status int
		}{
			{"/x.css", http.StatusForbidden}, // no operation matches: never reaches the origin
			{";x.css", http.StatusOK},
			{"%3Bx.css", http.StatusOK},
			{".css", http.StatusOK},
			{"%2Fx.css", http.StatusBadRequest},
			{"/..%2Fx.css", http.StatusBadRequest},
		} {
			target := "/orders/wcd-" + cc + c.suffix
			t.Run(cc+"/"+c.suffix, func(t *testing.T) {
				alice := e.do("GET", target, bearer(e.reader()), "")
				bob := e.do("GET", target, bearer(e.writer()), "")
				if alice.status != c.status || bob.status != c.status {
					t.Fatalf("GET %s = %d (alice), %d (bob), want %d", target, alice.status, bob.status, c.status)
				}
				if strings.Contains(bob.body, "alice") {
					t.Fatalf("bob was served alice's answer: %q", bob.body)
				}
				if c.status == http.StatusOK && bob.body != "secret of bob" {
					t.Fatalf("bob got %q, want his own", bob.body)
				}
			})
		}
	}
}

// TestCache_DenyNeverPoisons: a deny is the viewer's alone; it is never
// stored, and it never removes what allowed viewers get.
func TestCache_DenyNeverPoisons(t *testing.T) { eachDecisionMode(t, testCacheDenyNeverPoisons) }

func testCacheDenyNeverPoisons(t *testing.T, o options) {
	e := newEnvWith(t, o)
	forged := e.issuer.Mint(map[string]any{"sub": "mallory", "aud": audience, "scope": "orders:read"}, tokentest.WithAlgNone())
	denials := []struct {
		name   string
		method string
		header http.Header
		status int
	}{
		{"no token", "GET", nil, http.StatusUnauthorized},
		{"forged token", "GET", bearer(forged), http.StatusUnauthorized},
		{"insufficient scope", "GET", bearer(e.token("mallory", "profile")), http.StatusForbidden},
		{"HEAD without token", "HEAD", nil, http.StatusUnauthorized},
		{"keyed header variant without token", "GET", http.Header{"Accept-Language": {"en"}}, http.StatusUnauthorized},
		{"only-if-cached without token", "GET", http.Header{"Cache-Control": {"only-if-cached"}}, http.StatusUnauthorized},
	}
	for i, d := range denials {
		t.Run("deny first: "+d.name, func(t *testing.T) {
			path := fmt.Sprintf("/orders/deny-%d", i)
			if res := e.do(d.method, path, d.header, ""); res.status != d.status {
				t.Fatalf("denied %s %s = %d, want %d", d.method, path, res.status, d.status)
			}
			before := e.origin.count()
			h := with(bearer(e.reader()))
			if al := d.header.Get("Accept-Language"); al != "" {
				h.Set("Accept-Language", al)
			}
			res := e.do("GET", path, h, "")
			if want := "resource=/prod" + path + " user=alice"; res.status != http.StatusOK || res.body != want {
				t.Fatalf("allowed GET %s after a deny = %d %q, want 200 %q", path, res.status, res.body, want)
			}
			secReached(t, e.origin, before, path)
		})
		t.Run("deny after a fill: "+d.name, func(t *testing.T) {
			path := fmt.Sprintf("/orders/deny-fill-%d", i)
			if res := e.do("GET", path, bearer(e.reader()), ""); res.status != http.StatusOK {
				t.Fatalf("fill %s = %d", path, res.status)
			}
			before := e.origin.count()
			if res := e.do(d.method, path, d.header, ""); res.status != d.status {
				t.Fatalf("denied %s %s = %d, want %d", d.method, path, res.status, d.status)
			}
			res := e.do("GET", path, bearer(e.writer()), "")
			if want := "resource=/prod" + path + " user=alice"; res.status != http.StatusOK || res.body != want {
				t.Fatalf("allowed GET %s after a deny = %d %q, want the stored %q", path, res.status, res.body, want)
			}
			secNothing(t, e.origin, before)
		})
	}
}
