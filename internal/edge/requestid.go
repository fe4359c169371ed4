package edge

import (
	"crypto/rand"
	"encoding/base64"
	"strconv"
	"sync/atomic"
)

// idSource makes request ids: a random prefix drawn once per Server and a
// counter, so that ids are unique across restarts and edge nodes without a
// random draw per request.
type idSource struct {
	prefix string
	n      atomic.Uint64
}

func newIDSource() *idSource {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return &idSource{prefix: base64.RawURLEncoding.EncodeToString(b[:]) + "-"}
}

// next returns a fresh request id such as "q0J8mZ1cY2V4kTnA-1f".
func (s *idSource) next() string {
	var buf [48]byte
	b := append(buf[:0], s.prefix...)
	b = strconv.AppendUint(b, s.n.Add(1), 36)
	return string(b)
}

// maxRequestIDLen bounds an inbound X-Request-Id taken from a trusted peer.
const maxRequestIDLen = 128

// validRequestID reports whether id, received from a trusted peer, is safe
// to reuse: short, and only characters that need no quoting in logs and
// headers.
func validRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '-', c == '_', c == '.', c == ':', c == '+', c == '/', c == '=':
		default:
			return false
		}
	}
	return true
}
