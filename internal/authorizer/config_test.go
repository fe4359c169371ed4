package authorizer

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/edgeward/edgeward/internal/size"
)

func decodeYAML(t *testing.T, src string) (Config, error) {
	t.Helper()
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader([]byte(src)))
	dec.KnownFields(true)
	err := dec.Decode(&c)
	return c, err
}

func TestConfig_YAMLKeysOfTheKit(t *testing.T) {
	t.Parallel()
	src := `
type: sideband
service_url: https://http-access-api.pingone.com/v1/environments/env-1
secret_header_value: s3cret
secret_header_name: PDG-TOKEN
debug: true
max_retries: 0
timeout: 3s
include_body: {content_types: [application/json, text/*], max_bytes: 8KB}
response_phase: true
on_error: allow
ca_file: /etc/ssl/ping.pem
breaker: {failures: 3, open_for: 30s}
`
	c, err := decodeYAML(t, src)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	c.Defaults()
	zero := 0
	want := Config{
		Type: "sideband", ServiceURL: URLs{"https://http-access-api.pingone.com/v1/environments/env-1"},
		SecretHeaderValue: "s3cret", SecretHeaderName: "PDG-TOKEN", Debug: true, MaxRetries: &zero,
		Timeout: 3 * time.Second, IncludeBody: IncludeBody{ContentTypes: []string{"application/json", "text/*"}, MaxBytes: 8 * size.KiB},
		ResponsePhase: true, OnError: "allow", CAFile: "/etc/ssl/ping.pem", Breaker: Breaker{Failures: 3, OpenFor: 30 * time.Second},
		Pool:        Pool{MaxIdlePerService: DefaultMaxIdlePerHost, Protocol: DefaultPoolProtocol},
		HealthCheck: HealthCheck{UnhealthyAfter: 2, Interval: 5 * time.Second},
	}
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("decoded config mismatch (-want +got):\n%s", diff)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate() = %v, want nil", err)
	}
}

// TestConfig_FlagsMustBeUnquotedBooleans: debug: "false" (a string) is an
// error, not a silent true or false.
func TestConfig_FlagsMustBeUnquotedBooleans(t *testing.T) {
	t.Parallel()
	tests := []struct {
		src     string
		want    bool
		wantErr bool
	}{
		{"debug: true", true, false},
		{"debug: false", false, false},
		{"debug: True", true, false},
		{`debug: "false"`, false, true},
		{`debug: 'true'`, false, true},
		{"debug: yes", false, true},
		{"debug: off", false, true},
		{"debug: 1", false, true},
		{"debug: [true]", false, true},
		{`response_phase: "true"`, false, true},
	}
	for _, tt := range tests {
		c, err := decodeYAML(t, tt.src)
		if tt.wantErr {
			if err == nil {
				t.Errorf("decode(%s) = %+v, want an error", tt.src, c)
			} else if !strings.Contains(err.Error(), "line 1: want true or false") {
				t.Errorf("decode(%s) error = %q, want it to give the line and say true or false", tt.src, err)
			}
			continue
		}
		if err != nil || bool(c.Debug) != tt.want {
			t.Errorf("decode(%s) = %v, %v, want %v", tt.src, c.Debug, err, tt.want)
		}
	}
}

func TestConfig_Defaults(t *testing.T) {
	t.Parallel()
	var c Config
	c.Defaults()
	one := 1
	want := Config{
		Type: "sideband", SecretHeaderName: "CLIENT-TOKEN", MaxRetries: &one, Timeout: 5 * time.Second,
		IncludeBody: IncludeBody{ContentTypes: []string{"application/json"}, MaxBytes: 40 * size.KiB},
		OnError:     "deny", Breaker: Breaker{Failures: 5, OpenFor: 10 * time.Second},
		Pool:        Pool{MaxIdlePerService: 256, Protocol: "auto"},
		HealthCheck: HealthCheck{UnhealthyAfter: 2, Interval: 5 * time.Second},
	}
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("Defaults() mismatch (-want +got):\n%s", diff)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate(defaults, embedded) = %v, want nil", err)
	}
	// An explicit empty list means no bodies, and survives Defaults.
	c = Config{IncludeBody: IncludeBody{ContentTypes: []string{}}}
	c.Defaults()
	if len(c.IncludeBody.ContentTypes) != 0 {
		t.Errorf("Defaults() replaced an explicit empty content_types with %v", c.IncludeBody.ContentTypes)
	}
}

