package method

import (
	"strings"
	"testing"
)

func TestValid_Token(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		m    string
		want bool
	}{
		{"GET", "GET", true},
		{"extension method", "PROPFIND", true},
		{"lower case is another method", "get", true},
		{"every tchar", "!#$%&'*+-.^_`|~09AZaz", true},
		{"empty", "", false},
		{"space", "GET ", false},
		{"separator", "GET/1", false},
		{"quote", `"GET"`, false},
		{"colon", "GET:", false},
		{"control", "GE\x00T", false},
		{"non-ASCII", "GÉT", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Valid(tt.m); got != tt.want {
				t.Errorf("Valid(%q) = %v, want %v", tt.m, got, tt.want)
			}
		})
	}
}

// FuzzValid checks Valid against the tchar set of RFC 9110 section 5.6.2
// spelled out.
func FuzzValid(f *testing.F) {
	for _, s := range []string{"GET", "", "M-SEARCH", "GET /", "\xff"} {
		f.Add(s)
	}
	const tchar = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	f.Fuzz(func(t *testing.T, m string) {
		want := m != ""
		for i := 0; i < len(m); i++ {
			if !strings.ContainsRune(tchar, rune(m[i])) {
				want = false
			}
		}
		if got := Valid(m); got != want {
			t.Errorf("Valid(%q) = %v, want %v", m, got, want)
		}
	})
}
