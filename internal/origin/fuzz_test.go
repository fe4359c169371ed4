package origin

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzJoinPath checks, for any origin path and request target, that the
// forwarded URL is the origin path followed by the request's path, in both
// the decoded and the escaped form: no slash doubled or lost, no escape
// changed.
func FuzzJoinPath(f *testing.F) {
	f.Add("/prod", "/orders/1?x=1")
	f.Add("/my%20stage/", "/a%2Fb//c%3b")
	f.Add("", "/")
	f.Fuzz(func(t *testing.T, originPath, target string) {
		c := Config{URL: "http://origin.example" + originPath}
		c.Defaults()
		if c.Validate() != nil {
			return
		}
		in, err := url.ParseRequestURI(target)
		if err != nil || in.Opaque != "" || in.Host != "" || !strings.HasPrefix(in.Path, "/") {
			return // the edge forwards only origin-form targets
		}
		o, err := New("f", c, Options{})
		if err != nil {
			t.Fatalf("New(%q) = %v after Validate passed", c.URL, err)
		}
		path, raw := o.joinPath(in.Path, in.RawPath, in.EscapedPath)
		out := url.URL{Path: path, RawPath: raw}
		wantPath := strings.TrimRight(mustParse(t, c.URL).Path, "/") + in.Path
		if path != wantPath {
			t.Errorf("joinPath(%q, %q) Path = %q, want %q", originPath, target, path, wantPath)
		}
		wantEsc := o.rawPrefix + in.EscapedPath()
		if got := out.EscapedPath(); got != wantEsc {
			t.Errorf("joinPath(%q, %q) escaped = %q, want %q", originPath, target, got, wantEsc)
		}
	})
}

func mustParse(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// FuzzValidate feeds arbitrary URLs and policies through Defaults and
// Validate: no panic, every error carries a key path, and a config that
// validates builds an origin.
func FuzzValidate(f *testing.F) {
	f.Add("https://api.example.com/prod", "", 0, 0)
	f.Add("http://[::1]:8080/a%20b", "match-viewer", 81, 444)
	f.Add("http://u@h:/p?#", "https-only", -1, 70000)
	f.Fuzz(func(t *testing.T, u, policy string, httpPort, httpsPort int) {
		c := Config{URL: u, ProtocolPolicy: policy, HTTPPort: httpPort, HTTPSPort: httpsPort}
		c.Defaults()
		err := c.Validate()
		if err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				key, _, ok := strings.Cut(line, ": ")
				if !ok || key == "" || strings.ContainsAny(key, " \t\"'") {
					t.Errorf("Validate(%q, %q) error %q has no key path", u, policy, line)
				}
			}
			return
		}
		o, err := New("f", c, Options{})
		if err != nil {
			t.Fatalf("New(%q, %q) = %v after Validate passed", u, policy, err)
		}
		o.Close()
	})
}
