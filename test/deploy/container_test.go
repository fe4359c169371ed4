package deploy

import (
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/edgeward/edgeward/internal/cli"
	"github.com/edgeward/edgeward/internal/config"
)

const (
	repoRoot         = "../.."
	containerExample = "examples/container/edgeward.yaml"
	// versionVar is the variable `edgeward version` prints; the image sets
	// it with -ldflags -X. Referring to cli.Version below makes this test
	// stop compiling if the variable moves.
	versionVar = "github.com/edgeward/edgeward/internal/cli.Version"
)

var _ = cli.Version

// instruction is one Dockerfile instruction: its keyword (upper case) and
// the rest of its line, continuation lines joined.
type instruction struct {
	Cmd  string
	Args string
}

// parseDockerfile splits a Dockerfile into instructions: comments and
// blank lines dropped, lines ending in a backslash joined. Parser
// directives (# syntax=...) are comments here.
func parseDockerfile(text string) []instruction {
	var out []instruction
	var cur strings.Builder
	flush := func() {
		line := strings.TrimSpace(cur.String())
		cur.Reset()
		if line == "" {
			return
		}
		cmd, args, _ := strings.Cut(line, " ")
		out = append(out, instruction{Cmd: strings.ToUpper(cmd), Args: strings.TrimSpace(args)})
	}
	for _, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue // also inside a continued instruction
		}
		if rest, ok := strings.CutSuffix(trimmed, "\\"); ok {
			cur.WriteString(rest)
			cur.WriteByte(' ')
			continue
		}
		cur.WriteString(trimmed)
		flush()
	}
	flush()
	return out
}

// stages splits instructions at each FROM.
func stages(ins []instruction) [][]instruction {
	var out [][]instruction
	for _, in := range ins {
		if in.Cmd == "FROM" {
			out = append(out, nil)
		}
		if len(out) > 0 {
			out[len(out)-1] = append(out[len(out)-1], in)
		}
	}
	return out
}

func readRepoFile(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestDockerfile_Invariants checks what no engine is needed to check: a
// multi-stage build of a static binary with the version stamped, a
// minimal final image that runs as a numeric non-root user (Kubernetes'
// runAsNonRoot can verify a number, not a name), the example container
// configuration at the path the command reads, and the ports it listens
// on exposed.
func TestDockerfile_Invariants(t *testing.T) {
	t.Parallel()
	st := stages(parseDockerfile(readRepoFile(t, "Dockerfile")))
	if len(st) < 2 {
		t.Fatalf("Dockerfile has %d stage(s), want a build stage and a runtime stage", len(st))
	}
	build, final := st[0], st[len(st)-1]

	var goBuild string
	for _, in := range build {
		if in.Cmd == "RUN" && strings.Contains(in.Args, "go build") {
			goBuild = in.Args
		}
	}
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "-X " + versionVar + "=", "./cmd/edgeward"} {
		if !strings.Contains(goBuild, want) {
			t.Errorf("build stage's go build %q lacks %q", goBuild, want)
		}
	}

	base := strings.Fields(final[0].Args)[0]
	if base != "scratch" && !strings.HasPrefix(base, "gcr.io/distroless/static") {
		t.Errorf("runtime base %q, want scratch or distroless/static", base)
	}
	last := func(cmd string) string {
		v := ""
		for _, in := range final {
			if in.Cmd == cmd {
				v = in.Args
			}
		}
		return v
	}
	user := last("USER")
	uid, _, _ := strings.Cut(user, ":")
	if n, err := strconv.Atoi(uid); err != nil || n == 0 {
		t.Errorf("runtime USER %q, want a numeric non-root uid", user)
	}
	if ep := last("ENTRYPOINT"); !strings.HasPrefix(ep, "[") {
		t.Errorf("ENTRYPOINT %s, want the exec form (signals reach edgeward, not a shell)", ep)
	}
	cmd := last("CMD")
	if !strings.Contains(cmd, `"-c", "/etc/edgeward/edgeward.yaml"`) {
		t.Errorf("CMD %s, want serve -c /etc/edgeward/edgeward.yaml", cmd)
	}
	var copied bool
	for _, in := range final {
		if in.Cmd == "COPY" && strings.Fields(in.Args)[0] == containerExample {
			copied = strings.HasSuffix(in.Args, " /etc/edgeward/edgeward.yaml")
		}
	}
	if !copied {
		t.Errorf("the runtime stage does not COPY %s to /etc/edgeward/edgeward.yaml", containerExample)
	}

	f := loadContainerExample(t, map[string]string{
		"EDGEWARD_ORIGIN_URL": "https://origin.example/prod", "EDGEWARD_DECISION_URL": "https://pdp.example", "EDGEWARD_GATEWAY_CREDENTIAL": "x",
	})
	exposed := strings.Fields(last("EXPOSE"))
	for _, addr := range []string{f.Listen, f.Admin} {
		_, port, _ := net.SplitHostPort(addr)
		if !slices.Contains(exposed, port) {
			t.Errorf("EXPOSE %v lacks port %s of %s", exposed, port, addr)
		}
	}
}

