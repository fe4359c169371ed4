//go:build !unix

package connpool

// peeker has nothing to keep without a non-blocking peek.
type peeker struct{}

// idleOK reports whether a pooled connection can carry a new request:
// nothing is buffered from the last answer. (Without a non-blocking peek,
// a connection the peer closed is found by the client's retry.)
func (c *Conn) idleOK() bool { return c.BR.Buffered() == 0 }
