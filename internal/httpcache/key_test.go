package httpcache

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/edgeward/edgeward/internal/edge"
)

func TestServe_UnkeyedHeadersNotForwarded(t *testing.T) {
	t.Parallel()
	cfg := PolicyConfig{
		Key: KeyConfig{
			Headers:      []string{"x-tenant"},
			QueryStrings: List{Mode: ListInclude, Include: []string{"id"}},
			Cookies:      List{Mode: ListInclude, Include: []string{"lang"}},
		},
		Forward: ForwardConfig{
			Headers:      List{Mode: ListInclude, Include: []string{"x-trace"}},
			QueryStrings: List{Mode: ListInclude, Include: []string{"debug"}},
		},
	}
	_, c, clock := newCache(t, cfg, StoreConfig{})
	o := newOrigin(t, clock, fixed(200, "x", "Cache-Control: max-age=60"))
	serve(t, c, o, "GET", "/a?utm=1&id=7&debug=1&%75tm=3",
		"X-Tenant: t1", "X-Trace: abc", "X-Poison: evil",
		"Cookie: lang=en; session=s3cr3t", "Content-Type: text/plain")
	got := o.lastRequest()
	if got.Header.Get("X-Poison") != "" {
		t.Errorf("origin got the unkeyed X-Poison %q, want it dropped", got.Header.Get("X-Poison"))
	}
	if got.Header.Get("X-Tenant") != "t1" || got.Header.Get("X-Trace") != "abc" || got.Header.Get("Content-Type") != "text/plain" {
		t.Errorf("origin headers %v, want X-Tenant, X-Trace and Content-Type forwarded", got.Header)
	}
	if got.Header.Get("Cookie") != "lang=en" {
		t.Errorf("origin Cookie = %q, want lang=en", got.Header.Get("Cookie"))
	}
	if got.URL.RawQuery != "id=7&debug=1" {
		t.Errorf("origin query = %q, want id=7&debug=1 (in order, %%75tm is utm)", got.URL.RawQuery)
	}
	if got.Header.Get("Surrogate-Capability") != surrogateCapability {
		t.Errorf("Surrogate-Capability = %q, want %q", got.Header.Get("Surrogate-Capability"), surrogateCapability)
	}

	serve(t, c, o, "GET", "/a?id=99", "Authorization: Bearer secret")
	if got := o.lastRequest().Header.Get("Authorization"); got != "" {
		t.Errorf("origin got the viewer's Authorization %q, want it dropped (not in the key or forward)", got)
	}

	// An unkeyed header cannot select another object: same key, a hit.
	if _, r := serve(t, c, o, "GET", "/a?id=7&utm=2", "X-Tenant: t1", "X-Poison: other", "Cookie: lang=en; session=x"); r.Result != edge.ResultHit {
		t.Errorf("same key with other unkeyed values Result = %s, want Hit", r.Result)
	}
	for _, tt := range []struct {
		target  string
		headers []string
	}{
		{"/a?id=8", []string{"X-Tenant: t1", "Cookie: lang=en"}},
		{"/a?id=7", []string{"X-Tenant: t2", "Cookie: lang=en"}},
		{"/a?id=7", []string{"X-Tenant: t1", "Cookie: lang=de"}},
		{"/a?id=7", []string{"Cookie: lang=en"}},
	} {
		if _, r := serve(t, c, o, "GET", tt.target, tt.headers...); r.Result != edge.ResultMiss {
			t.Errorf("%s %q Result = %s, want Miss (a keyed value differs)", tt.target, tt.headers, r.Result)
		}
	}
}

func TestServe_QueryKeySortedButRepeatsKeepTheirOrder(t *testing.T) {
	t.Parallel()
	_, c, clock := newCache(t, honest(), StoreConfig{})
	o := newOrigin(t, clock, func(w http.ResponseWriter, r *http.Request) {
		fixed(200, r.URL.RawQuery, "Cache-Control: max-age=60")(w, r)
	})
	steps := []struct {
		target string
		want   edge.Result
	}{
		{"/q?a=1&b=2", edge.ResultMiss},
		{"/q?b=2&a=1", edge.ResultHit},
		{"/q?a=1&a=2", edge.ResultMiss},
		{"/q?a=2&a=1", edge.ResultMiss},
		{"/q?a=1&b=2&", edge.ResultHit},
		{"/q", edge.ResultMiss},
		{"/Q?a=1&b=2", edge.ResultMiss},
	}
	for _, st := range steps {
		if _, r := serve(t, c, o, "GET", st.target); r.Result != st.want {
			t.Errorf("%s Result = %s, want %s", st.target, r.Result, st.want)
		}
	}
}

