package httpcache

import (
	"testing"
	"time"
)

func TestParseAge(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		lines []string
		want  time.Duration
		ok    bool
	}{
		{"absent", nil, 0, false},
		{"one value", []string{"30"}, 30 * time.Second, true},
		{"zero", []string{"0"}, 0, true},
		{"list: first member", []string{"0,7200"}, 0, true},
		{"list with OWS: first member", []string{" 7200 , 0"}, 7200 * time.Second, true},
		{"empty first element skipped", []string{", 5"}, 5 * time.Second, true},
		{"two lines: first line", []string{"10", "7200"}, 10 * time.Second, true},
		{"float ignored", []string{"1.5"}, 0, false},
		{"negative ignored", []string{"-1"}, 0, false},
		{"letters ignored", []string{"abc"}, 0, false},
		{"first member invalid: ignored", []string{"x, 7200"}, 0, false},
		{"empty ignored", []string{""}, 0, false},
		{"overflow capped at 2^31", []string{"99999999999999999999"}, maxAgeDuration, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := parseAge(tt.lines)
			if got != tt.want || ok != tt.ok {
				t.Errorf("parseAge(%q) = %v, %v, want %v, %v", tt.lines, got, ok, tt.want, tt.ok)
			}
		})
	}
}

// FuzzParseAge checks that an Age is never negative nor beyond 2^31
// seconds, and that a value it accepts is the first list member's digits.
func FuzzParseAge(f *testing.F) {
	for _, s := range []string{"30", "0,7200", "1.5", "-1", " , 5", "99999999999999999999", "x, 1"} {
		f.Add(s, "")
	}
	f.Add("1", "2")
	f.Fuzz(func(t *testing.T, a, b string) {
		lines := []string{a}
		if b != "" {
			lines = append(lines, b)
		}
		got, ok := parseAge(lines)
		if got < 0 || got > maxAgeDuration || (!ok && got != 0) {
			t.Fatalf("parseAge(%q) = %v, %v", lines, got, ok)
		}
	})
}
