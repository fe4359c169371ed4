package httpcache

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// respTime is when test responses arrive; their requests left 100ms
// earlier.
var respTime = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func httpDate(d time.Duration) string { return respTime.Add(d).Format(http.TimeFormat) }

// metaOf parses a test response given as "Name: value" lines.
func metaOf(status int, headers ...string) *meta {
	h := http.Header{}
	for _, l := range headers {
		name, value, _ := strings.Cut(l, ":")
		h.Add(name, strings.TrimSpace(value))
	}
	return parseMeta(status, h, true, respTime.Add(-100*time.Millisecond), respTime)
}

// honestTTLs follow the origin: no default lifetime, no error caching.
func honestTTLs() ttls { return ttls{max: DefaultMaxTTL, keepStale: DefaultKeepStale} }

func TestLifetime(t *testing.T) {
	t.Parallel()
	day := 24 * time.Hour
	tests := []struct {
		name    string
		ttl     func(*ttls)
		status  int
		headers []string
		want    time.Duration
		wantSrc source
	}{
		{"max-age", nil, 200, []string{"Cache-Control: max-age=60"}, time.Minute, fromExplicit},
		{"s-maxage beats max-age", nil, 200, []string{"Cache-Control: max-age=60, s-maxage=10"}, 10 * time.Second, fromExplicit},
		{"s-maxage beats max-age on separate lines", nil, 200, []string{"Cache-Control: max-age=3600", "Cache-Control: s-maxage=1"}, time.Second, fromExplicit},
		{"long s-maxage beats short max-age", nil, 200, []string{"Cache-Control: max-age=1, s-maxage=3600"}, time.Hour, fromExplicit},
		{"surrogate max-age beats cache-control", nil, 200, []string{"Cache-Control: max-age=5", "Surrogate-Control: max-age=100"}, 100 * time.Second, fromExplicit},
		{"surrogate for another device ignored", nil, 200, []string{"Cache-Control: max-age=5", "Surrogate-Control: max-age=100;other"}, 5 * time.Second, fromExplicit},
		{"max-age beats Expires", nil, 200, []string{"Cache-Control: max-age=3600", "Date: " + httpDate(0), "Expires: " + httpDate(-7200)}, time.Hour, fromExplicit},
		{"max-age=0 beats a future Expires", nil, 200, []string{"Cache-Control: max-age=0", "Date: " + httpDate(0), "Expires: " + httpDate(3600)}, 0, fromExplicit},
		{"Expires minus Date", nil, 200, []string{"Date: " + httpDate(-10*time.Second), "Expires: " + httpDate(20*time.Second)}, 30 * time.Second, fromExplicit},
		{"Expires without Date uses the response time", nil, 200, []string{"Expires: " + httpDate(30*time.Second)}, 30 * time.Second, fromExplicit},
		{"Expires with an invalid Date", nil, 200, []string{"Date: foo", "Expires: " + httpDate(10*time.Second)}, 10 * time.Second, fromExplicit},
		{"Expires before Date", nil, 200, []string{"Date: " + httpDate(400*time.Second), "Expires: " + httpDate(300*time.Second)}, 0, fromExplicit},
		{"invalid Expires is in the past", nil, 200, []string{"Date: " + httpDate(0), "Expires: 0"}, 0, fromExplicit},
		{"two Expires are invalid", nil, 200, []string{"Expires: " + httpDate(time.Hour), "Expires: " + httpDate(time.Hour)}, 0, fromExplicit},
		{"RFC 850 Expires", nil, 200, []string{"Date: " + httpDate(0), "Expires: Sunday, 06-Nov-94 08:49:37 GMT"}, 0, fromExplicit},
		{"quoted max-age", nil, 200, []string{`Cache-Control: max-age="60"`}, time.Minute, fromExplicit},
		{"unknown directive and max-age", nil, 200, []string{`Cache-Control: foo, max-age=60, bar="x,y"`}, time.Minute, fromExplicit},
		{"heuristic 10% of Last-Modified age", nil, 200, []string{"Date: " + httpDate(0), "Last-Modified: " + httpDate(-1000*time.Second)}, 100 * time.Second, fromHeuristic},
		{"heuristic capped at a day with default_ttl 0", nil, 200, []string{"Date: " + httpDate(0), "Last-Modified: " + httpDate(-100*day)}, day, fromHeuristic},
		{"heuristic capped at default_ttl", func(t *ttls) { t.def = time.Hour }, 200, []string{"Last-Modified: " + httpDate(-100*day)}, time.Hour, fromHeuristic},
		{"heuristic with an invalid Last-Modified", nil, 200, []string{"Last-Modified: yesterday"}, 0, fromDefault},
		{"no heuristic for 201", nil, 201, []string{"Last-Modified: " + httpDate(-1000*time.Second)}, 0, fromNone},
		{"heuristic for 404 when errors are not cached", nil, 404, []string{"Last-Modified: " + httpDate(-1000*time.Second)}, 100 * time.Second, fromHeuristic},
		{"public makes 599 heuristically cacheable", nil, 599, []string{"Cache-Control: public", "Last-Modified: " + httpDate(-1000*time.Second)}, 100 * time.Second, fromHeuristic},
		{"no heuristic for 599", nil, 599, []string{"Last-Modified: " + httpDate(-1000*time.Second)}, 0, fromNone},
		{"default_ttl without information", func(t *ttls) { t.def = day }, 200, nil, day, fromDefault},
		{"default_ttl 0", nil, 200, nil, 0, fromDefault},
		{"no default_ttl for 302", func(t *ttls) { t.def = day }, 302, nil, 0, fromNone},
		{"error caching min TTL for 404", func(t *ttls) { t.errorMin = 10 * time.Second }, 404, nil, 10 * time.Second, fromError},
		{"error caching beats the heuristic", func(t *ttls) { t.errorMin = 10 * time.Second }, 404, []string{"Last-Modified: " + httpDate(-1000*time.Second)}, 10 * time.Second, fromError},
		{"per-status error TTL", func(t *ttls) {
			t.errorMin = 10 * time.Second
			t.errorTTLs = map[int]time.Duration{503: 2 * time.Second}
		}, 503, nil, 2 * time.Second, fromError},
		{"418 is not an error CloudFront caches", func(t *ttls) { t.errorMin = 10 * time.Second }, 418, nil, 0, fromNone},
		{"explicit freshness beats error caching", func(t *ttls) { t.errorMin = 10 * time.Second }, 500, []string{"Cache-Control: max-age=1"}, time.Second, fromExplicit},
		{"min_ttl raises max-age", func(t *ttls) { t.min = time.Minute }, 200, []string{"Cache-Control: max-age=5"}, time.Minute, fromExplicit},
		{"min_ttl raises max-age=0", func(t *ttls) { t.min = time.Minute }, 200, []string{"Cache-Control: max-age=0"}, time.Minute, fromExplicit},
		{"max_ttl caps max-age", func(t *ttls) { t.max = time.Hour }, 200, []string{"Cache-Control: max-age=99999999999"}, time.Hour, fromExplicit},
		{"max_ttl caps default_ttl", func(t *ttls) { t.max = time.Hour; t.def = day }, 200, nil, time.Hour, fromDefault},
		{"huge max-age within the default max_ttl", nil, 200, []string{"Cache-Control: max-age=2147483648"}, DefaultMaxTTL, fromExplicit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ttl := honestTTLs()
			if tt.ttl != nil {
				tt.ttl(&ttl)
			}
			got, src := ttl.lifetime(metaOf(tt.status, tt.headers...))
			if got != tt.want || src != tt.wantSrc {
				t.Errorf("lifetime(%d %q) = %v, %d, want %v, %d", tt.status, tt.headers, got, src, tt.want, tt.wantSrc)
			}
		})
	}
}