func TestServe_CompressNormalisesAcceptEncoding(t *testing.T) {
	t.Parallel()
	cfg := honest()
	cfg.Forward = ForwardConfig{}
	cfg.Compress = true
	_, c, clock := newCache(t, cfg, StoreConfig{})
	o := newOrigin(t, clock, func(w http.ResponseWriter, r *http.Request) {
		fixed(200, r.Header.Get("Accept-Encoding"), "Cache-Control: max-age=60", "Vary: Accept-Encoding")(w, r)
	})
	steps := []struct {
		ae   string
		want edge.Result
		body string
	}{
		{"gzip, deflate, br", edge.ResultMiss, "br,gzip"},
		{"br;q=1, gzip;q=0.5", edge.ResultHit, "br,gzip"},
		{"gzip", edge.ResultMiss, "gzip"},
		{"gzip, br;q=0", edge.ResultHit, "gzip"},
		{"deflate", edge.ResultMiss, "identity"},
		{"", edge.ResultHit, "identity"},
	}
	for _, st := range steps {
		var headers []string
		if st.ae != "" {
			headers = []string{"Accept-Encoding: " + st.ae}
		}
		rec, r := serve(t, c, o, "GET", "/z", headers...)
		if r.Result != st.want || rec.Body.String() != st.body {
			t.Errorf("Accept-Encoding %q = %s %q, want %s %q", st.ae, r.Result, rec.Body, st.want, st.body)
		}
	}
}

