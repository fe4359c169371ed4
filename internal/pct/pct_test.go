package pct

import "testing"

func TestDigit(t *testing.T) {
	for c := 0; c < 256; c++ {
		want, wantOK := byte(0), false
		switch {
		case c >= '0' && c <= '9':
			want, wantOK = byte(c-'0'), true
		case c >= 'a' && c <= 'f':
			want, wantOK = byte(c-'a'+10), true
		case c >= 'A' && c <= 'F':
			want, wantOK = byte(c-'A'+10), true
		}
		if got, ok := Digit(byte(c)); got != want || ok != wantOK {
			t.Errorf("Digit(%q) = %d, %v; want %d, %v", rune(c), got, ok, want, wantOK)
		}
	}
}

func TestAt(t *testing.T) {
	for _, tc := range []struct {
		s    string
		i    int
		want byte
		ok   bool
	}{
		{"%2F", 0, '/', true},
		{"a%2fb", 1, '/', true},
		{"%41", 0, 'A', true},
		{"%ff", 0, 0xff, true},
		{"%2", 0, 0, false},  // truncated
		{"%", 0, 0, false},   // truncated
		{"%G1", 0, 0, false}, // not hex
		{"%1G", 0, 0, false}, // not hex
		{"a2F", 0, 0, false}, // no '%'
		{"x%2F", 0, 0, false},
	} {
		got, ok := At(tc.s, tc.i)
		if ok != tc.ok || ok && got != tc.want {
			t.Errorf("At(%q, %d) = %#x, %v; want %#x, %v", tc.s, tc.i, got, ok, tc.want, tc.ok)
		}
	}
}
