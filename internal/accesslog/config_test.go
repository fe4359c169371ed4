package accesslog

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgeward/edgeward/internal/size"
	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"
)

func TestLogConfig_DecodesTheAccessLogSection(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		yaml string
		want LogConfig
	}{
		{
			name: "defaults",
			yaml: `{}`,
			want: LogConfig{
				SinkConfig:  SinkConfig{Path: "stdout", MaxSize: 100 * size.MiB, MaxBackups: 5, Buffer: 8192},
				Format:      "cloudfront",
				Location:    "edgeward",
				RedactQuery: []string{"access_token"},
			},
		},
		{
			name: "every key",
			yaml: `{path: /var/log/edgeward/access.log, format: json, max_size: 10MiB, max_backups: 3,
			        location: FRA1, include_cookies: true, buffer: 100, redact_query: [code]}`,
			want: LogConfig{
				SinkConfig:     SinkConfig{Path: "/var/log/edgeward/access.log", MaxSize: 10 * size.MiB, MaxBackups: 3, Buffer: 100},
				Format:         "json",
				Location:       "FRA1",
				IncludeCookies: true,
				RedactQuery:    []string{"code"},
			},
		},
		{
			name: "empty redact_query turns redaction off",
			yaml: `{redact_query: []}`,
			want: LogConfig{
				SinkConfig:  SinkConfig{Path: "stdout", MaxSize: 100 * size.MiB, MaxBackups: 5, Buffer: 8192},
				Format:      "cloudfront",
				Location:    "edgeward",
				RedactQuery: []string{},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got LogConfig
			dec := yaml.NewDecoder(strings.NewReader(tc.yaml))
			dec.KnownFields(true)
			if err := dec.Decode(&got); err != nil {
				t.Fatalf("Decode(%s) = %v", tc.yaml, err)
			}
			got.Defaults()
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("decoded config mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLogConfig_ValidateReportsEveryProblemWithItsKey(t *testing.T) {
	t.Parallel()
	missingDir := filepath.Join(t.TempDir(), "nope", "access.log")
	tests := []struct {
		name string
		edit func(c *LogConfig)
		want []string // error lines
	}{
		{"defaults are valid", func(*LogConfig) {}, nil},
		{"off is valid", func(c *LogConfig) { c.Path = "off" }, nil},
		{"stderr is valid", func(c *LogConfig) { c.Path = "stderr" }, nil},
		{"file in an existing directory", func(c *LogConfig) { c.Path = filepath.Join(t.TempDir(), "a.log") }, nil},
		{"file in a missing directory", func(c *LogConfig) { c.Path = missingDir }, []string{"path: directory"}},
		{"unknown format", func(c *LogConfig) { c.Format = "combined" }, []string{`format: unknown format "combined" (want cloudfront or json)`}},
		{"location with a space", func(c *LogConfig) { c.Location = "FRA 1" }, []string{`location: "FRA 1" has spaces`}},
		{"long location", func(c *LogConfig) { c.Location = strings.Repeat("x", 65) }, []string{"location: 65 bytes long"}},
		{"empty redact name", func(c *LogConfig) { c.RedactQuery = []string{"a", ""} }, []string{"redact_query[1]: empty parameter name"}},
		{
			name: "all problems at once",
			edit: func(c *LogConfig) {
				c.Path, c.Format, c.Buffer, c.MaxSize, c.MaxBackups = "", "x", -1, -1, -2
			},
			want: []string{
				"path: must be set",
				"max_size: must be > 0, got -1",
				"max_backups: must be >= -1 (-1 keeps no backup), got -2",
				"buffer: must be between 1 and 1048576 lines, got -1",
				`format: unknown format "x"`,
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var c LogConfig
			c.Defaults()
			tc.edit(&c)
			err := c.Validate()
			var got []string
			if err != nil {
				got = strings.Split(err.Error(), "\n")
			}
			if len(got) != len(tc.want) {
				t.Fatalf("Validate() = %v, want %d problems %q", err, len(tc.want), tc.want)
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tc.want[i]) {
					t.Errorf("problem %d = %q, want it to start with %q", i, got[i], tc.want[i])
				}
			}
		})
	}
}
