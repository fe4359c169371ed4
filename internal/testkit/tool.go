package testkit

import (
	"os"
	"os/exec"
	"testing"
)

// RequireToolsEnv is the environment variable that turns a missing tool
// into a failure instead of a skip. .ci/run sets it after installing every
// tool a test needs, so that CI never passes by skipping.
const RequireToolsEnv = "EDGEWARD_REQUIRE_TOOLS"

// Tool returns the path of the program name on PATH. Where it is missing
// the test is skipped with a message naming the Debian package that
// provides it, or fails if RequireToolsEnv is "1".
func Tool(t testing.TB, name, debianPackage string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	msg := name + " is not on PATH: install the Debian package " + debianPackage + " (apt-get install " + debianPackage + ")"
	if os.Getenv(RequireToolsEnv) == "1" {
		t.Fatalf("%s; %s=1 requires it", msg, RequireToolsEnv)
	}
	t.Skip(msg)
	return ""
}
