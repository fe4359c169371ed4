package authorizer

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/edgeward/edgeward/internal/sideband"
)

// FuzzTokenExpiry feeds arbitrary Authorization values to the unverified
// exp reader: it never panics, and an exp it returns is one the payload
// spells (a number from 0 to 2^40 seconds).
func FuzzTokenExpiry(f *testing.F) {
	enc := base64.RawURLEncoding.EncodeToString
	for _, s := range []string{
		"Bearer " + enc([]byte(`{"alg":"none"}`)) + "." + enc([]byte(`{"exp":1893456000}`)) + ".sig",
		"bearer " + enc([]byte(`{}`)) + "." + enc([]byte(`{"exp":1.5e9}`)) + ".",
		"Bearer a." + enc([]byte(`{"exp":"1893456000"}`)) + ".c",
		"Bearer a." + enc([]byte(`{"exp":-1}`)) + ".c",
		"Bearer a." + enc([]byte(`{"exp":1e308}`)) + ".c",
		"Bearer a.b.c.d.e",
		"Basic dXNlcjpwYXNz",
		"Bearer ",
		"Bearer a..c",
		"Bearer a." + enc([]byte(`{"exp":1893456000}`)) + "==.c",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		exp, ok := tokenExpiry(sideband.Headers{{Name: "authorization", Value: v}})
		if !ok {
			return
		}
		if exp.Before(time.Unix(0, 0)) || exp.After(time.Unix(1<<40+1, 0)) {
			t.Errorf("tokenExpiry(%q) = %v, outside 0 to 2^40 s", v, exp)
		}
		if !strings.Contains(strings.ToLower(v), "bearer") {
			t.Errorf("tokenExpiry(%q) = %v from a value that is no bearer token", v, exp)
		}
	})
}

// FuzzKeyOf checks that the key encoding is unambiguous: two calls that
// differ in a header name, value, body or URL split differently never
// share a key.
func FuzzKeyOf(f *testing.F) {
	f.Add("x-a", "bc", "https://a.example/p?q", "", true)
	f.Add("x-ab", "c", "https://a.example/p", "?q", false)
	f.Add("", "", "", "", false)
	seed := keySeed([]string{"https://svc.example"}, "CLIENT-TOKEN", "c")
	f.Fuzz(func(t *testing.T, name, value, url, extra string, withBody bool) {
		a := &sideband.Request{Method: "GET", URL: url, Headers: sideband.Headers{{Name: name, Value: value}}}
		// Move the boundary between fields: name/value, url/body.
		b := &sideband.Request{Method: "GET", URL: url + extra, Headers: sideband.Headers{{Name: name + value[:min(1, len(value))], Value: value[min(1, len(value)):]}}}
		if withBody {
			a.Body = &extra
		}
		same := a.URL == b.URL && a.Headers[0] == b.Headers[0] && (a.Body == nil) == (b.Body == nil) &&
			(a.Body == nil || *a.Body == *b.Body)
		if !same && keyOf(seed, a, nil) == keyOf(seed, b, nil) {
			t.Errorf("different calls share a key:\n%+v\n%+v", a, b)
		}
		if keyOf(seed, a, nil) != keyOf(seed, a, nil) {
			t.Errorf("keyOf is not deterministic")
		}
	})
}