func TestInitialAge(t *testing.T) {
	t.Parallel()
	const delay = 100 * time.Millisecond
	tests := []struct {
		name    string
		headers []string
		want    time.Duration
	}{
		{"nothing: the response delay", nil, delay},
		{"apparent age from Date", []string{"Date: " + httpDate(-7200*time.Second)}, 7200 * time.Second},
		{"Date in the future", []string{"Date: " + httpDate(time.Hour)}, delay},
		{"Age plus delay", []string{"Age: 30"}, 30*time.Second + delay},
		{"Age beats a smaller apparent age", []string{"Date: " + httpDate(-10*time.Second), "Age: 30"}, 30*time.Second + delay},
		{"apparent age beats a smaller Age", []string{"Date: " + httpDate(-60*time.Second), "Age: 30"}, 60 * time.Second},
		// RFC 9111 5.1: an invalid Age is ignored; a list counts by its
		// first member.
		{"non-numeric Age: ignored", []string{"Age: abc"}, delay},
		{"negative Age: ignored", []string{"Age: -7200"}, delay},
		{"float Age: ignored", []string{"Age: 1.5"}, delay},
		{"empty Age: ignored", []string{"Age: "}, delay},
		{"list Age: first member", []string{"Age: 0,7200"}, delay},
		{"list Age with spaces: first member", []string{"Age: 7200 , 0"}, 7200*time.Second + delay},
		{"two Age lines: the first", []string{"Age: 30", "Age: 7200"}, 30*time.Second + delay},
		{"list whose first member is invalid: ignored", []string{"Age: x, 7200"}, delay},
		{"Age with a parameter: ignored", []string{"Age: 10;foo=1"}, delay},
		{"huge Age capped", []string{"Age: 99999999999999"}, maxAgeDuration + delay},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := initialAge(metaOf(200, tt.headers...)); got != tt.want {
				t.Errorf("initialAge(%q) = %v, want %v", tt.headers, got, tt.want)
			}
		})
	}
}

