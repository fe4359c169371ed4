package origin_test

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/edgeward/edgeward/internal/origin"
)

func TestConfig_DefaultsFollowCloudFront(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url        string
		wantPolicy string
	}{
		{"https://abc123.execute-api.us-east-1.amazonaws.com/prod", origin.HTTPSOnly},
		{"http://127.0.0.1:8080", origin.HTTPOnly},
		{"HTTP://127.0.0.1:8080", origin.HTTPOnly},
		{"ftp://x", ""},
	}
	for _, tc := range tests {
		c := origin.Config{URL: tc.url}
		c.Defaults()
		want := origin.Config{
			URL: tc.url, ProtocolPolicy: tc.wantPolicy,
			ConnectTimeout: 10 * time.Second, ResponseTimeout: 30 * time.Second, IdleTimeout: 5 * time.Second,
			MaxIdleConns: 1024,
		}
		if diff := cmp.Diff(want, c); diff != "" {
			t.Errorf("Defaults(%q) (-want +got):\n%s", tc.url, diff)
		}
	}
	c := origin.Config{URL: "http://a", ProtocolPolicy: origin.MatchViewer, ConnectTimeout: time.Second}
	c.Defaults()
	if c.ProtocolPolicy != origin.MatchViewer || c.ConnectTimeout != time.Second {
		t.Errorf("Defaults overwrote set values: %+v", c)
	}
}

