package edge

import (
	"strings"
	"testing"
	"time"

	"github.com/edgeward/edgeward/internal/size"
	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"
)

func TestConfig_Defaults(t *testing.T) {
	t.Parallel()
	var c Config
	c.Defaults()
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate() after Defaults() = %v, want nil", err)
	}
	got := struct {
		Listen                  string
		ReadHeader, Idle, Grace time.Duration
		Header, Body, URI, Buf  size.Bytes
		Conns                   int
		Paths                   PathOptions
		StripOverride           bool
	}{
		c.Listen, c.Limits.ReadHeaderTimeout, c.Limits.IdleTimeout, c.ShutdownGrace,
		c.Limits.MaxHeaderBytes, c.Limits.MaxBodyBytes, c.Limits.MaxURIBytes, c.ResponseBufferMax,
		c.Limits.MaxConnections, c.PathOptions(), *c.StripOverrideHeaders,
	}
	want := got
	want.Listen = "127.0.0.1:8080"
	want.ReadHeader, want.Idle, want.Grace = 10*time.Second, 60*time.Second, 30*time.Second
	want.Header, want.Body, want.URI, want.Buf = 32*size.KiB, 10*size.MiB, 8*size.KiB, size.MiB
	want.Conns = 10000
	want.Paths = PathOptions{}
	want.StripOverride = true
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("Defaults() mismatch (-want +got):\n%s", diff)
	}
}

func TestConfig_DefaultsKeepExplicitFalse(t *testing.T) {
	t.Parallel()
	var c Config
	in := "paths: {merge_slashes: false, reject_encoded_slash: false}\nstrip_override_headers: false\n"
	if err := yaml.Unmarshal([]byte(in), &c); err != nil {
		t.Fatal(err)
	}
	c.Defaults()
	want := PathOptions{KeepEmptySegments: true, AllowEncodedSlash: true}
	if got := c.PathOptions(); got != want {
		t.Fatalf("PathOptions() = %+v, want %+v", got, want)
	}
	if *c.StripOverrideHeaders {
		t.Fatalf("StripOverrideHeaders = true after an explicit false")
	}
}

func TestConfig_DecodesEveryKey(t *testing.T) {
	t.Parallel()
	in := `
listen: 0.0.0.0:8443
tls: {cert_file: c.pem, key_file: k.pem}
trusted_proxies: [10.0.0.0/8, 192.0.2.1]
limits:
  read_header_timeout: 5s
  read_timeout: 30s
  write_timeout: 1m
  idle_timeout: 2m
  max_header_bytes: 16KB
  max_body_bytes: 1MiB
  max_uri_bytes: 4KB
  max_connections: 500
paths: {merge_slashes: true, reject_encoded_slash: true, reject_double_encoding: false}
owned_headers: [X-User-Id]
strip_override_headers: true
shutdown_grace: 5s
response_buffer_max: 64KB
`
	dec := yaml.NewDecoder(strings.NewReader(in))
	dec.KnownFields(true)
	var c Config
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("Decode = %v", err)
	}
	c.Defaults()
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate() = %v", err)
	}
	if c.Limits.MaxBodyBytes != size.MiB || c.Limits.WriteTimeout != time.Minute || c.ResponseBufferMax != 64*size.KiB ||
		!c.PathOptions().AllowDoubleEncoding || c.Limits.MaxConnections != 500 {
		t.Fatalf("decoded %+v, want the values of the file", c)
	}
}