func TestStorable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		ttl     func(*ttls)
		auth    bool
		status  int
		headers []string
		want    reason
	}{
		{"fresh 200", nil, false, 200, []string{"Cache-Control: max-age=60"}, ""},
		{"no-store", nil, false, 200, []string{"Cache-Control: max-age=60, no-store"}, "no-store"},
		{"no-store any case", nil, false, 200, []string{"Cache-Control: No-StOrE"}, "no-store"},
		{"min_ttl overrides no-store", func(t *ttls) { t.min, t.def = time.Minute, time.Minute }, false, 200, []string{"Cache-Control: no-store"}, ""},
		{"private", nil, false, 200, []string{"Cache-Control: private, max-age=60"}, "private"},
		{"min_ttl overrides private", func(t *ttls) { t.min, t.def = time.Minute, time.Minute }, false, 200, []string{"Cache-Control: private"}, ""},
		{"qualified private stores the rest", nil, false, 200, []string{`Cache-Control: private="x-user", max-age=60`}, ""},
		{"no-cache with a validator is stored for revalidation", nil, false, 200, []string{"Cache-Control: no-cache", "ETag: \"a\""}, ""},
		{"must-understand overrides no-store for a known status", nil, false, 200, []string{"Cache-Control: max-age=60, no-store, must-understand"}, ""},
		{"must-understand with an unknown status", nil, false, 599, []string{"Cache-Control: max-age=60, must-understand"}, "must-understand"},
		{"unknown status with explicit freshness", nil, false, 599, []string{"Cache-Control: max-age=60"}, ""},
		{"Vary: *", nil, false, 200, []string{"Cache-Control: max-age=60", "Vary: Foo, *"}, "vary"},
		{"Vary: * on its own line", nil, false, 200, []string{"Cache-Control: max-age=60", "Vary: ", "Vary: *"}, "vary"},
		{"Set-Cookie", nil, false, 200, []string{"Cache-Control: max-age=60", "Set-Cookie: a=b"}, "set-cookie"},
		{"Set-Cookie2", nil, false, 200, []string{"Cache-Control: max-age=60", "Set-Cookie2: a=b"}, "set-cookie"},
		{"Set-Cookie allowed", func(t *ttls) { t.cacheSetCookie = true }, false, 200, []string{"Cache-Control: max-age=60", "Set-Cookie: a=b"}, ""},
		{"Authorization", nil, true, 200, []string{"Cache-Control: max-age=60"}, "authorization"},
		{"Authorization with Expires", nil, true, 200, []string{"Expires: " + httpDate(time.Hour)}, "authorization"},
		{"Authorization and public", nil, true, 200, []string{"Cache-Control: max-age=60, public"}, ""},
		{"Authorization and s-maxage", nil, true, 200, []string{"Cache-Control: s-maxage=60"}, ""},
		{"Authorization and must-revalidate", nil, true, 200, []string{"Cache-Control: max-age=60, must-revalidate"}, ""},
		{"Authorization overridden by min_ttl? no", func(t *ttls) { t.min = time.Minute }, true, 200, []string{"Cache-Control: max-age=60"}, "authorization"},
		{"206", nil, false, 206, []string{"Cache-Control: max-age=60"}, "status"},
		{"304", nil, false, 304, []string{"Cache-Control: max-age=60"}, "status"},
		{"trailer", nil, false, 200, []string{"Cache-Control: max-age=60", "Trailer: X-Sum"}, "trailer"},
		{"nothing to go on", nil, false, 200, nil, "no freshness"},
		{"a validator alone is kept for revalidation", nil, false, 200, []string{"ETag: \"a\""}, ""},
		{"201 is not heuristically cacheable", nil, false, 201, []string{"ETag: \"a\""}, "no freshness"},
		{"403 with Last-Modified only", nil, false, 403, []string{"Last-Modified: " + httpDate(-time.Hour)}, "no freshness"},
		{"503 cached by error caching", func(t *ttls) { t.errorMin = 10 * time.Second }, false, 503, nil, ""},
		{"stale-if-error alone keeps it", nil, false, 200, []string{"Cache-Control: max-age=0, stale-if-error=60"}, ""},
		{"surrogate no-store beats max-age", nil, false, 200, []string{"Cache-Control: max-age=60", "Surrogate-Control: no-store"}, "no-store"},
		{"surrogate max-age beats no-store", nil, false, 200, []string{"Cache-Control: no-store", "Surrogate-Control: max-age=60;edgeward"}, ""},
		{"surrogate max-age does not beat private", nil, false, 200, []string{"Cache-Control: private", "Surrogate-Control: max-age=60"}, "private"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ttl := honestTTLs()
			if tt.ttl != nil {
				tt.ttl(&ttl)
			}
			if got := ttl.storable(metaOf(tt.status, tt.headers...), tt.auth); got != tt.want {
				t.Errorf("storable(%d %q, auth=%v) = %q, want %q", tt.status, tt.headers, tt.auth, got, tt.want)
			}
		})
	}
}