func TestConfig_DecodesYAMLKeys(t *testing.T) {
	t.Parallel()
	src := `
url: https://abc123.execute-api.us-east-1.amazonaws.com/prod
protocol_policy: match-viewer
http_port: 8080
https_port: 8443
connect_timeout: 2s
response_timeout: 5s
idle_timeout: 90s
max_idle_conns: 64
max_conns: 500
ca_file: /etc/ca.pem
server_name: api.internal
custom_headers: {X-Origin-Verify: abc}
`
	dec := yaml.NewDecoder(strings.NewReader(src))
	dec.KnownFields(true)
	var got origin.Config
	if err := dec.Decode(&got); err != nil {
		t.Fatal(err)
	}
	want := origin.Config{
		URL: "https://abc123.execute-api.us-east-1.amazonaws.com/prod", ProtocolPolicy: "match-viewer",
		HTTPPort: 8080, HTTPSPort: 8443, ConnectTimeout: 2 * time.Second, ResponseTimeout: 5 * time.Second,
		IdleTimeout: 90 * time.Second, MaxIdleConns: 64, MaxConns: 500, CAFile: "/etc/ca.pem",
		ServerName: "api.internal", CustomHeaders: map[string]string{"X-Origin-Verify": "abc"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("decode (-want +got):\n%s", diff)
	}
}

func TestConfig_ValidateReportsEveryProblemWithItsKey(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		cfg  origin.Config
		want []string
	}{
		{"valid https", origin.Config{URL: "https://api.example.com/prod"}, nil},
		{"valid http with port", origin.Config{URL: "http://127.0.0.1:8080"}, nil},
		{"valid match-viewer with ports", origin.Config{URL: "http://a.example", ProtocolPolicy: "match-viewer", HTTPPort: 81, HTTPSPort: 8443}, nil},
		{"valid ipv6", origin.Config{URL: "http://[::1]:8080/p"}, nil},
		{"missing url", origin.Config{}, []string{"url: must be set (e.g. https://api.example.com/prod)"}},
		{"bad scheme", origin.Config{URL: "ftp://a"}, []string{"url: scheme must be http or https"}},
		{"no scheme", origin.Config{URL: "api.example.com"}, []string{`url: "api.example.com" has no host (want scheme://host[:port][/path])`, "url: scheme must be http or https"}},
		{"unparsable", origin.Config{URL: "http://a b/"}, []string{`url: "http://a b/" is not a URL: invalid character " " in host name`}},
		{"query", origin.Config{URL: "http://a/p?x=1"}, []string{"url: must not have a query"}},
		{"empty query", origin.Config{URL: "http://a/p?"}, []string{"url: must not have a query"}},
		{"fragment", origin.Config{URL: "http://a/p#f"}, []string{"url: must not have a fragment"}},
		{"userinfo", origin.Config{URL: "http://u:p@a/"}, []string{"url: must not carry userinfo (use custom_headers for origin credentials)"}},
		{"bad port", origin.Config{URL: "http://a:99999/"}, []string{`url: port "99999" is not a port (1-65535)`}},
		{"empty port", origin.Config{URL: "http://a:/"}, []string{`url: "http://a:/" has an empty port`}},
		{"dot segment", origin.Config{URL: "http://a/prod/../admin"}, []string{`url: origin path "/prod/../admin" has a dot segment`}},
		{"unknown policy", origin.Config{URL: "http://a", ProtocolPolicy: "https-first"}, []string{`protocol_policy: unknown policy "https-first" (known: https-only, http-only, match-viewer)`}},
		{"policy against url", origin.Config{URL: "http://a", ProtocolPolicy: "https-only"}, []string{"protocol_policy: https-only conflicts with the http url (use a https url, or match-viewer)"}},
		{"ports", origin.Config{URL: "http://a", HTTPPort: -1, HTTPSPort: 70000}, []string{
			"http_port: -1 is not a port (1-65535, or 0 for the default)", "https_port: 70000 is not a port (1-65535, or 0 for the default)"}},
		{"timeouts and pools", origin.Config{URL: "http://a", ConnectTimeout: -1, ResponseTimeout: -time.Second, IdleTimeout: -2, MaxIdleConns: -1, MaxConns: -3}, []string{
			"connect_timeout: must be > 0, got -1ns", "idle_timeout: must be > 0, got -2ns", "max_conns: must be >= 0 (0 = no limit), got -3",
			"max_idle_conns: must be >= 0, got -1", "response_timeout: must be > 0, got -1s"}},
		{"tls settings on http-only", origin.Config{URL: "http://a", CAFile: notPEM, ServerName: "x"}, []string{
			"ca_file: no PEM certificate in " + notPEM, "ca_file: set, but protocol_policy http-only never uses TLS",
			"server_name: set, but protocol_policy http-only never uses TLS"}},
		{"missing ca file", origin.Config{URL: "https://a", CAFile: filepath.Join(dir, "nope.pem")}, []string{
			"ca_file: open " + filepath.Join(dir, "nope.pem") + ": no such file or directory"}},
		{"bad server name", origin.Config{URL: "https://a", ServerName: "a:443"}, []string{`server_name: "a:443" is not a host name`}},
		{"custom headers", origin.Config{URL: "http://a", CustomHeaders: map[string]string{
			"X-Ok": "fine", "x-ok": "twice", "Bad Name": "v", "x-forwarded-for": "1.2.3.4", "Host": "evil", "connection": "close", "X-Nl": "a\nb"}}, []string{
			"custom_headers.X-Nl: value has characters not allowed in a header",
			`custom_headers: "Bad Name" is not a valid header name`,
			"custom_headers: Connection is set by the edge and cannot be a custom header",
			"custom_headers: Host is set by the edge and cannot be a custom header",
			"custom_headers: X-Forwarded-For is set by the edge and cannot be a custom header",
			"custom_headers: X-Ok is set twice (header names are case-insensitive)"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := tc.cfg
			c.Defaults()
			var got []string
			if err := c.Validate(); err != nil {
				got = strings.Split(err.Error(), "\n")
				sort.Strings(got)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Validate(%+v) (-want +got):\n%s", tc.cfg, diff)
			}
			if _, err := origin.New("x", tc.cfg, origin.Options{}); (err == nil) != (tc.want == nil) {
				t.Errorf("New(%+v) = %v, want an error iff Validate fails", tc.cfg, err)
			}
		})
	}
}
