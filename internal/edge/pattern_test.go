package edge

import "testing"

func TestPattern_Match(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pattern string
		path    string
		want    bool
	}{
		{"*", "/", true},
		{"*", "/anything/at/all", true},
		{"/orders/*", "/orders/42", true},
		{"/orders/*", "/orders/", true},
		{"/orders/*", "/orders", false},
		{"/orders/*", "/orders/42/items", true},
		{"/orders/*", "/Orders/42", false}, // case-sensitive
		{"/orders*", "/orders", true},
		{"/orders*", "/ordersX", true},
		{"/images/*.jpg", "/images/a.jpg", true},
		{"/images/*.jpg", "/images/a/b/c.jpg", true}, // * crosses /
		{"/images/*.jpg", "/images/a.jpg.png", false},
		{"/images/*.jpg", "/images/.jpg", true},
		{"/images/*.jpg", "/images/a.JPG", false},
		{"images/*.jpg", "/images/a.jpg", true}, // leading / optional
		{"*.jpg", "/a/b.jpg", true},
		{"/a?c", "/abc", true},
		{"/a?c", "/ac", false},
		{"/a?c", "/abbc", false},
		{"/a?c", "/a/c", true}, // ? matches /
		{"/v?/*", "/v1/users", true},
		{"/v?/*", "/v10/users", false},
		{"/a*b*c", "/abc", true},
		{"/a*b*c", "/aXbYc", true},
		{"/a*b*c", "/aXcYb", false},
		{"/a*b*c", "/abcbc", true},
		{"/a*a*a", "/aa", false},
		{"/a*a*a", "/aaa", true},
		{"/*/*/x", "/a/b/x", true},
		{"/*/*/x", "/a/x", false},
		{"/**", "/", true},
		{"/exact", "/exact", true},
		{"/exact", "/exact/", false},
		{"/a%7eb", "/a~b", true},     // pattern written in canonical form
		{"/a{b}", "/a%7Bb%7D", true}, // same
		{"/caf\u00e9/*", "/caf%C3%A9/x", true},
		{"/a;v=*", "/a;v=1", true},
		{"/?*", "/", false},
		{"/?*", "/x", true},
		{"/*?", "/", false},
	}
	for _, tt := range tests {
		t.Run(tt.pattern+" "+tt.path, func(t *testing.T) {
			t.Parallel()
			p, err := compilePattern(tt.pattern)
			if err != nil {
				t.Fatalf("compilePattern(%q) = %v", tt.pattern, err)
			}
			if got := p.match(tt.path); got != tt.want {
				t.Fatalf("pattern %q match(%q) = %v, want %v", tt.pattern, tt.path, got, tt.want)
			}
		})
	}
}

func TestPattern_RefusesWhatNoPathCanBe(t *testing.T) {
	t.Parallel()
	for _, p := range []string{"", "/a\\b", "/a%2Fb", "/a\x00", "/a%zz", "/a%", "/\xff"} {
		if _, err := compilePattern(p); err == nil {
			t.Errorf("compilePattern(%q) = nil error, want an error", p)
		}
	}
}

// globMatch is the reference matcher: a byte-wise dynamic program over the
// normalised pattern.
func globMatch(pat, s string) bool {
	// prev[j]: pat[:i] matches s[:j]
	prev := make([]bool, len(s)+1)
	prev[0] = true
	for i := 0; i < len(pat); i++ {
		cur := make([]bool, len(s)+1)
		for j := 0; j <= len(s); j++ {
			switch pat[i] {
			case '*':
				cur[j] = prev[j] || (j > 0 && cur[j-1])
			case '?':
				cur[j] = j > 0 && prev[j-1]
			default:
				cur[j] = j > 0 && prev[j-1] && s[j-1] == pat[i]
			}
		}
		prev = cur
	}
	return prev[len(s)]
}

func FuzzPattern(f *testing.F) {
	for _, s := range [][2]string{
		{"*", "/x"}, {"/orders/*", "/orders/1"}, {"/a*b*c", "/abcbc"}, {"/a?c", "/abc"},
		{"/*.jpg", "/a/b.jpg"}, {"/a*a*a", "/aa"}, {"/?*", "/"}, {"images/*", "/images/x"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pat, path string) {
		if len(pat) > 64 || len(path) > 256 {
			return
		}
		p, err := compilePattern(pat)
		if err != nil {
			return
		}
		norm := p.String()
		got, want := p.match(path), globMatch(norm, path)
		if got != want {
			t.Fatalf("pattern %q (normalised %q) match(%q) = %v, want %v", pat, norm, path, got, want)
		}
	})
}

func BenchmarkMatch(b *testing.B) {
	var bs []Behavior
	for _, p := range []string{"/api/v1/users/*", "/api/v1/orders/*", "/static/*.js", "/static/*.css", "/v?/health", "*"} {
		bs = append(bs, Behavior{PathPattern: p, Origin: nopOrigin{}})
	}
	routes, err := compileBehaviors(bs)
	if err != nil {
		b.Fatal(err)
	}
	s := &snapshot{routes: routes}
	b.ReportAllocs()
	for b.Loop() {
		if rt := s.match("/api/v1/orders/12345/items"); rt.b.PathPattern != "/api/v1/orders/*" {
			b.Fatalf("match = %q", rt.b.PathPattern)
		}
	}
}