func TestConfig_Validate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		edit func(c *Config)
		want []string // each a prefix "key: " of one error line
	}{
		{"listen not host:port", func(c *Config) { c.Listen = "8080" }, []string{"listen: "}},
		{"listen bad port", func(c *Config) { c.Listen = "127.0.0.1:99999" }, []string{"listen: "}},
		{"cert without key", func(c *Config) { c.TLS.CertFile = "c.pem" }, []string{"tls.key_file: "}},
		{"key without cert", func(c *Config) { c.TLS.KeyFile = "k.pem" }, []string{"tls.cert_file: "}},
		{"h2c with tls", func(c *Config) { c.H2C = true; c.TLS = TLSConfig{"c", "k"} }, []string{"h2c: "}},
		{"bad proxy", func(c *Config) { c.TrustedProxies = []string{"10.0.0.0/8", "nope"} }, []string{"trusted_proxies[1]: "}},
		{"negative timeout", func(c *Config) { c.Limits.ReadTimeout = -time.Second }, []string{"limits.read_timeout: "}},
		{"read shorter than header", func(c *Config) { c.Limits.ReadTimeout = time.Second }, []string{"limits.read_timeout: "}},
		{"tiny header limit", func(c *Config) { c.Limits.MaxHeaderBytes = 100 }, []string{"limits.max_header_bytes: ", "limits.max_uri_bytes: "}},
		{"negative body", func(c *Config) { c.Limits.MaxBodyBytes = -1 }, []string{"limits.max_body_bytes: "}},
		{"negative conns", func(c *Config) { c.Limits.MaxConnections = -1 }, []string{"limits.max_connections: "}},
		{"bad owned header", func(c *Config) { c.OwnedHeaders = []string{"X-Ok", "bad name"} }, []string{"owned_headers[1]: "}},
		{"negative grace", func(c *Config) { c.ShutdownGrace = -1 }, []string{"shutdown_grace: "}},
		{"negative buffer", func(c *Config) { c.ResponseBufferMax = -1 }, []string{"response_buffer_max: "}},
		{"all at once", func(c *Config) {
			c.Listen = "x"
			c.TrustedProxies = []string{"y"}
			c.ShutdownGrace = -1
		}, []string{"listen: ", "trusted_proxies[0]: ", "shutdown_grace: "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var c Config
			c.Defaults()
			tt.edit(&c)
			err := c.Validate()
			if err == nil {
				t.Fatalf("Validate() = nil, want errors %q", tt.want)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tt.want) {
				t.Fatalf("Validate() = %q, want %d errors %q", lines, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(lines[i], w) {
					t.Errorf("Validate() error %d = %q, want prefix %q", i, lines[i], w)
				}
			}
		})
	}
}

func TestCompileBehaviors_Errors(t *testing.T) {
	t.Parallel()
	o := nopOrigin{}
	tests := []struct {
		name string
		bs   []Behavior
		want []string
	}{
		{"none", nil, []string{"behaviors: "}},
		{"last not default", []Behavior{{PathPattern: "/a/*", Origin: o}}, []string{"behaviors[0].path_pattern: "}},
		{"duplicate", []Behavior{{PathPattern: "/a", Origin: o}, {PathPattern: "/a", Origin: o}, {PathPattern: "*", Origin: o}},
			[]string{"behaviors[1].path_pattern: "}},
		{"same pattern spelled differently", []Behavior{{PathPattern: "/a%7e", Origin: o}, {PathPattern: "a~", Origin: o}, {PathPattern: "*", Origin: o}},
			[]string{"behaviors[1].path_pattern: "}},
		{"no origin", []Behavior{{PathPattern: "*"}}, []string{"behaviors[0].origin: "}},
		{"bad method", []Behavior{{PathPattern: "*", Origin: o, AllowedMethods: []string{"GET", "GE T"}}}, []string{"behaviors[0].allowed_methods: "}},
		{"connect", []Behavior{{PathPattern: "*", Origin: o, AllowedMethods: []string{"CONNECT"}}}, []string{"behaviors[0].allowed_methods: "}},
		{"bad pattern", []Behavior{{PathPattern: "/a%2Fb", Origin: o}, {PathPattern: "*", Origin: o}}, []string{"behaviors[0].path_pattern: "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := New(Config{}, tt.bs, Options{})
			if err == nil {
				t.Fatalf("New() = nil error, want %q", tt.want)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tt.want) {
				t.Fatalf("New() = %q, want %d errors %q", lines, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(lines[i], w) {
					t.Errorf("New() error %d = %q, want prefix %q", i, lines[i], w)
				}
			}
		})
	}
}

func TestAllowedMethods(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want []string
	}{
		{nil, []string{"GET", "HEAD"}},
		{[]string{"GET"}, []string{"GET", "HEAD"}},
		{[]string{"POST"}, []string{"POST"}},
		{[]string{"GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"}, []string{"GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"}},
		{[]string{"GET", "GET"}, []string{"GET", "HEAD"}},
	}
	for _, tt := range tests {
		got, err := allowedMethods(tt.in)
		if err != nil || !cmp.Equal(got, tt.want) {
			t.Errorf("allowedMethods(%q) = %q, %v, want %q", tt.in, got, err, tt.want)
		}
	}
}
