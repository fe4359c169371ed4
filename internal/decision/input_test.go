package decision

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSetURL(t *testing.T) {
	t.Parallel()
	type parts struct {
		Scheme, Host string
		Port         int
		Path, Query  string
	}
	tests := []struct {
		url     string
		want    parts
		wantErr bool
	}{
		{url: "https://api.example.com/orders?x=1", want: parts{"https", "api.example.com", 0, "/orders", "x=1"}},
		{url: "https://api.example.com:443/orders", want: parts{"https", "api.example.com", 443, "/orders", ""}},
		{url: "http://127.0.0.1:8080", want: parts{"http", "127.0.0.1", 8080, "/", ""}},
		{url: "https://api.example.com/orders?", want: parts{"https", "api.example.com", 0, "/orders", ""}}, // Kong 1.0's bare ?
		{url: "https://api.example.com?a=b", want: parts{"https", "api.example.com", 0, "/", "a=b"}},
		{url: "HTTPS://api.example.com/a#frag", want: parts{"https", "api.example.com", 0, "/a", ""}},
		{url: "http://[::1]:8080/a", want: parts{"http", "::1", 8080, "/a", ""}},
		{url: "http://[::1]/a", want: parts{"http", "::1", 0, "/a", ""}},
		{url: "http://host:/a", want: parts{"http", "host", 0, "/a", ""}},
		{url: "/orders", wantErr: true},
		{url: "ftp://host/", wantErr: true},
		{url: "https:///orders", wantErr: true},
		{url: "https://user@host/", wantErr: true},
		{url: "https://host:99999/", wantErr: true},
		{url: "https://host:+80/", wantErr: true},
		{url: "https://host:x/", wantErr: true},
		{url: "https://host/a b", wantErr: true},
		{url: "https://ho\x00st/", wantErr: true},
		{url: "https://a:b:c/", wantErr: true},
	}
	for _, tt := range tests {
		var in Input
		err := in.SetURL(tt.url)
		if (err != nil) != tt.wantErr {
			t.Errorf("SetURL(%q) = %v, want error %v", tt.url, err, tt.wantErr)
			continue
		}
		if err != nil {
			if err.Error()[:5] != "url: " {
				t.Errorf("SetURL(%q) = %q, want an error naming url", tt.url, err)
			}
			continue
		}
		got := parts{in.Scheme, in.Host, in.Port, in.Path, in.Query}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("SetURL(%q) (-want +got):\n%s", tt.url, diff)
		}
	}
}

func TestCanonicalPath(t *testing.T) {
	t.Parallel()
	tests := []struct {
		path, want string // want "" means refused
	}{
		{"/", "/"},
		{"/orders/7", "/orders/7"},
		{"/orders/", "/orders/"},
		{"/caf%C3%A9", "/café"},
		{"/a%20b", "/a b"},
		{"/%7Euser", "/~user"},
		{"/a...b/...", "/a...b/..."},
		{"", ""},
		{"orders", ""},
		{"/a//b", ""},
		{"/a/./b", ""},
		{"/a/../b", ""},
		{"/a/..", ""},
		{"/a/%2e%2e/b", ""},
		{"/a/%2E/b", ""},
		{"/a/..;x/b", ""},
		{"/a/.;/b", ""},
		{"/a%2Fb", ""},
		{"/a%5Cb", ""},
		{`/a\b`, ""},
		{"/a%00", ""},
		{"/a%0a", ""},
		{"/a%", ""},
		{"/a%zz", ""},
		{"/%C0%AF", ""}, // overlong UTF-8 for "/"
		{"/%FF", ""},
	}
	for _, tt := range tests {
		got, why := canonicalPath(tt.path)
		if got != tt.want || (tt.want == "") != (why != "") {
			t.Errorf("canonicalPath(%q) = %q, %q; want %q", tt.path, got, why, tt.want)
		}
	}
}

