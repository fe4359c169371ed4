package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Version is set at build time:
//
//	go build -ldflags "-X github.com/edgeward/edgeward/internal/cli.Version=v1.2.3" ./cmd/edgeward
//
// (make build does it from git describe). Left empty, the version comes
// from the module's build information: the module version for `go install
// ...@v1.2.3`, or the VCS revision for a build inside a git checkout.
var Version = ""

// versionString is what `edgeward version` and `edgeward --version` print.
func versionString() string {
	return fmt.Sprintf("%s (%s, %s/%s)", resolveVersion(Version, readBuildInfo()), runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

func readBuildInfo() *debug.BuildInfo {
	bi, _ := debug.ReadBuildInfo()
	return bi
}

// resolveVersion picks the version: the one set at build time, else the
// main module's version, else its VCS revision (marked "-dirty" for
// uncommitted changes), else "dev".
func resolveVersion(set string, bi *debug.BuildInfo) string {
	if set != "" {
		return set
	}
	if bi == nil {
		return "dev"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "-dirty"
			}
		}
	}
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		return "dev-" + rev + dirty
	}
	return "dev"
}

func versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintln(cmd.OutOrStdout(), "edgeward", versionString())
		},
	}
}
