//go:build unix

package connpool

import "syscall"

// peeker is what idleOK keeps per connection so that its check costs no
// allocation: the raw connection and the bound peek function.
type peeker struct {
	raw syscall.RawConn
	fn  func(fd uintptr) bool
	n   int
	err error
}

// idleOK reports whether a pooled connection can carry a new request:
// nothing is buffered and nothing is waiting on the socket (an unsolicited
// answer would be taken for the next request's response), and the peer
// has not closed it. It peeks without blocking: one recv, no wait.
func (c *Conn) idleOK() bool {
	if c.BR.Buffered() > 0 {
		return false
	}
	p := &c.peek
	if p.raw == nil {
		sc, ok := c.C.(syscall.Conn)
		if !ok {
			return true
		}
		raw, err := sc.SyscallConn()
		if err != nil {
			return false
		}
		p.raw, p.fn = raw, p.peek
	}
	err := p.raw.Read(p.fn)
	// EAGAIN: quiet, as it should be. n > 0: unsolicited bytes. n == 0
	// without error: the peer closed the connection.
	return err == nil && p.err == syscall.EAGAIN && p.n <= 0
}

func (p *peeker) peek(fd uintptr) bool {
	var b [1]byte
	p.n, _, p.err = syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	return true // never wait
}