func TestConfig_ValidateReportsEveryProblemWithItsPath(t *testing.T) {
	t.Parallel()
	neg, big := -1, 11
	tests := []struct {
		name string
		cfg  Config
		want []string
	}{
		{"remote without credential", Config{ServiceURL: URLs{"https://a.example"}}, []string{"secret_header_value: required"}},
		{"not http", Config{ServiceURL: URLs{"ftp://a.example"}, SecretHeaderValue: "x"}, []string{"service_url: want an http or https URL"}},
		{"relative", Config{ServiceURL: URLs{"a.example/v1"}, SecretHeaderValue: "x"}, []string{"service_url: want an http or https URL"}},
		{"userinfo", Config{ServiceURL: URLs{"https://u:p@a.example"}, SecretHeaderValue: "x"}, []string{"service_url: must not carry credentials"}},
		{"query", Config{ServiceURL: URLs{"https://a.example/?x=1"}, SecretHeaderValue: "x"}, []string{"service_url: must not have a query"}},
		{"ca_file with http", Config{ServiceURL: URLs{"http://a.example"}, SecretHeaderValue: "x", CAFile: "ca.pem"}, []string{"ca_file: only used with an https"}},
		{"ca_file embedded", Config{ServiceURL: URLs{"embedded"}, CAFile: "ca.pem"}, []string{"ca_file: only used with an https"}},
		{"everything wrong", Config{
			Type: "lambda", SecretHeaderName: "a b", MaxRetries: &big, Timeout: -time.Second,
			IncludeBody: IncludeBody{ContentTypes: []string{"json"}, MaxBytes: -1}, OnError: "maybe",
			Breaker: Breaker{Failures: -1, OpenFor: -time.Second}, SecretHeaderValue: "a\nb",
		}, []string{
			`type: unknown function type "lambda"`, "secret_header_name: invalid header name",
			"max_retries: want 0 to 10", "timeout: want more than 0s", "include_body.content_types[0]: want a media type",
			"include_body.max_bytes: want more than 0", `on_error: want deny or allow, got "maybe"`,
			"breaker.failures: must be at least 1", "breaker.open_for: must be > 0", "secret_header_value: contains characters",
		}},
		{"negative retries", Config{MaxRetries: &neg}, []string{"max_retries: want 0 to 10"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := tt.cfg
			c.Defaults()
			err := c.Validate()
			if err == nil {
				t.Fatalf("Validate(%+v) = nil, want %q", tt.cfg, tt.want)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tt.want) {
				t.Errorf("Validate() gave %d problems, want %d:\n%s", len(lines), len(tt.want), err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate() = %q, want a problem %q", err, w)
				}
			}
			if tt.cfg.SecretHeaderValue != "" && strings.Contains(err.Error(), tt.cfg.SecretHeaderValue) {
				t.Errorf("Validate() error shows the credential: %q", err)
			}
		})
	}
}

func TestConfig_OwnedHeaders(t *testing.T) {
	t.Parallel()
	c := Config{SecretHeaderName: "x-shared-secret"}
	if got := c.OwnedHeaders(); !cmp.Equal(got, []string{"X-Shared-Secret"}) {
		t.Errorf("OwnedHeaders() = %q, want [X-Shared-Secret]", got)
	}
	if got := (&Config{}).OwnedHeaders(); !cmp.Equal(got, []string{"Client-Token"}) {
		t.Errorf("OwnedHeaders(default) = %q, want [Client-Token]", got)
	}
}

func TestNewDecider(t *testing.T) {
	t.Parallel()
	if _, err := NewDecider(Config{ServiceURL: URLs{"embedded"}}); err == nil {
		t.Error("NewDecider(embedded) = nil error, want one (the embedded service has no HTTP client)")
	}
	if _, err := NewDecider(Config{}); err == nil {
		t.Error("NewDecider(empty service_url) = nil error, want one")
	}
	d, err := NewDecider(Config{ServiceURL: URLs{"https://a.example/v1/"}, SecretHeaderValue: "x"})
	if err != nil {
		t.Fatalf("NewDecider(remote) error: %v", err)
	}
	defer d.Close()
	if got := d.URL(); got != "https://a.example/v1/sideband/request" {
		t.Errorf("NewDecider(remote).URL() = %q, want https://a.example/v1/sideband/request", got)
	}
	if _, err := NewDecider(Config{ServiceURL: URLs{"https://a.example"}, SecretHeaderValue: "x", CAFile: "/nonexistent.pem"}); err == nil {
		t.Error("NewDecider(missing ca_file) = nil error, want one")
	}
}

func TestNew_RejectsInvalidConfigAndNilDecider(t *testing.T) {
	t.Parallel()
	if _, err := New("f", Config{OnError: "maybe"}, echoDecider, Options{}); err == nil {
		t.Error("New(invalid config) = nil error, want one")
	}
	if _, err := New("f", Config{}, nil, Options{}); err == nil {
		t.Error("New(nil decider) = nil error, want one")
	}
}
