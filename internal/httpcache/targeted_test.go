package httpcache

import (
	"testing"
	"time"
)

func TestParseSFDictionary(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		lines []string
		want  []sfMember // nil with ok false means an error
		ok    bool
	}{
		{"integer", []string{"max-age=60"}, []sfMember{{"max-age", sfItem{kind: sfInteger, num: 60}}}, true},
		{"boolean and params", []string{"no-store;x=1, max-age=5"}, []sfMember{{"no-store", sfItem{kind: sfBoolean, num: 1}}, {"max-age", sfItem{kind: sfInteger, num: 5}}}, true},
		{"two lines joined", []string{"max-age=5", "private"}, []sfMember{{"max-age", sfItem{kind: sfInteger, num: 5}}, {"private", sfItem{kind: sfBoolean, num: 1}}}, true},
		{"duplicate key: last value, first place", []string{"max-age=5, public, max-age=9"}, []sfMember{{"max-age", sfItem{kind: sfInteger, num: 9}}, {"public", sfItem{kind: sfBoolean, num: 1}}}, true},
		{"string, token, decimal, bytes, ?0", []string{`a="x\"y", b=tok/1, c=1.5, d=:AQID:, e=?0`}, []sfMember{
			{"a", sfItem{kind: sfString, str: `x"y`}}, {"b", sfItem{kind: sfToken, str: "tok/1"}}, {"c", sfItem{kind: sfDecimal, str: "1.5"}},
			{"d", sfItem{kind: sfBytes, str: "AQID"}}, {"e", sfItem{kind: sfBoolean, num: 0}}}, true},
		{"inner list", []string{"a=(1 2);p, b"}, []sfMember{{"a", sfItem{kind: sfInnerList}}, {"b", sfItem{kind: sfBoolean, num: 1}}}, true},
		{"empty", []string{""}, nil, true},
		{"upper-case key", []string{"Max-Age=60"}, nil, false},
		{"trailing comma", []string{"max-age=60,"}, nil, false},
		{"space before =", []string{"max-age =60"}, nil, false},
		{"sixteen-digit integer", []string{"max-age=1234567890123456"}, nil, false},
		{"decimal with four fraction digits", []string{"a=1.2345"}, nil, false},
		{"unterminated string", []string{`a="x`}, nil, false},
		{"bad boolean", []string{"a=?2"}, nil, false},
		{"garbage after item", []string{"max-age=60 x"}, nil, false},
		{"quoted value is a string", []string{`max-age="60"`}, []sfMember{{"max-age", sfItem{kind: sfString, str: "60"}}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseSFDictionary(tt.lines)
			if (err == nil) != tt.ok {
				t.Fatalf("parseSFDictionary(%q) err = %v, want ok %v", tt.lines, err, tt.ok)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("parseSFDictionary(%q) = %+v, want %+v", tt.lines, got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("parseSFDictionary(%q)[%d] = %+v, want %+v", tt.lines, i, got[i], tt.want[i])
				}
			}
		})
	}
}

// TestTargetedPrecedence pins the order of the fields that set freshness:
// Edgeward-Cache-Control > CDN-Cache-Control > Surrogate-Control >
// Cache-Control, with an invalid targeted field ignored whole and a
// directive of the wrong type ignored alone.
func TestTargetedPrecedence(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		headers []string
		life    time.Duration
		why     reason
	}{
		{"CDN-Cache-Control beats Cache-Control", []string{"Cache-Control: max-age=5", "CDN-Cache-Control: max-age=100"}, 100 * time.Second, ""},
		{"Edgeward-Cache-Control beats CDN-Cache-Control", []string{"Edgeward-Cache-Control: max-age=7", "CDN-Cache-Control: max-age=100", "Cache-Control: max-age=5"}, 7 * time.Second, ""},
		{"CDN-Cache-Control beats Surrogate-Control", []string{"Surrogate-Control: max-age=50", "CDN-Cache-Control: max-age=100"}, 100 * time.Second, ""},
		{"CDN-Cache-Control lets a private response be stored", []string{"Cache-Control: private", "CDN-Cache-Control: max-age=60"}, 60 * time.Second, ""},
		{"CDN-Cache-Control no-store wins over Cache-Control", []string{"Cache-Control: max-age=60", "CDN-Cache-Control: no-store"}, 0, "no-store"},
		{"invalid CDN-Cache-Control ignored whole", []string{"Cache-Control: max-age=5", "CDN-Cache-Control: max-age=100, Bad"}, 5 * time.Second, ""},
		{"invalid Edgeward field falls to CDN-Cache-Control", []string{"Edgeward-Cache-Control: max-age=1,", "CDN-Cache-Control: max-age=100"}, 100 * time.Second, ""},
		{"quoted max-age (a String) ignored: no freshness", []string{"Cache-Control: max-age=5", `CDN-Cache-Control: max-age="100"`}, 0, "no freshness"},
		{"negative max-age ignored", []string{"CDN-Cache-Control: max-age=-1", "Last-Modified: " + httpDate(-10*time.Hour)}, time.Hour, ""},
		{"decimal max-age ignored, Boolean kept", []string{"CDN-Cache-Control: max-age=1.5, no-store"}, 0, "no-store"},
		{"no-store=?0 is not no-store", []string{"CDN-Cache-Control: max-age=30, no-store=?0"}, 30 * time.Second, ""},
		{"s-maxage beats max-age", []string{"CDN-Cache-Control: max-age=30, s-maxage=90"}, 90 * time.Second, ""},
		{"duplicate member: the last", []string{"CDN-Cache-Control: max-age=30", "CDN-Cache-Control: max-age=90"}, 90 * time.Second, ""},
		{"parameters ignored", []string{"CDN-Cache-Control: max-age=30;foo=bar"}, 30 * time.Second, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ttl := honestTTLs()
			m := metaOf(200, append([]string{"Date: " + httpDate(0)}, tt.headers...)...)
			if why := ttl.storable(m, false); why != tt.why {
				t.Fatalf("storable(%q) = %q, want %q", tt.headers, why, tt.why)
			}
			if tt.why != "" {
				return
			}
			if life, _ := ttl.lifetime(m); life != tt.life {
				t.Errorf("lifetime(%q) = %v, want %v", tt.headers, life, tt.life)
			}
		})
	}
}

// FuzzParseSFDictionary checks that the parser never panics and that
// what it accepts has valid keys; and that every accepted targeted field
// yields directives within the delta-seconds range.
func FuzzParseSFDictionary(f *testing.F) {
	for _, s := range []string{"max-age=60", "no-store;x=1, max-age=5", `a="x\"y", b=tok/1, c=1.5, d=:AQID:, e=?0`, "a=(1 2);p, b", "max-age=60,", "Max-Age=1", "a=-999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		members, err := parseSFDictionary([]string{s})
		if err != nil {
			return
		}
		for _, m := range members {
			if m.key == "" || !(m.key[0] == '*' || (m.key[0] >= 'a' && m.key[0] <= 'z')) {
				t.Fatalf("parseSFDictionary(%q) accepted key %q", s, m.key)
			}
		}
		d, ok := parseCDNCacheControl([]string{s})
		if !ok {
			t.Fatalf("parseCDNCacheControl(%q) refused a valid dictionary", s)
		}
		for _, v := range []int64{d.maxAge, d.sMaxAge, d.staleIfError, d.staleWhileRevalidate} {
			if v < -1 || v > maxDelta {
				t.Fatalf("parseCDNCacheControl(%q) = %+v: out of range", s, d)
			}
		}
	})
}