func TestNormalizeEncoding(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"": "identity", "gzip": "gzip", "GZIP": "gzip", "br": "br", "gzip, br": "br,gzip",
		"br;q=0": "identity", "br;q=0.0, gzip": "gzip", "br;q=0.1": "br", "*": "identity",
	} {
		var lines []string
		if in != "" {
			lines = []string{in}
		}
		if got := normalizeEncoding(lines); got != want {
			t.Errorf("normalizeEncoding(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAppendNormalized(t *testing.T) {
	t.Parallel()
	tests := []struct {
		lines []string
		lang  bool
		want  string
	}{
		{nil, false, "\x02"},
		{[]string{"1, 2"}, false, "1,2"},
		{[]string{"1", "2"}, false, "1,2"},
		{[]string{" 1 ,  2 "}, false, "1,2"},
		{[]string{""}, false, ""},
		{[]string{"en, de"}, true, "de,en"},
		{[]string{"De, eN"}, true, "de,en"},
		{[]string{"fr; q=0.5, de"}, true, "de,fr;q=0.5"},
	}
	for _, tt := range tests {
		if got := string(appendNormalized(nil, tt.lines, tt.lang)); got != tt.want {
			t.Errorf("appendNormalized(%q, %v) = %q, want %q", tt.lines, tt.lang, got, tt.want)
		}
	}
}

func TestCache_AppendKey(t *testing.T) {
	t.Parallel()
	_, c, _ := newCache(t, PolicyConfig{Key: KeyConfig{Headers: []string{"X-A"}, Cookies: List{Mode: ListAll}}}, StoreConfig{})
	key := func(method, target string, headers ...string) string {
		r := request(method, target, headers...)
		return string(c.appendKey(nil, r))
	}
	same := [][2]string{
		{key("GET", "/p?b=1&a=2"), key("GET", "/p?a=2&b=1")},
		{key("GET", "/p"), key("HEAD", "/p")},
		{key("GET", "/p", "Cookie: b=2; a=1"), key("GET", "/p", "Cookie: a=1", "Cookie: b=2")},
		{key("GET", "/p", "X-A: 1, 2"), key("GET", "/p", "X-A: 1", "X-A: 2")},
	}
	for i, p := range same {
		if p[0] != p[1] {
			t.Errorf("same[%d]: keys %q and %q differ", i, p[0], p[1])
		}
	}
	different := [][2]string{
		{key("GET", "/p"), key("OPTIONS", "/p")},
		{key("GET", "/p"), key("GET", "/p", "X-A: ")},
		{key("GET", "/p?a=1&a=2"), key("GET", "/p?a=2&a=1")},
		{key("GET", "/p%2Fq"), key("GET", "/p/q")},
	}
	for i, p := range different {
		if p[0] == p[1] {
			t.Errorf("different[%d]: keys are both %q", i, p[0])
		}
	}
	r := request("GET", "/p")
	r.Host = "EXAMPLE.com"
	if got, want := string(c.appendKey(nil, r)), key("GET", "/p"); got != want {
		t.Errorf("host case changes the key: %q vs %q", got, want)
	}
	r.Scheme = "https"
	if got := string(c.appendKey(nil, r)); got == key("GET", "/p") {
		t.Errorf("scheme does not change the key")
	}
}

func TestServe_ForwardAllKeepsEverything(t *testing.T) {
	t.Parallel()
	_, c, clock := newCache(t, honest(), StoreConfig{})
	o := newOrigin(t, clock, fixed(200, "x"))
	serve(t, c, o, "GET", "/a?z=1&y=2", "X-Any: 1", "Cookie: a=1; b=2", "Authorization: Basic x")
	got := o.lastRequest()
	want := map[string]string{"X-Any": "1", "Cookie": "a=1; b=2", "Authorization": "Basic x"}
	for k, v := range want {
		if got.Header.Get(k) != v {
			t.Errorf("origin %s = %q, want %q", k, got.Header.Get(k), v)
		}
	}
	if got.URL.RawQuery != "z=1&y=2" {
		t.Errorf("origin query = %q, want z=1&y=2", got.URL.RawQuery)
	}
}

func TestServe_DisabledForwardsUnchanged(t *testing.T) {
	t.Parallel()
	cfg := PolicyConfig{Enable: ptr(false)}
	_, c, clock := newCache(t, cfg, StoreConfig{})
	o := newOrigin(t, clock, fixed(200, "x", "Cache-Control: max-age=60"))
	serve(t, c, o, "GET", "/a?q=1", "X-Any: 1")
	_, r := serve(t, c, o, "GET", "/a?q=1", "X-Any: 1")
	if r.Result != edge.ResultMiss || o.count() != 2 {
		t.Errorf("disabled: Result %s, origin requests %d, want Miss and 2", r.Result, o.count())
	}
	if got := o.lastRequest(); got.Header.Get("X-Any") != "1" || got.URL.RawQuery != "q=1" {
		t.Errorf("disabled: origin got %v ?%s, want the request unchanged", got.Header, got.URL.RawQuery)
	}
	if diff := cmp.Diff([]string(nil), o.lastRequest().Header["Surrogate-Capability"]); diff != "" {
		t.Errorf("disabled added Surrogate-Capability: %s", diff)
	}
}

func TestPolicy_ReloadWithAnotherKeyLayoutDoesNotReuseObjects(t *testing.T) {
	t.Parallel()
	s, a, clock := newCache(t, PolicyConfig{Key: KeyConfig{Headers: []string{"X-A"}}}, StoreConfig{})
	o := newOrigin(t, clock, func(w http.ResponseWriter, r *http.Request) {
		fixed(200, "a="+r.Header.Get("X-A")+" b="+r.Header.Get("X-B"), "Cache-Control: max-age=600")(w, r)
	})
	serve(t, a, o, "GET", "/p", "X-A: 1", "X-B: 2")
	b, err := s.Policy("test", PolicyConfig{Key: KeyConfig{Headers: []string{"X-B"}}}) // same behavior, reloaded
	if err != nil {
		t.Fatal(err)
	}
	rec, r := serve(t, b, o, "GET", "/p", "X-A: 9", "X-B: 1")
	if r.Result != edge.ResultMiss || rec.Body.String() != "a= b=1" {
		t.Errorf("after the reload = %s %q, want Miss %q", r.Result, rec.Body, "a= b=1")
	}
}

func TestStore_FullKeyTableMakesRoom(t *testing.T) {
	t.Parallel()
	_, c, clock := newCache(t, honest(), StoreConfig{})
	o := newOrigin(t, clock, fixed(200, "x", "Cache-Control: max-age=600"))
	for i := range maxKeysPerPath + 1 {
		serve(t, c, o, "GET", fmt.Sprintf("/search?q=%d", i))
	}
	if _, r := serve(t, c, o, "GET", fmt.Sprintf("/search?q=%d", maxKeysPerPath)); r.Result != edge.ResultHit {
		t.Errorf("newest key Result = %s, want Hit (room was made)", r.Result)
	}
}
