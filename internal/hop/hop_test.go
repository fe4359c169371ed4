package hop

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestHeader_TheOneList(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		want bool
	}{
		{"Connection", true},
		{"connection", true},
		{"CONNECTION", true},
		{"Keep-Alive", true},
		{"Proxy-Connection", true},
		{"Te", true},
		{"TE", true},
		{"te", true},
		{"Trailer", true},
		{"Transfer-Encoding", true},
		{"transfer-encoding", true},
		{"Upgrade", true},
		{"Proxy-Authenticate", true},
		{"Proxy-Authentication-Info", true},
		{"proxy-authorization", true},
		// End-to-end fields that look alike must pass.
		{"Trailers", false},
		{"Content-Length", false},
		{"Authorization", false},
		{"Authentication-Info", false},
		{"X-Connection", false},
		{"Connection ", false},
		{"Upgrade-Insecure-Requests", false},
		{"Host", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Header(tt.name); got != tt.want {
				t.Errorf("Header(%q) = %v, want %v", tt.name, got, tt.want)
			}
		})
	}
}

func TestNominated_SplitsAndTrims(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   []string
		want []string
	}{
		{"none", nil, nil},
		{"one", []string{"close"}, []string{"close"}},
		{"list with spaces and empties", []string{" X-A ,, x-b", "keep-alive,"}, []string{"X-A", "x-b", "keep-alive"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := slices.Collect(Nominated(tt.in))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Nominated(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestRemove_DropsListedAndNominated(t *testing.T) {
	t.Parallel()
	h := http.Header{
		"Connection":          {"X-Secret, keep-alive"},
		"Keep-Alive":          {"timeout=5"},
		"X-Secret":            {"s"},
		"Proxy-Authorization": {"Basic Zm9vOmJhcg=="},
		"Te":                  {"trailers"},
		"Cache-Control":       {"max-age=60"},
		"X-Kept":              {"k"},
	}
	Remove(h)
	want := http.Header{"Cache-Control": {"max-age=60"}, "X-Kept": {"k"}}
	if diff := cmp.Diff(want, h); diff != "" {
		t.Errorf("Remove (-want +got):\n%s", diff)
	}
}

// FuzzHeader checks Header against the list spelled out, in any case.
func FuzzHeader(f *testing.F) {
	for _, s := range []string{"Connection", "te", "TRAILER", "Proxy-Authentication-Info", "X-Foo", ""} {
		f.Add(s)
	}
	list := []string{"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding",
		"upgrade", "proxy-authenticate", "proxy-authentication-info", "proxy-authorization"}
	f.Fuzz(func(t *testing.T, name string) {
		want := slices.Contains(list, asciiLower(name))
		if got := Header(name); got != want {
			t.Errorf("Header(%q) = %v, want %v", name, got, want)
		}
	})
}

// FuzzRemove checks that no hop-by-hop or nominated field survives Remove
// and that every other field does, unchanged.
func FuzzRemove(f *testing.F) {
	f.Add("X-A, te", "X-A", "Te")
	f.Add("", "Keep-Alive", "X-B")
	f.Fuzz(func(t *testing.T, connection, a, b string) {
		h := http.Header{"Connection": {connection}}
		h[http.CanonicalHeaderKey(a)] = []string{"1"}
		h[http.CanonicalHeaderKey(b)] = []string{"2"}
		before := h.Clone()
		nominated := map[string]bool{}
		for n := range Nominated(before["Connection"]) {
			nominated[http.CanonicalHeaderKey(n)] = true
		}
		Remove(h)
		for k, v := range before {
			dropped := Header(k) || nominated[k]
			if got, ok := h[k]; ok == dropped || (ok && !slices.Equal(got, v)) {
				t.Errorf("Remove: field %q kept=%v (want %v), value %q", k, ok, !dropped, got)
			}
		}
	})
}

func asciiLower(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}