func loadContainerExample(t *testing.T, env map[string]string) *config.Edge {
	t.Helper()
	f, err := config.LoadEdge(filepath.Join(repoRoot, containerExample), func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	})
	if err != nil {
		t.Fatalf("%s does not pass `edgeward validate`:\n%v", containerExample, err)
	}
	return f
}

// TestContainerExample_ListensEverywhereAndTakesTheOriginFromEnv: inside
// a container, loopback is unreachable from `docker run -p`; and the
// origin, the decision service and the credential differ per deployment,
// so they come from the environment, and a missing one is an error that
// names it.
func TestContainerExample_ListensEverywhereAndTakesTheOriginFromEnv(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"EDGEWARD_ORIGIN_URL": "https://abc123.execute-api.us-east-1.amazonaws.com/prod", "EDGEWARD_DECISION_URL": "https://pdp.example", "EDGEWARD_GATEWAY_CREDENTIAL": "s3cret",
	}
	f := loadContainerExample(t, env)
	for what, addr := range map[string]string{"listen": f.Listen, "admin": f.Admin} {
		host, _, err := net.SplitHostPort(addr)
		if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsUnspecified() {
			t.Errorf("%s = %q, want every interface (0.0.0.0)", what, addr)
		}
	}
	var origins []string
	for _, o := range f.Origins {
		origins = append(origins, o.URL)
	}
	if !slices.Contains(origins, env["EDGEWARD_ORIGIN_URL"]) {
		t.Errorf("origins %v, want one at $EDGEWARD_ORIGIN_URL", origins)
	}
	for name := range env {
		without := map[string]string{}
		for k, v := range env {
			if k != name {
				without[k] = v
			}
		}
		_, err := config.LoadEdge(filepath.Join(repoRoot, containerExample), func(k string) (string, bool) {
			v, ok := without[k]
			return v, ok
		})
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("without $%s: error %v, want one naming it", name, err)
		}
	}
}

// TestDockerignore_KeepsTheContextSmallAndComplete: the repository's
// history and local builds stay out of the build context, and nothing the
// build copies is left out.
func TestDockerignore_KeepsTheContextSmallAndComplete(t *testing.T) {
	t.Parallel()
	var patterns []string
	for _, line := range strings.Split(readRepoFile(t, ".dockerignore"), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "!") || strings.Contains(line, "**") {
			t.Fatalf(".dockerignore pattern %q: this test understands plain patterns only; extend it", line)
		}
		patterns = append(patterns, line)
	}
	for _, path := range []string{".git/HEAD", "bin/edgeward", "edgeward"} {
		if !ignored(patterns, path) {
			t.Errorf(".dockerignore lets %s into the build context", path)
		}
	}
	for _, path := range []string{"go.mod", "go.sum", "cmd/edgeward/main.go", "internal/cli/cli.go", containerExample} {
		if ignored(patterns, path) {
			t.Errorf(".dockerignore leaves out %s, which the build needs", path)
		}
	}
}

// ignored applies .dockerignore's rule: a pattern (filepath.Match syntax,
// relative to the context root) excludes the paths it matches and
// everything under them.
func ignored(patterns []string, path string) bool {
	for _, p := range patterns {
		p = strings.TrimSuffix(strings.TrimPrefix(filepath.Clean(p), "/"), "/")
		parts := strings.Split(path, "/")
		for i := 1; i <= len(parts); i++ {
			if ok, _ := filepath.Match(p, strings.Join(parts[:i], "/")); ok {
				return true
			}
		}
	}
	return false
}

func TestParseDockerfile(t *testing.T) {
	t.Parallel()
	got := parseDockerfile("# syntax=docker/dockerfile:1\nFROM a AS b\n\nRUN x \\\n  # note\n  y\nuser 1:1\nCMD [\"a\"] \\")
	want := []instruction{{"FROM", "a AS b"}, {"RUN", "x  y"}, {"USER", "1:1"}, {"CMD", `["a"]`}}
	if !slices.Equal(got, want) {
		t.Errorf("parseDockerfile = %q, want %q", got, want)
	}
}

// FuzzParseDockerfile: any text splits without a panic, and every
// instruction has a keyword.
func FuzzParseDockerfile(f *testing.F) {
	f.Add("FROM golang AS build\nRUN go build \\\n ./cmd\nUSER 65532")
	f.Add("\\\n\\")
	f.Fuzz(func(t *testing.T, text string) {
		for _, in := range parseDockerfile(text) {
			if in.Cmd == "" {
				t.Fatalf("parseDockerfile(%q): instruction without a keyword: %+v", text, in)
			}
		}
	})
}
