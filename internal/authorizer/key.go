package authorizer

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/edgeward/edgeward/internal/sideband"
)

// cacheKey identifies one decision: the SHA-256 of everything the
// decision service is sent for a request, and of the service it is sent
// to. Two requests share a key only when the service would see the same
// call from the same gateway.
type cacheKey [sha256.Size]byte

// keyVersion changes whenever the encoding below does, so that keys of
// two encodings never meet (in a future shared tier).
const keyVersion = "edgeward-dcache-1"

// keySeed is the part of every key that names the service and the
// gateway: the service URLs in order, the credential header and a digest
// of the credential (the credential itself never sits in memory twice).
func keySeed(urls []string, credHeader, credential string) []byte {
	var b []byte
	b = appendField(b, keyVersion)
	b = binary.AppendUvarint(b, uint64(len(urls)))
	for _, u := range urls {
		b = appendField(b, strings.TrimRight(u, "/"))
	}
	b = appendField(b, strings.ToLower(credHeader))
	sum := sha256.Sum256([]byte(credential))
	return appendField(b, string(sum[:]))
}

// keyBufs holds the buffers keys are encoded in before hashing.
var keyBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// keyOf returns the key of the call sreq under seed. Every field is
// length-prefixed, so no two different calls encode alike: a header
// "a: bc" is not a header "ab: c", a query is not a path. The fields are
// those of sideband.Request except source_port, which changes with every
// connection a client opens, and the headers named in volatile (the
// edge's own X-Request-Id, which names one request, and the operator's
// decision_cache.ignore_headers): a policy that looks at any of them
// cannot use the decision cache (docs/security.md says so). A cached allow
// gives volatile headers the current request's values (see replay).
func keyOf(seed []byte, sreq *sideband.Request, volatile []string) cacheKey {
	bp := keyBufs.Get().(*[]byte)
	b := append((*bp)[:0], seed...)
	b = appendField(b, sreq.Method)
	b = appendField(b, sreq.URL)
	b = appendField(b, sreq.HTTPVersion)
	b = appendField(b, sreq.SourceIP)
	for _, h := range sreq.Headers {
		if isVolatile(volatile, h.Name) {
			continue
		}
		b = append(b, 'h')
		b = appendField(b, h.Name)
		b = appendField(b, h.Value)
	}
	b = append(b, 'e')
	if sreq.Body == nil {
		b = append(b, 0)
	} else {
		b = append(b, 1)
		b = appendField(b, *sreq.Body)
	}
	b = appendField(b, string(sreq.ClientCertificate))
	if sreq.AccessToken == nil {
		b = append(b, 0)
	} else {
		tok, _ := json.Marshal(sreq.AccessToken) // deterministic: Extra keys sorted
		b = append(b, 1)
		b = appendField(b, string(tok))
	}
	k := cacheKey(sha256.Sum256(b))
	if cap(b) <= 64<<10 {
		*bp = b
		keyBufs.Put(bp)
	}
	return k
}

func isVolatile(volatile []string, name string) bool {
	for _, v := range volatile {
		if v == name {
			return true
		}
	}
	return false
}

func appendField(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// tokenExpiry returns the earliest exp of the JWTs the request carries as
// bearer tokens in Authorization. It reads the claims without verifying
// them: the result only ever shortens how long a decision is kept, and the
// decision service verified (or refused) the token when it decided. ok is
// false when no Authorization value is a JWT with a numeric exp.
func tokenExpiry(hs sideband.Headers) (exp time.Time, ok bool) {
	for _, h := range hs {
		if h.Name != "authorization" {
			continue
		}
		if t, found := jwtExpiry(h.Value); found && (!ok || t.Before(exp)) {
			exp, ok = t, true
		}
	}
	return exp, ok
}

// maxTokenBytes bounds the tokens whose claims are read.
const maxTokenBytes = 16 << 10

// jwtExpiry reads exp from "Bearer <header>.<payload>.<signature>".
func jwtExpiry(v string) (time.Time, bool) {
	scheme, tok, found := strings.Cut(strings.TrimSpace(v), " ")
	if !found || !strings.EqualFold(scheme, "bearer") || len(tok) > maxTokenBytes {
		return time.Time{}, false
	}
	tok = strings.TrimSpace(tok)
	_, rest, ok1 := strings.Cut(tok, ".")
	payload, _, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 {
		return time.Time{}, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(payload, "="))
	if err != nil {
		return time.Time{}, false
	}
	var claims struct {
		Exp json.Number `json:"exp"`
	}
	if json.Unmarshal(raw, &claims) != nil || claims.Exp == "" {
		return time.Time{}, false
	}
	f, err := claims.Exp.Float64()
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 1<<40 {
		return time.Time{}, false
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), true
}
