package httpcache

import (
	"testing"
	"time"
)

func TestParseHTTPDate(t *testing.T) {
	t.Parallel()
	want := time.Date(1994, 11, 6, 8, 49, 37, 0, time.UTC)
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"IMF-fixdate", "Sun, 06 Nov 1994 08:49:37 GMT", true},
		{"IMF-fixdate with outer whitespace", " Sun, 06 Nov 1994 08:49:37 GMT\t", true},
		{"rfc850-date", "Sunday, 06-Nov-94 08:49:37 GMT", true},
		{"asctime-date, one-digit day", "Sun Nov  6 08:49:37 1994", true},
		{"double space", "Sun, 06 Nov 1994  08:49:37 GMT", false},
		{"one-digit hour", "Sun, 06 Nov 1994 8:49:37 GMT", false},
		{"one-digit day", "Sun, 6 Nov 1994 08:49:37 GMT", false},
		{"lower-case month", "Sun, 06 nov 1994 08:49:37 GMT", false},
		{"lower-case gmt", "Sun, 06 Nov 1994 08:49:37 gmt", false},
		{"UTC instead of GMT", "Sun, 06 Nov 1994 08:49:37 UTC", false},
		{"numeric zone", "Sun, 06 Nov 1994 08:49:37 +0000", false},
		{"no day name", "06 Nov 1994 08:49:37 GMT", false},
		{"long day name in IMF-fixdate", "Sunday, 06 Nov 1994 08:49:37 GMT", false},
		{"hour 24", "Sun, 06 Nov 1994 24:00:00 GMT", false},
		{"minute 60", "Sun, 06 Nov 1994 08:60:00 GMT", false},
		{"30 February", "Wed, 30 Feb 2000 08:49:37 GMT", false},
		{"two-digit year in IMF-fixdate", "Sun, 06 Nov 94 08:49:37 GMT", false},
		{"zero", "0", false},
		{"empty", "", false},
		{"asctime two-digit day with leading zero", "Sun Nov 06 08:49:37 1994", true},
		{"trailing garbage", "Sun, 06 Nov 1994 08:49:37 GMT x", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := parseHTTPDate(tt.in)
			if ok != tt.ok {
				t.Fatalf("parseHTTPDate(%q) ok = %v, want %v", tt.in, ok, tt.ok)
			}
			if ok && !got.Equal(want) {
				t.Errorf("parseHTTPDate(%q) = %v, want %v", tt.in, got, want)
			}
		})
	}
}

func TestFullYear(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ yy, now, want int }{
		{94, 2026, 1994}, {26, 2026, 2026}, {76, 2026, 2076}, {77, 2026, 1977}, {0, 2026, 2000},
	} {
		if got := fullYear(tt.yy, tt.now); got != tt.want {
			t.Errorf("fullYear(%d, %d) = %d, want %d", tt.yy, tt.now, got, tt.want)
		}
	}
}

// TestInvalidExpiresIsExpired pins RFC 9111 5.3: an Expires that is not
// a valid HTTP-date means already expired, even when http.ParseTime would
// accept it.
func TestInvalidExpiresIsExpired(t *testing.T) {
	t.Parallel()
	ttl := honestTTLs()
	for _, v := range []string{"Sun, 01 Jun 2025  13:00:00 GMT", "Sun, 01 Jun 2025 3:00:00 GMT", "0", "Sun, 01 Jun 2025 13:00:00 GMT, Sun, 01 Jun 2025 14:00:00 GMT"} {
		m := metaOf(200, "Date: "+httpDate(0), "Expires: "+v)
		if life, src := ttl.lifetime(m); life != 0 || src != fromExplicit {
			t.Errorf("lifetime(Expires: %q) = %v, %d, want 0 (already expired)", v, life, src)
		}
	}
	m := metaOf(200, "Date: "+httpDate(0), "Expires: "+httpDate(time.Hour))
	if life, _ := ttl.lifetime(m); life != time.Hour {
		t.Errorf("lifetime(valid Expires +1h) = %v, want 1h", life)
	}
}

// FuzzParseHTTPDate checks that every accepted date formats back, as
// IMF-fixdate, to a date the parser accepts as the same instant.
func FuzzParseHTTPDate(f *testing.F) {
	for _, s := range []string{"Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994", "Sun, 06 Nov 1994  08:49:37 GMT", "Thu, 31 Dec 1998 23:59:60 GMT", "Wed, 30 Feb 2000 08:49:37 GMT"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseHTTPDate(s)
		if !ok {
			return
		}
		back := got.UTC().Format("Mon, 02 Jan 2006 15:04:05 GMT")
		if got.Year() < 0 || got.Year() > 9999 {
			return
		}
		again, ok := parseHTTPDate(back)
		if !ok || !again.Equal(got) {
			t.Fatalf("parseHTTPDate(%q) = %v; its IMF-fixdate %q gives %v, %v", s, got, back, again, ok)
		}
	})
}
