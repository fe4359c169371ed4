package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgeward/edgeward/internal/testkit"
)

const minimalEdge = `listen: 127.0.0.1:0
admin: "off"
origins:
  api:
    url: http://127.0.0.1:1
behaviors:
  - path_pattern: "*"
    origin: api
`

// writeCert writes a self-signed certificate and its key and returns their
// file names.
func writeCert(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	return testkit.SelfSigned(t, "edge.test", "edge.test").WriteFiles(t)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestParseEdge_LoadsTLSFilesAsServeDoes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cert, key := writeCert(t)
	notPEM := filepath.Join(dir, "notpem.pem")
	must(t, os.WriteFile(notPEM, []byte("just text\n"), 0o600))
	other, _ := writeCert(t)
	tests := []struct {
		name       string
		cert, key  string
		wantErr    string // "" means valid
		wantPrefix string
	}{
		{name: "a loadable pair is valid", cert: cert, key: key},
		{name: "missing certificate file", cert: filepath.Join(dir, "nope.pem"), key: key,
			wantErr: "tls.cert_file: open " + filepath.Join(dir, "nope.pem"), wantPrefix: "e.yaml:2: "},
		{name: "certificate file without PEM", cert: notPEM, key: key,
			wantErr: "tls.cert_file: " + notPEM + " holds no PEM CERTIFICATE block", wantPrefix: "e.yaml:2: "},
		{name: "key file without PEM", cert: cert, key: notPEM,
			wantErr: "tls.key_file: " + notPEM + " holds no PEM PRIVATE KEY block", wantPrefix: "e.yaml:3: "},
		{name: "certificate of another key", cert: other, key: key,
			wantErr: "do not load as a certificate and its key", wantPrefix: "e.yaml:2: tls.cert_file: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			y := "tls:\n  cert_file: " + tt.cert + "\n  key_file: " + tt.key + "\n" + minimalEdge
			_, err := ParseEdge("e.yaml", []byte(y), env(nil))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("ParseEdge = %v, want valid", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), tt.wantPrefix) {
				t.Fatalf("ParseEdge error = %v, want %q starting with %q", err, tt.wantErr, tt.wantPrefix)
			}
		})
	}
}

func TestParseEdge_OneErrorPerMistake(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{
			name: "a negative max_ttl is one error",
			yaml: minimalEdge[:len(minimalEdge)-1] + "\n    cache: {max_ttl: -1s}\n",
			want: []string{`behaviors[0].cache.max_ttl: must be >= 0`},
		},
		{
			name: "authorize without a decision section says how to define it",
			yaml: minimalEdge + "    viewer_request: authorize\n",
			want: []string{`behaviors[0].viewer_request: unknown function "authorize" (known: none): add a decision: section`},
		},
		{
			name: "include and exclude together, with the key",
			yaml: minimalEdge + "    cache:\n      key: {query_strings: {include: [a], exclude: [b]}}\n",
			want: []string{`e.yaml:10: behaviors[0].cache.key.query_strings: `},
		},
		{
			name: "type errors in several sections are all reported",
			yaml: "limits: {max_connections: many}\n" + minimalEdge + "    allowed_methods: GET\nlogging: {level: [debug]}\n",
			want: []string{
				`e.yaml:1: limits.max_connections: want an integer, got "many"`,
				`e.yaml:10: behaviors[0].allowed_methods: want a list, got "GET"`,
				`e.yaml:11: logging.level: want a string, got a list`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseEdge("e.yaml", []byte(tt.yaml), env(nil))
			if err == nil {
				t.Fatal("ParseEdge = nil, want an error")
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tt.want) {
				t.Fatalf("ParseEdge gave %d problems, want %d:\n%v", len(lines), len(tt.want), err)
			}
			for i, w := range tt.want {
				if !strings.Contains(lines[i], w) {
					t.Errorf("problem %d = %q, want it to contain %q", i, lines[i], w)
				}
			}
		})
	}
}

func TestLoadEdge_NamesTheFileAsGiven(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "conf", "edge.yaml")
	must(t, os.MkdirAll(filepath.Dir(path), 0o700))
	must(t, os.WriteFile(path, []byte("listen: [\n"), 0o600))
	_, err := LoadEdge(path, env(nil))
	if err == nil || !strings.HasPrefix(err.Error(), path+":") {
		t.Fatalf("LoadEdge error = %v, want it to start with the full path %s", err, path)
	}
}

func TestDetectKind(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, yaml, want string
	}{
		{"edge with an embedded decision service", minimalEdge + "decision: {}\n", KindEdge},
		{"standalone decision service", "listen: 127.0.0.1:8081\ndecision:\n  api_services: []\n", KindDecision},
		{"not yaml", "listen: [\n", KindEdge},
		{"empty", "", KindEdge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := detectKind([]byte(tt.yaml)); got != tt.want {
				t.Errorf("detectKind(%q) = %q, want %q", tt.yaml, got, tt.want)
			}
		})
	}
}
