package edge

import (
	"errors"
	"strings"
	"testing"
)

func TestCanonicalize(t *testing.T) {
	t.Parallel()
	const refuse = "<refused>"
	tests := []struct {
		name string
		in   string
		opt  PathOptions
		want string // refuse: a *PathError
	}{
		{"root", "/", PathOptions{}, "/"},
		{"plain", "/orders/42", PathOptions{}, "/orders/42"},
		{"trailing slash kept", "/orders/", PathOptions{}, "/orders/"},
		{"dotdot", "/a/../b", PathOptions{}, "/b"},
		{"dot", "/a/./b", PathOptions{}, "/a/b"},
		{"encoded dotdot lower", "/a/%2e%2e/b", PathOptions{}, "/b"},
		{"encoded dotdot upper", "/a/%2E%2E/b", PathOptions{}, "/b"},
		{"encoded dotdot mixed", "/a/.%2e/b", PathOptions{}, "/b"},
		{"encoded dot", "/a/%2e/b", PathOptions{}, "/a/b"},
		{"dotdot above root", "/../../etc/passwd", PathOptions{}, "/etc/passwd"},
		{"dotdot at end", "/a/b/..", PathOptions{}, "/a/"},
		{"dot at end", "/a/b/.", PathOptions{}, "/a/b/"},
		{"dotdot to root", "/a/..", PathOptions{}, "/"},
		{"double slash leading", "//a", PathOptions{}, "/a"},
		{"double slash inner", "/a//b", PathOptions{}, "/a/b"},
		{"many slashes", "////a///b////", PathOptions{}, "/a/b/"},
		{"only slashes", "///", PathOptions{}, "/"},
		{"keep empty segments", "/a//b", PathOptions{KeepEmptySegments: true}, "/a//b"},
		{"keep empty then dotdot", "/a//..", PathOptions{KeepEmptySegments: true}, "/a/"},
		{"merged then dotdot", "/a//../b", PathOptions{}, "/b"},
		{"unreserved decoded", "/%61%62%63", PathOptions{}, "/abc"},
		{"tilde decoded", "/%7euser", PathOptions{}, "/~user"},
		{"hex case upper", "/a%3bb", PathOptions{}, "/a%3Bb"},
		{"encoded reserved kept", "/a%3Fb%23c", PathOptions{}, "/a%3Fb%23c"},
		{"encoded sub-delim kept encoded", "/a%2Bb", PathOptions{}, "/a%2Bb"},
		{"raw sub-delims kept", "/a+b;c=d,e!$&'()*:@", PathOptions{}, "/a+b;c=d,e!$&'()*:@"},
		{"raw unsafe encoded", "/a b\"<>{}|^`[]", PathOptions{}, "/a%20b%22%3C%3E%7B%7D%7C%5E%60%5B%5D"},
		{"raw hash encoded", "/a#b", PathOptions{}, "/a%23b"},
		{"utf8 raw", "/caf\xc3\xa9", PathOptions{}, "/caf%C3%A9"},
		{"utf8 encoded lower", "/caf%c3%a9", PathOptions{}, "/caf%C3%A9"},
		{"utf8 four bytes", "/%F0%9F%98%80", PathOptions{}, "/%F0%9F%98%80"},
		{"space encoded kept", "/a%20b", PathOptions{}, "/a%20b"},
		{"percent literal", "/100%25", PathOptions{}, "/100%25"},
		{"percent then non hex", "/100%25off", PathOptions{}, "/100%25off"},
		{"params kept", "/a;jsessionid=1/b", PathOptions{}, "/a;jsessionid=1/b"},
		{"three dots is a name", "/a/.../b", PathOptions{}, "/a/.../b"},
		{"dot prefix name", "/.well-known/x", PathOptions{}, "/.well-known/x"},
		{"dotdot prefix name", "/..a/b", PathOptions{}, "/..a/b"},
		{"encoded slash allowed", "/a%2fb", PathOptions{AllowEncodedSlash: true}, "/a%2Fb"},
		{"encoded backslash allowed", "/a%5cb", PathOptions{AllowEncodedSlash: true}, "/a%5Cb"},
		{"double encoding allowed", "/a%252Fb", PathOptions{AllowDoubleEncoding: true}, "/a%252Fb"},

		{"empty", "", PathOptions{}, refuse},
		{"relative", "a/b", PathOptions{}, refuse},
		{"asterisk", "*", PathOptions{}, refuse},
		{"encoded slash", "/a%2Fb", PathOptions{}, refuse},
		{"encoded slash lower", "/a%2fb", PathOptions{}, refuse},
		{"encoded backslash", "/a%5Cb", PathOptions{}, refuse},
		{"raw backslash", "/a\\b", PathOptions{}, refuse},
		{"raw backslash even allowed", "/a\\b", PathOptions{AllowEncodedSlash: true}, refuse},
		{"encoded NUL", "/a%00b", PathOptions{}, refuse},
		{"raw NUL", "/a\x00b", PathOptions{}, refuse},
		{"encoded newline", "/a%0Ab", PathOptions{}, refuse},
		{"encoded CR", "/a%0d", PathOptions{}, refuse},
		{"raw tab", "/a\tb", PathOptions{}, refuse},
		{"encoded DEL", "/a%7F", PathOptions{}, refuse},
		{"truncated escape", "/a%2", PathOptions{}, refuse},
		{"truncated escape end", "/a%", PathOptions{}, refuse},
		{"invalid hex", "/a%zzb", PathOptions{}, refuse},
		{"invalid hex second", "/a%2gb", PathOptions{}, refuse},
		{"overlong slash", "/a%C0%AFb", PathOptions{}, refuse},
		{"overlong dot", "/%C0%AE%C0%AE/x", PathOptions{}, refuse},
		{"overlong three bytes", "/%E0%80%AF", PathOptions{}, refuse},
		{"surrogate", "/%ED%A0%80", PathOptions{}, refuse},
		{"lone continuation", "/%80", PathOptions{}, refuse},
		{"truncated utf8", "/caf%C3", PathOptions{}, refuse},
		{"truncated utf8 before slash", "/caf%C3/x", PathOptions{}, refuse},
		{"raw invalid utf8", "/\xff", PathOptions{}, refuse},
		{"dotdot params", "/a/..;x/b", PathOptions{}, refuse},
		{"dotdot empty params", "/a/..;/b", PathOptions{}, refuse},
		{"dot params", "/a/.;/b", PathOptions{}, refuse},
		{"encoded dotdot params", "/a/%2e%2e;x/b", PathOptions{}, refuse},
		{"dotdot encoded semicolon", "/a/..%3Bx/b", PathOptions{}, refuse},
		{"double encoded slash", "/a%252Fb", PathOptions{}, refuse},
		{"double encoded dot", "/%252e%252e/x", PathOptions{}, refuse},
		{"double encoded via encoded digits", "/a%25%32%46b", PathOptions{}, refuse},
		{"triple encoded", "/a%25252F", PathOptions{}, refuse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Canonicalize(tt.in, tt.opt)
			if tt.want == refuse {
				var pe *PathError
				if !errors.As(err, &pe) {
					t.Fatalf("Canonicalize(%q) = %q, %v, want a *PathError", tt.in, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Canonicalize(%q) = %q, %v, want %q", tt.in, got, err, tt.want)
			}
			again, err := Canonicalize(got, tt.opt)
			if err != nil || again != got {
				t.Fatalf("Canonicalize(%q) = %q, %v, want it unchanged (idempotent)", got, again, err)
			}
		})
	}
}

func TestCanonicalize_CanonicalInputAllocatesNothing(t *testing.T) {
	p := "/orders/42/items;v=1/~me"
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := Canonicalize(p, PathOptions{}); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("Canonicalize(%q) allocates %v times, want 0", p, allocs)
	}
}

