package fleet

import "testing"

func TestCompareID(t *testing.T) {
	cases := []struct {
		a, b string
		want int
	}{
		{"1-0", "1-0", 0},
		{"1-1", "1-0", 1},
		{"9-0", "10-0", -1}, // numeric, not lexical
		{"0-0", "1700000000000-5", -1},
		{"1700000000000-12", "1700000000000-2", 1},
	}
	for _, tc := range cases {
		if got := compareID(tc.a, tc.b); got != tc.want {
			t.Errorf("compareID(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func FuzzCompareID(f *testing.F) {
	f.Add("1-0", "1-1")
	f.Add("1700000000000-12", "1700000000000-2")
	f.Add("", "x-y")
	f.Fuzz(func(t *testing.T, a, b string) {
		if compareID(a, b) != -compareID(b, a) {
			t.Fatalf("compareID(%q, %q) = %d but compareID(%q, %q) = %d", a, b, compareID(a, b), b, a, compareID(b, a))
		}
		if compareID(a, a) != 0 {
			t.Fatalf("compareID(%q, itself) = %d", a, compareID(a, a))
		}
	})
}
