package testkit

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// RunWithEdgeward is a TestMain for tests that run the real edgeward
// binary: it builds ./cmd/edgeward into a temporary directory (or takes
// $EDGEWARD_BIN, to test a given build), sets *binary to its path, runs the
// tests and removes the build. It returns the exit code for os.Exit.
func RunWithEdgeward(m *testing.M, binary *string) int {
	if b := os.Getenv("EDGEWARD_BIN"); b != "" {
		*binary = b
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "edgeward-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	*binary = filepath.Join(dir, "edgeward")
	build := exec.Command("go", "build", "-o", *binary, "github.com/edgeward/edgeward/cmd/edgeward")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building edgeward:", err)
		return 1
	}
	return m.Run()
}
