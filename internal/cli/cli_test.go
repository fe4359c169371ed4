package cli

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/edgeward/edgeward/internal/config"
)

func run(t *testing.T, args ...string) (code int, out, errOut string) {
	t.Helper()
	var o, e bytes.Buffer
	code = Execute(context.Background(), args, &o, &e)
	return code, o.String(), e.String()
}

func TestVersion_FlagAndCommandPrintTheBuildVersion(t *testing.T) {
	old := Version
	Version = "v9.8.7-test"
	t.Cleanup(func() { Version = old })
	for _, args := range [][]string{{"--version"}, {"version"}} {
		code, out, _ := run(t, args...)
		if code != 0 || !strings.HasPrefix(out, "edgeward v9.8.7-test (go") {
			t.Errorf("edgeward %v = %d %q, want 0 and \"edgeward v9.8.7-test (go...\"", args, code, out)
		}
	}
}

func TestResolveVersion(t *testing.T) {
	t.Parallel()
	vcs := func(rev, modified string) *debug.BuildInfo {
		return &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: modified}}}
	}
	tests := []struct {
		name string
		set  string
		bi   *debug.BuildInfo
		want string
	}{
		{"ldflags win", "v1.2.3", vcs("0123456789abcdef", "false"), "v1.2.3"},
		{"go install of a tagged module", "", &debug.BuildInfo{Main: debug.Module{Version: "v1.4.0"}}, "v1.4.0"},
		{"git checkout", "", vcs("0123456789abcdef", "false"), "dev-0123456789ab"},
		{"git checkout with changes", "", vcs("0123456789abcdef", "true"), "dev-0123456789ab-dirty"},
		{"nothing known", "", nil, "dev"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := resolveVersion(tt.set, tt.bi); got != tt.want {
				t.Errorf("resolveVersion(%q) = %q, want %q", tt.set, got, tt.want)
			}
		})
	}
}

func TestValidate_TellsTheKindFromTheContent(t *testing.T) {
	t.Setenv("EDGEWARD_GATEWAY_CREDENTIAL", "test-credential")
	tests := []struct {
		file     string
		wantCode int
		wantOut  string
	}{
		{"../../examples/standalone/decision.yaml", 0, "ok\nread as: decision service file\n"},
		{"../../examples/standalone/edge.yaml", 0, "ok\nread as: edge file\n"},
		{"../../examples/edgeward.yaml", 0, "ok\nread as: edge file\n"},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.file), func(t *testing.T) {
			code, out, errOut := run(t, "validate", "-c", tt.file)
			if code != tt.wantCode || !strings.HasPrefix(out, tt.wantOut) {
				t.Errorf("validate -c %s = %d %q %q, want %d %q", tt.file, code, out, errOut, tt.wantCode, tt.wantOut)
			}
		})
	}
}

func TestValidate_FailsWhereServeWould(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "cert.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "edge.yaml")
	y := "listen: 127.0.0.1:0\nadmin: \"off\"\ntls:\n  cert_file: " + notPEM + "\n  key_file: " + notPEM +
		"\norigins:\n  api: {url: \"http://127.0.0.1:1\"}\nbehaviors:\n  - {path_pattern: \"*\", origin: api}\n"
	if err := os.WriteFile(file, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run(t, "validate", "-c", file)
	want := file + ":4: tls.cert_file: " + notPEM + " holds no PEM CERTIFICATE block"
	if code == 0 || !strings.Contains(out, want) || !strings.Contains(errOut, "not a valid edge file") {
		t.Errorf("validate = %d\n%s%s\nwant non-zero and %q", code, out, errOut, want)
	}
	// serve agrees.
	code, _, errOut = run(t, "serve", "-c", file)
	if code == 0 || !strings.Contains(errOut, "tls.cert_file") {
		t.Errorf("serve = %d %q, want it to fail on tls.cert_file", code, errOut)
	}
}

func TestLogger_JSONDurationsAreReadable(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	log := newLogger(&b, config.Logging{Level: "info", Format: "json"}, new(slog.LevelVar))
	log.Info("x", "latency", 1500*time.Microsecond, slog.Group("g", "d", 2*time.Second))
	for _, want := range []string{`"latency":"1.5ms"`, `"d":"2s"`} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("log = %s, want %s", b.String(), want)
		}
	}
}