func TestDecide_BaseURLMatching(t *testing.T) {
	t.Parallel()
	e := newTestEngine(t, `
api_services:
  - name: root
    base_urls: [https://api.example.com]
    access_control: {authentication: none}
    operations: [{name: any, paths: [{type: PARAMETER, pattern: "/**"}, {type: EXACT, pattern: /}]}]
  - name: v1
    base_urls: [https://api.example.com/v1/, "http://API.example.com:80/v1"]
    access_control: {authentication: none}
    operations: [{name: any, paths: [{type: PARAMETER, pattern: "/**"}, {type: EXACT, pattern: /}]}]
  - name: v1-admin
    base_urls: [https://api.example.com/v1/admin]
    access_control: {authentication: none}
    operations: [{name: any, paths: [{type: PARAMETER, pattern: "/**"}, {type: EXACT, pattern: /}]}]
  - name: alt-port
    base_urls: [https://api.example.com:8443]
    access_control: {authentication: none}
    operations: [{name: any, paths: [{type: PARAMETER, pattern: "/**"}, {type: EXACT, pattern: /}]}]
`)
	tests := []struct {
		url         string
		wantService string
		wantStatus  int
	}{
		{url: "https://api.example.com/orders", wantService: "root", wantStatus: 200},
		{url: "https://api.example.com:443/orders", wantService: "root", wantStatus: 200}, // Kong writes :443
		{url: "https://API.Example.com/orders", wantService: "root", wantStatus: 200},
		{url: "https://api.example.com/v1", wantService: "v1", wantStatus: 200},
		{url: "https://api.example.com/v1/", wantService: "v1", wantStatus: 200},
		{url: "https://api.example.com/v1/orders/7", wantService: "v1", wantStatus: 200},
		{url: "https://api.example.com/v10/orders", wantService: "root", wantStatus: 200}, // segment boundary
		{url: "https://api.example.com/v1/admin/users", wantService: "v1-admin", wantStatus: 200},
		{url: "https://api.example.com/v1/administrators", wantService: "v1", wantStatus: 200},
		{url: "http://api.example.com/v1/x", wantService: "v1", wantStatus: 200},
		{url: "http://api.example.com:80/v1/x", wantService: "v1", wantStatus: 200},
		{url: "http://api.example.com/x", wantStatus: 404}, // scheme matters
		{url: "https://api.example.com:8443/x", wantService: "alt-port", wantStatus: 200},
		{url: "https://api.example.com:8444/x", wantStatus: 404},
		{url: "https://other.example.com/x", wantStatus: 404},
		{url: "https://api.example.com/a//b", wantStatus: 400},
		{url: "https://api.example.com/v1/../admin", wantStatus: 400},
	}
	for _, tt := range tests {
		d := e.Decide(t.Context(), get(tt.url))
		if d.Service != tt.wantService || d.Status != tt.wantStatus {
			t.Errorf("Decide(%s) = service %q status %d (%s), want %q %d", tt.url, d.Service, d.Status, d.Reason, tt.wantService, tt.wantStatus)
		}
	}
}

func TestDecide_MatchesPathRelativeToBase(t *testing.T) {
	t.Parallel()
	e := newTestEngine(t, `
api_services:
  - name: S
    base_urls: [https://api.example.com/v1]
    access_control: {authentication: none}
    operations:
      - {name: root, paths: [{type: EXACT, pattern: /}]}
      - {name: order, paths: [{type: PARAMETER, pattern: "/orders/{id}"}]}
`)
	tests := []struct{ url, wantOp string }{
		{"https://api.example.com/v1/orders/7", "order"},
		{"https://api.example.com/v1", "root"},
		{"https://api.example.com/v1/", "root"},
		{"https://api.example.com/v1/v1/orders/7", ""},
	}
	for _, tt := range tests {
		d := e.Decide(t.Context(), get(tt.url))
		if d.Operation != tt.wantOp {
			t.Errorf("Decide(%s).Operation = %q (%s), want %q", tt.url, d.Operation, d.Reason, tt.wantOp)
		}
	}
}