func TestStaleWindows(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		ttl       func(*ttls)
		headers   []string
		swr, sie  time.Duration
		wantNever bool
	}{
		{"none", nil, []string{"Cache-Control: max-age=60"}, 0, 0, false},
		{"from the response", nil, []string{"Cache-Control: max-age=60, stale-while-revalidate=30, stale-if-error=600"}, 30 * time.Second, 10 * time.Minute, false},
		{"policy defaults", func(t *ttls) { t.staleIfError, t.staleWhileReval = time.Hour, time.Minute }, []string{"Cache-Control: max-age=60"}, time.Minute, time.Hour, false},
		{"response beats defaults", func(t *ttls) { t.staleIfError = time.Hour }, []string{"Cache-Control: max-age=60, stale-if-error=5"}, 0, 5 * time.Second, false},
		{"surrogate extension", nil, []string{"Surrogate-Control: max-age=60+120"}, 0, 2 * time.Minute, false},
		{"must-revalidate", func(t *ttls) { t.staleIfError = time.Hour }, []string{"Cache-Control: max-age=60, must-revalidate, stale-if-error=60"}, 0, 0, true},
		{"proxy-revalidate", nil, []string{"Cache-Control: max-age=60, proxy-revalidate"}, 0, 0, true},
		{"s-maxage implies proxy-revalidate", nil, []string{"Cache-Control: s-maxage=60, stale-while-revalidate=60"}, 0, 0, true},
		{"no-cache", nil, []string{"Cache-Control: no-cache, stale-if-error=60"}, 0, 0, true},
		{"min_ttl overrides no-cache", func(t *ttls) { t.min = time.Minute }, []string{"Cache-Control: no-cache, stale-if-error=60"}, 0, time.Minute, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ttl := honestTTLs()
			if tt.ttl != nil {
				tt.ttl(&ttl)
			}
			swr, sie, never := ttl.staleWindows(metaOf(200, tt.headers...))
			if swr != tt.swr || sie != tt.sie || never != tt.wantNever {
				t.Errorf("staleWindows(%q) = %v, %v, %v, want %v, %v, %v", tt.headers, swr, sie, never, tt.swr, tt.sie, tt.wantNever)
			}
		})
	}
}

// FuzzFreshness feeds arbitrary header values through the policy: it must
// not panic, lifetimes stay within [0, max_ttl] and an origin or heuristic
// lifetime is at least min_ttl.
func FuzzFreshness(f *testing.F) {
	f.Add(200, "max-age=60", "", "", "", "", "", int64(0), int64(3600))
	f.Add(404, "", httpDate(time.Hour), httpDate(0), httpDate(-time.Hour), "7", "", int64(60), int64(120))
	f.Add(599, "public, s-maxage=\"5\"", "0", "foo", "bar", "abc", "max-age=9+3", int64(10), int64(10))
	f.Add(204, "no-cache=\"a\", max-age=-1", "", "", httpDate(-24*time.Hour), "0, 0", "no-store;edgeward", int64(0), int64(0))
	f.Fuzz(func(t *testing.T, status int, cc, expires, date, lm, age, sc string, minS, maxS int64) {
		ttl := honestTTLs()
		ttl.min = time.Duration(minS%(1<<32)) * time.Second
		ttl.max = time.Duration(maxS%(1<<32)) * time.Second
		if ttl.min < 0 || ttl.max < 0 || ttl.min > ttl.max {
			t.Skip()
		}
		ttl.def, ttl.errorMin = ttl.min, ttl.min
		h := http.Header{}
		for k, v := range map[string]string{"Cache-Control": cc, "Expires": expires, "Date": date, "Last-Modified": lm, "Age": age, "Surrogate-Control": sc} {
			if v != "" {
				h.Add(k, v)
			}
		}
		m := parseMeta(status, h, true, respTime.Add(-time.Second), respTime)
		life, src := ttl.lifetime(m)
		if life < 0 || life > ttl.max {
			t.Fatalf("lifetime = %v, want within [0, %v]", life, ttl.max)
		}
		if (src == fromExplicit || src == fromHeuristic) && life < ttl.min {
			t.Fatalf("lifetime = %v from %d, want >= min_ttl %v", life, src, ttl.min)
		}
		if a := initialAge(m); a < 0 {
			t.Fatalf("initialAge = %v, want >= 0", a)
		}
		ttl.storable(m, status%2 == 0)
		ttl.staleWindows(m)
		ttl.retention(m)
	})
}
