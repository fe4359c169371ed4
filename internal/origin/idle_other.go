//go:build !unix

package origin

// peeker has nothing to keep without a non-blocking peek.
type peeker struct{}

// idleOK reports whether a pooled connection can carry a new request:
// nothing is buffered from the last answer. (Without a non-blocking peek,
// a connection the origin closed is found by the retry in forward.)
func (fc *fconn) idleOK() bool { return fc.br.Buffered() == 0 }
