package httpcache

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// cc is a compact view of directives for comparisons.
type cc struct {
	Flags                        flags
	MaxAge, SMaxAge, SWR, SIE    int64
	MaxStale, MinFresh           int64
	NoCacheFields, PrivateFields []string
}

func view(d directives) cc {
	return cc{d.flags, d.maxAge, d.sMaxAge, d.staleWhileRevalidate, d.staleIfError, d.maxStale, d.minFresh, d.noCacheFields, d.privateFields}
}

// none is the view of an empty field.
var none = cc{MaxAge: -1, SMaxAge: -1, SWR: -1, SIE: -1, MaxStale: -1, MinFresh: -1}

func with(f func(*cc)) cc {
	c := none
	f(&c)
	return c
}

func TestParseCacheControl(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		lines []string
		want  cc
	}{
		{"empty", nil, none},
		{"max-age", []string{"max-age=3600"}, with(func(c *cc) { c.MaxAge = 3600 })},
		{"case-insensitive name", []string{"MaX-AgE=3600"}, with(func(c *cc) { c.MaxAge = 3600 })},
		{"leading zeros", []string{"max-age=003600"}, with(func(c *cc) { c.MaxAge = 3600 })},
		{"quoted value accepted", []string{`max-age="3600"`}, with(func(c *cc) { c.MaxAge = 3600 })},
		{"single quotes are invalid: stale", []string{`max-age='3600'`}, with(func(c *cc) { c.MaxAge = 0 })},
		{"negative is invalid: stale", []string{"max-age=-3600"}, with(func(c *cc) { c.MaxAge = 0 })},
		{"decimal is invalid: stale", []string{"max-age=3600.5"}, with(func(c *cc) { c.MaxAge = 0 })},
		{"trailing alpha is invalid: stale", []string{"max-age=3600a"}, with(func(c *cc) { c.MaxAge = 0 })},
		{"empty value is invalid: stale", []string{"max-age="}, with(func(c *cc) { c.MaxAge = 0 })},
		{"no value is invalid: stale", []string{"max-age"}, with(func(c *cc) { c.MaxAge = 0 })},
		{"space before equals is invalid", []string{"max-age =3600"}, with(func(c *cc) { c.MaxAge = 0 })},
		{"space after equals is invalid", []string{"max-age= 3600"}, with(func(c *cc) { c.MaxAge = 0 })},
		{"overflow capped at 2^31", []string{"max-age=99999999999999999999"}, with(func(c *cc) { c.MaxAge = 1 << 31 })},
		{"2^31+1 capped", []string{"max-age=2147483649"}, with(func(c *cc) { c.MaxAge = 1 << 31 })},
		{"duplicates: smallest wins", []string{"max-age=3600, max-age=1800"}, with(func(c *cc) { c.MaxAge = 1800 })},
		{"duplicates over lines", []string{"max-age=1", "max-age=1800"}, with(func(c *cc) { c.MaxAge = 1 })},
		{"duplicate invalid makes stale", []string{"max-age=3600", "max-age=x"}, with(func(c *cc) { c.MaxAge = 0 })},
		{"unknown directives ignored", []string{"foobar, max-age=3600, baz=\"q\""}, with(func(c *cc) { c.MaxAge = 3600 })},
		{"max-age inside a quoted extension is not max-age", []string{`extension="max-age=3600", max-age=1`}, with(func(c *cc) { c.MaxAge = 1 })},
		{"quoted extension after", []string{`max-age=1, extension="max-age=3600"`}, with(func(c *cc) { c.MaxAge = 1 })},
		{"escaped quote in extension", []string{`x="a\",max-age=9", max-age=2`}, with(func(c *cc) { c.MaxAge = 2 })},
		{"unterminated quote swallows the rest", []string{`x="max-age=9, max-age=5`}, none},
		{"s-maxage and max-age", []string{"s-maxage=10, max-age=20"}, with(func(c *cc) { c.SMaxAge, c.MaxAge = 10, 20 })},
		{"flags", []string{"no-store, No-Cache, private, public, must-revalidate", "proxy-revalidate, must-understand, immutable, only-if-cached"},
			with(func(c *cc) {
				c.Flags = ccNoStore | ccNoCache | ccPrivate | ccPublic | ccMustRevalidate | ccProxyRevalidate | ccMustUnderstand | ccImmutable | ccOnlyIfCached
			})},
		{"qualified no-cache", []string{`no-cache="set-cookie, x-a"`}, with(func(c *cc) { c.NoCacheFields = []string{"Set-Cookie", "X-A"} })},
		{"qualified no-cache token form", []string{`no-cache=x-a`}, with(func(c *cc) { c.NoCacheFields = []string{"X-A"} })},
		{"empty qualified no-cache is unqualified", []string{`no-cache=""`}, with(func(c *cc) { c.Flags = ccNoCache })},
		{"malformed qualified private is unqualified", []string{`private="a b"`}, with(func(c *cc) { c.Flags = ccPrivate })},
		{"unqualified beats qualified", []string{`no-cache="a", no-cache`}, with(func(c *cc) { c.Flags = ccNoCache })},
		{"stale extensions", []string{"stale-while-revalidate=30, stale-if-error=600"}, with(func(c *cc) { c.SWR, c.SIE = 30, 600 })},
		{"invalid stale extension ignored", []string{"stale-if-error=soon"}, none},
		{"max-stale without value", []string{"max-stale"}, with(func(c *cc) { c.Flags = ccMaxStaleAny })},
		{"max-stale and min-fresh", []string{"max-stale=5, min-fresh=7"}, with(func(c *cc) { c.MaxStale, c.MinFresh = 5, 7 })},
		{"commas and whitespace", []string{" ,, max-age=5 ,\t, public ,"}, with(func(c *cc) { c.MaxAge, c.Flags = 5, ccPublic })},
		{"a target is not Cache-Control syntax", []string{"max-age=5;edgeward"}, with(func(c *cc) { c.MaxAge = 0 })},
		{"garbage between directives", []string{"max-age=5 junk, public"}, with(func(c *cc) { c.MaxAge, c.Flags = 0, ccPublic })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, view(parseCacheControl(tt.lines))); diff != "" {
				t.Errorf("parseCacheControl(%q) mismatch (-want +got):\n%s", tt.lines, diff)
			}
		})
	}
}

