package requestid

import (
	"regexp"
	"strings"
	"sync"
	"testing"
)

func TestSource_UniqueAndValid(t *testing.T) {
	t.Parallel()
	a, b := New(), New()
	seen := map[string]bool{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 250 {
				id := a.Next()
				mu.Lock()
				seen[id] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != 1000 {
		t.Errorf("1000 concurrent Next() gave %d distinct ids, want 1000", len(seen))
	}
	for id := range seen {
		if !Valid(id) {
			t.Fatalf("Next() = %q, which Valid refuses", id)
		}
	}
	if x, y := a.Next(), b.Next(); x == y || strings.SplitN(x, "-", 2)[0] == strings.SplitN(y, "-", 2)[0] {
		t.Errorf("two Sources made %q and %q, want different prefixes", x, y)
	}
}

func TestSource_AppendFormatsSeq(t *testing.T) {
	t.Parallel()
	s := New()
	n := s.Seq()
	if got, want := string(s.Append(nil, n)), s.prefix+"1"; got != want {
		t.Errorf("Append(nil, %d) = %q, want %q", n, got, want)
	}
	if got, want := s.Next(), s.prefix+"2"; got != want {
		t.Errorf("Next() after Seq() = %q, want %q", got, want)
	}
}

func TestValid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, id string
		want     bool
	}{
		{"generated", "q0J8mZ1cY2V4kTnA-1f", true},
		{"uuid", "3f8e2a9c-2b1d-4c6e-9f00-0123456789ab", true},
		{"base64 std", "a+b/c==", true},
		{"empty", "", false},
		{"too long", strings.Repeat("a", MaxLen+1), false},
		{"max", strings.Repeat("a", MaxLen), true},
		{"space", "a b", false},
		{"quote", `a"b`, false},
		{"newline", "a\nb", false},
		{"non-ASCII", "é", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Valid(tt.id); got != tt.want {
				t.Errorf("Valid(%q) = %v, want %v", tt.id, got, tt.want)
			}
		})
	}
}

func TestUUID_Version4(t *testing.T) {
	t.Parallel()
	re := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	if a, b := UUID(), UUID(); !re.MatchString(a) || a == b {
		t.Errorf("UUID() = %q, %q, want two different version 4 UUIDs", a, b)
	}
}

// FuzzValid checks that an id Valid accepts is short and holds nothing a
// header or a log line would need to quote.
func FuzzValid(f *testing.F) {
	for _, s := range []string{"abc-1", "", "a b", "x\r\ny"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		if !Valid(id) {
			return
		}
		if len(id) > MaxLen || strings.ContainsAny(id, " \t\r\n\"\\,;") {
			t.Errorf("Valid(%q) = true", id)
		}
		for _, c := range []byte(id) {
			if c <= ' ' || c >= 0x7f {
				t.Errorf("Valid(%q) = true with byte %#x", id, c)
			}
		}
	})
}
