// Package requestid is the one source of request ids: the edge's
// X-Request-Id (access log, error bodies, origin request) and the decision
// service's ids (decision log, deny bodies, sideband error ids and
// Correlation-Id), and the one rule for which inbound ids are reused.
package requestid

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"sync/atomic"
)

// MaxLen bounds an inbound id that is reused.
const MaxLen = 128

// Source makes request ids: a random prefix drawn once per Source and a
// counter, so that ids are unique across restarts and nodes without a
// random draw per request. It is safe for concurrent use.
type Source struct {
	prefix string
	n      atomic.Uint64
}

// New returns a Source with a fresh random prefix.
func New() *Source {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return &Source{prefix: base64.RawURLEncoding.EncodeToString(b[:]) + "-"}
}

// Next returns a fresh id such as "q0J8mZ1cY2V4kTnA-1f".
func (s *Source) Next() string {
	var buf [48]byte
	return string(s.Append(buf[:0], s.Seq()))
}

// Seq reserves the next id without formatting it; Append formats it when
// (and if) it is written, which keeps formatting off the hot path of a
// request whose id may never be printed.
func (s *Source) Seq() uint64 { return s.n.Add(1) }

// Append appends the id numbered seq (from Seq) to b.
func (s *Source) Append(b []byte, seq uint64) []byte {
	b = append(b, s.prefix...)
	return strconv.AppendUint(b, seq, 36)
}

// Valid reports whether id, received from a peer, is safe to reuse as a
// request or correlation id: 1 to MaxLen characters that need no quoting
// in logs and headers.
func Valid(id string) bool {
	if id == "" || len(id) > MaxLen {
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

// UUID returns a random RFC 9562 version 4 UUID: the form the sideband
// protocol gives error ids (SIDEBAND.md, errors).
func UUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:])
	return string(out[:])
}