func TestPathError_SaysWhere(t *testing.T) {
	t.Parallel()
	_, err := Canonicalize("/abc/d%2Fe", PathOptions{})
	var pe *PathError
	if !errors.As(err, &pe) {
		t.Fatalf("Canonicalize = %v, want a *PathError", err)
	}
	if pe.Offset != 6 || !strings.Contains(pe.Error(), "%2F") {
		t.Fatalf("PathError = %+v (%q), want offset 6 and a message naming %%2F", pe, pe.Error())
	}
}

// checkCanonical asserts the properties every canonical path has.
func checkCanonical(t *testing.T, in, got string, opt PathOptions) {
	t.Helper()
	if got == "" || got[0] != '/' {
		t.Fatalf("Canonicalize(%q) = %q, does not start with /", in, got)
	}
	if strings.ContainsAny(got, "\\\x00") {
		t.Fatalf("Canonicalize(%q) = %q, contains a backslash or NUL", in, got)
	}
	if !opt.KeepEmptySegments && strings.Contains(got, "//") {
		t.Fatalf("Canonicalize(%q) = %q, contains //", in, got)
	}
	up := strings.ToUpper(got)
	if !opt.AllowEncodedSlash && (strings.Contains(up, "%2F") || strings.Contains(up, "%5C")) {
		t.Fatalf("Canonicalize(%q) = %q, contains an encoded slash", in, got)
	}
	for seg := range strings.SplitSeq(got[1:], "/") {
		if seg == "." || seg == ".." {
			t.Fatalf("Canonicalize(%q) = %q, contains a dot segment", in, got)
		}
	}
	for i := 0; i < len(got); i++ {
		c := got[i]
		if c == '%' {
			if i+2 >= len(got) || strings.IndexByte(upperHex, got[i+1]) < 0 || strings.IndexByte(upperHex, got[i+2]) < 0 {
				t.Fatalf("Canonicalize(%q) = %q, has a percent-encoding that is not upper-case hex at %d", in, got, i)
			}
			continue
		}
		if c != '/' && pathClass[c] != classUnreserved && pathClass[c] != classRaw {
			t.Fatalf("Canonicalize(%q) = %q, has raw byte %q that must be encoded", in, got, c)
		}
	}
}

func FuzzCanonicalize(f *testing.F) {
	for _, s := range []string{
		"/", "/a/../b", "/a/%2e%2E/b", "//a//b/", "/a%2Fb", "/%61", "/%C0%AF", "/a%00",
		"/a/..;x/b", "/caf%c3%a9", "/a b", "/a%252F", "/.%3b/x", "/a/./b/.", "/\xff",
	} {
		f.Add(s, false, false)
		f.Add(s, true, true)
	}
	f.Fuzz(func(t *testing.T, in string, keepEmpty, allowSlash bool) {
		opt := PathOptions{KeepEmptySegments: keepEmpty, AllowEncodedSlash: allowSlash}
		got, err := Canonicalize(in, opt)
		if err != nil {
			var pe *PathError
			if !errors.As(err, &pe) {
				t.Fatalf("Canonicalize(%q) error %v is not a *PathError", in, err)
			}
			return
		}
		checkCanonical(t, in, got, opt)
		again, err := Canonicalize(got, opt)
		if err != nil || again != got {
			t.Fatalf("Canonicalize(Canonicalize(%q) = %q) = %q, %v, want idempotent", in, got, again, err)
		}
	})
}

func BenchmarkCanonicalize(b *testing.B) {
	for _, bc := range []struct{ name, path string }{
		{"canonical", "/orders/12345/items/678"},
		{"rewrite", "/orders//12345/./items/%7e/../678"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Canonicalize(bc.path, PathOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
