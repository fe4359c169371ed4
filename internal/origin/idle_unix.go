//go:build unix

package origin

import "syscall"

// idleOK reports whether a pooled connection can carry a new request:
// nothing is buffered and nothing is waiting on the socket (an unsolicited
// answer would be taken for the next request's response), and the origin
// has not closed it. It peeks without blocking: one recv, no wait.
func (fc *fconn) idleOK() bool {
	if fc.br.Buffered() > 0 {
		return false
	}
	sc, ok := fc.c.(syscall.Conn)
	if !ok {
		return true
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	var rerr error
	var n int
	err = rc.Read(func(fd uintptr) bool {
		var b [1]byte
		n, _, rerr = syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		return true // never wait
	})
	// EAGAIN: quiet, as it should be. n > 0: unsolicited bytes. n == 0
	// without error: the origin closed the connection.
	return err == nil && rerr == syscall.EAGAIN && n <= 0
}
