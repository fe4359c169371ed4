//go:build linux && !386

package transport

import (
	"syscall"
	"unsafe"
)

const canPeek = true

// peekReady reports whether a read of fd would not block: it peeks at one
// byte without waiting. false (EAGAIN) parks the caller in the netpoller.
func peekReady(fd uintptr, b *[1]byte) bool {
	_, _, e := syscall.RawSyscall6(syscall.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&b[0])), 1,
		syscall.MSG_PEEK|syscall.MSG_DONTWAIT, 0, 0)
	return e != syscall.EAGAIN
}