func TestParseSurrogateControl(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		lines       []string
		want        cc
		wantPresent bool
	}{
		{"absent", nil, none, false},
		{"untargeted", []string{"max-age=3600"}, with(func(c *cc) { c.MaxAge = 3600 }), true},
		{"targeted at edgeward", []string{"max-age=3600;edgeward"}, with(func(c *cc) { c.MaxAge = 3600 }), true},
		{"targeted elsewhere is ignored", []string{"max-age=3600;not-for-you"}, none, false},
		{"targeted wins over untargeted", []string{"max-age=10, no-store;edgeward"}, with(func(c *cc) { c.Flags = ccNoStore }), true},
		{"max-age with stale extension", []string{"max-age=60+600"}, with(func(c *cc) { c.MaxAge, c.SIE = 60, 600 }), true},
		{"no-store", []string{"no-store"}, with(func(c *cc) { c.Flags = ccNoStore }), true},
		{"empty target is malformed", []string{"max-age=5;"}, with(func(c *cc) { c.MaxAge = 0 }), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d, present := parseSurrogateControl(tt.lines, device)
			if present != tt.wantPresent {
				t.Errorf("parseSurrogateControl(%q) present = %v, want %v", tt.lines, present, tt.wantPresent)
			}
			if diff := cmp.Diff(tt.want, view(d)); diff != "" {
				t.Errorf("parseSurrogateControl(%q) mismatch (-want +got):\n%s", tt.lines, diff)
			}
		})
	}
}

// FuzzParseCacheControl checks that the parser never panics, keeps every
// delta within [-1, 2^31] and finds max-age=N when it is the only
// directive.
func FuzzParseCacheControl(f *testing.F) {
	for _, s := range []string{"max-age=3600", `x="a,b", max-age="1"`, "no-cache=\"a, b\", private", "max-age=5;edgeward", `"`, "=,=;", "s-maxage=99999999999999999999"} {
		f.Add(s, "public")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		for _, d := range []directives{parseCacheControl([]string{a, b}), func() directives { d, _ := parseSurrogateControl([]string{a, b}, device); return d }()} {
			for _, v := range []int64{d.maxAge, d.sMaxAge, d.staleWhileRevalidate, d.staleIfError, d.maxStale, d.minFresh} {
				if v < -1 || v > maxDelta {
					t.Fatalf("parse(%q, %q): delta %d out of range", a, b, v)
				}
			}
		}
	})
}
