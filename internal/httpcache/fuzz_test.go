package httpcache

import (
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/edgeward/edgeward/internal/edge"
)

// FuzzParseRange checks that a parsed range always lies within the
// representation.
func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"bytes=0-1", "bytes=-5", "bytes=5-", "bytes=9-3", "bytes=0-1,2-3", "BYTES = 1-2", "bytes=-0", "bytes=99999999999999999999-"} {
		f.Add(s, int64(11))
	}
	f.Fuzz(func(t *testing.T, v string, n int64) {
		if n < 0 || n > 1<<40 {
			t.Skip()
		}
		start, end, ok := parseRange(v, n)
		if !ok || start < 0 {
			return
		}
		if start > end || end >= n {
			t.Fatalf("parseRange(%q, %d) = %d-%d, outside the representation", v, n, start, end)
		}
	})
}

// FuzzAppendKey feeds arbitrary queries and cookies to the key builder and
// the forwarding filters: no panic, a stable key, and a forwarded query
// made only of the request's own parameters.
func FuzzAppendKey(f *testing.F) {
	f.Add("a=1&b=2", "x=1; y=2", "en, de")
	f.Add("%zz=&&=&a", ";;=;", "")
	f.Add("utm_source=1&%75tm_source=2&id=7", "lang=en", "fr;q=0.5")
	s, err := NewStore(StoreConfig{}, Options{})
	if err != nil {
		f.Fatal(err)
	}
	c, err := s.Policy("fuzz", PolicyConfig{
		Key: KeyConfig{
			QueryStrings: List{Mode: ListExclude, Exclude: []string{"utm_source"}},
			Headers:      []string{"Accept-Language"},
			Cookies:      List{Mode: ListInclude, Include: []string{"lang"}},
		},
		Forward:  ForwardConfig{QueryStrings: List{Mode: ListInclude, Include: []string{"debug"}}},
		Compress: true,
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, query, cookie, lang string) {
		req := httptest.NewRequest("GET", "http://example.com/p", nil)
		req.URL.RawQuery = query
		req.Header["Cookie"] = []string{cookie}
		req.Header["Accept-Language"] = []string{lang}
		r := &edge.Request{HTTP: req, Host: "example.com", Scheme: "https"}
		k1 := string(c.appendKey(nil, r))
		if k2 := string(c.appendKey(nil, r)); k1 != k2 {
			t.Fatalf("appendKey is not stable: %q vs %q", k1, k2)
		}
		c.appendVarySig(nil, r, []string{"Cookie", "Accept-Language", "Accept-Encoding", "X-Absent"})
		fq := c.forwardQuery(query)
		own := map[string]bool{}
		for _, p := range splitAmp(query) {
			own[p] = true
		}
		for _, p := range splitAmp(fq) {
			if !own[p] {
				t.Fatalf("forwardQuery(%q) = %q: %q is not from the request", query, fq, p)
			}
			if name := decodeQueryName(p[:indexOr(p, '=')]); name == "utm_source" {
				t.Fatalf("forwardQuery(%q) = %q forwards the excluded utm_source", query, fq)
			}
		}
		if _, err := url.ParseQuery(fq); err == nil {
			_ = c.forwardCookies([]string{cookie})
		}
	})
}

func splitAmp(s string) []string {
	var out []string
	for s != "" {
		i := indexOr(s, '&')
		if i > 0 {
			out = append(out, s[:i])
		}
		if i == len(s) {
			break
		}
		s = s[i+1:]
	}
	return out
}

func indexOr(s string, b byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == b {
			return i
		}
	}
	return len(s)
}
