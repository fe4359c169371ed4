package size

import "testing"

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    Bytes
		wantErr bool
	}{
		{"0", 0, false},
		{"512", 512, false},
		{"40KB", 40 * KiB, false},
		{"40kb", 40 * KiB, false},
		{"1 MiB", MiB, false},
		{"64MiB", 64 * MiB, false},
		{"2G", 2 * GiB, false},
		{"7B", 7, false},
		{"", 0, true},
		{"-1", 0, true},
		{"1.5MB", 0, true},
		{"10XB", 0, true},
		{"99999999999999GB", 0, true},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("Parse(%q) = %d, %v; want %d, err=%v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestString(t *testing.T) {
	t.Parallel()
	for _, b := range []Bytes{0, 1, 1023, KiB, 3 * MiB, 5 * GiB, KiB + 1} {
		got, err := Parse(b.String())
		if err != nil || got != b {
			t.Errorf("Parse(%q) = %d, %v; want %d", b.String(), got, err, b)
		}
	}
}
