//go:build unix

package attack

import (
	"os"
	"strconv"
	"syscall"
)

// keepPipesFromChildren marks every inherited descriptor above stderr
// close-on-exec. A fuzz worker talks to its coordinator over inherited
// pipes that are not; an edge process started by the worker would hold
// them open, and a worker that is stopped (after an input that failed, to
// minimise it) would leave the coordinator waiting on them for ever.
func keepPipesFromChildren() {
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		fds, _ = os.ReadDir("/dev/fd")
	}
	for _, fd := range fds {
		if n, err := strconv.Atoi(fd.Name()); err == nil && n > 2 {
			syscall.CloseOnExec(n)
		}
	}
}
