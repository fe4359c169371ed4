package jsonstring

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestAppend_Golden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", `""`},
		{"plain", "GET /orders/1", `"GET /orders/1"`},
		{"quote and backslash", `a"b\c`, `"a\"b\\c"`},
		{"short escapes", "\n\r\t\b\f", `"\n\r\t\b\f"`},
		{"other controls", "\x00\x1f", `"\u0000\u001f"`},
		{"DEL", "a\x7fb", `"a\u007fb"`},
		{"HTML", "<script>&", `"\u003cscript\u003e\u0026"`},
		{"line separators", "a\u2028b\u2029c", `"a\u2028b\u2029c"`},
		{"valid UTF-8 kept", "héllo, 世界 🙂", `"héllo, 世界 🙂"`},
		{"invalid byte", "a\xffb", `"a\ufffdb"`},
		{"truncated rune, one replacement a byte", "\xe4\xb8", `"\ufffd\ufffd"`},
		{"log line forgery", "x\"}\n{\"decision\":\"allow", `"x\"}\n{\"decision\":\"allow"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(Append(nil, tt.in)); got != tt.want {
				t.Errorf("Append(%q) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}

func TestAppendEscaped_NoQuotes(t *testing.T) {
	t.Parallel()
	if got := string(AppendEscaped([]byte("k="), `v"1`)); got != `k=v\"1` {
		t.Errorf(`AppendEscaped("k=", v"1) = %s, want k=v\"1`, got)
	}
}

// FuzzAppend checks that every output is JSON that encoding/json decodes
// back to the input (invalid UTF-8 replaced byte by byte), that it holds
// no byte a terminal or log reader could trip on, and that it matches
// encoding/json where encoding/json's rules apply.
func FuzzAppend(f *testing.F) {
	for _, s := range []string{"", "plain", "a\"b\\c", "\x00\x7f\n", "<&>", "\u2028", "\xff\xfe", "héllo"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Append(nil, s)
		var back string
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("Append(%q) = %s: not JSON: %v", s, out, err)
		}
		if want := replaceInvalid(s); back != want {
			t.Fatalf("Append(%q) = %s decodes to %q, want %q", s, out, back, want)
		}
		if !utf8.Valid(out) {
			t.Fatalf("Append(%q) = %q: invalid UTF-8", s, out)
		}
		for _, c := range out {
			if c < 0x20 || c == 0x7f || c == '<' || c == '>' || c == '&' {
				t.Fatalf("Append(%q) = %q: holds byte %#x", s, out, c)
			}
		}
		if bytes.Contains(out, []byte("\u2028")) || bytes.Contains(out, []byte("\u2029")) {
			t.Fatalf("Append(%q) = %q: holds a raw line separator", s, out)
		}
		if utf8.ValidString(s) && !strings.ContainsRune(s, 0x7f) {
			std, _ := json.Marshal(s)
			if !bytes.Equal(out, std) {
				t.Fatalf("Append(%q) = %s, encoding/json writes %s", s, out, std)
			}
		}
	})
}

// replaceInvalid replaces each byte of invalid UTF-8 with U+FFFD, as
// encoding/json does.
func replaceInvalid(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		b.WriteRune(r) // RuneError for an invalid byte, n == 1
		i += n
	}
	return b.String()
}

func BenchmarkAppend(b *testing.B) {
	buf := make([]byte, 0, 128)
	for b.Loop() {
		buf = Append(buf[:0], "/orders/12345?view=full&lang=en")
	}
}
