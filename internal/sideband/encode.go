package sideband

import (
	"bytes"
	"encoding/json"
	"strconv"
	"sync"

	"github.com/edgeward/edgeward/internal/jsonstring"
)

// encBufs are the buffers request-phase bodies are encoded in.
var encBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// EncodeRequest writes the request-phase body: the bytes json.Marshal(req)
// writes (but for DEL, which jsonstring escapes as well), without its
// reflection and the re-validation of each MarshalJSON result (the
// sideband hop encodes one per decision). A request with a client
// certificate or access token claims takes json.Marshal itself.
func EncodeRequest(req *Request) ([]byte, error) {
	if len(req.ClientCertificate) > 0 || req.AccessToken != nil {
		return json.Marshal(req)
	}
	bp := encBufs.Get().(*[]byte)
	b := appendRequest((*bp)[:0], req)
	b = append(b, '}')
	return release(bp, b), nil
}

// EncodeReply writes a reply as json.Marshal(rep) does, an allow without
// reflection (the decision service encodes one per decision): the echoed
// request fields as EncodeRequest writes them, then state compacted. A
// deny, an echo with a client certificate or access token claims, and a
// state that json.Marshal would escape (<, >, &, U+2028, U+2029) or reject
// take json.Marshal itself.
func EncodeReply(rep *Reply) ([]byte, error) {
	if rep.Response != nil || len(rep.ClientCertificate) > 0 || rep.AccessToken != nil {
		return json.Marshal(rep)
	}
	bp := encBufs.Get().(*[]byte)
	b := appendRequest((*bp)[:0], &rep.Request)
	if len(rep.State) > 0 {
		b = append(b, `,"state":`...)
		buf := bytes.NewBuffer(b)
		at := buf.Len()
		if err := json.Compact(buf, rep.State); err != nil || htmlUnsafe(buf.Bytes()[at:]) {
			encBufs.Put(bp)
			return json.Marshal(rep)
		}
		b = buf.Bytes()
	}
	b = append(b, '}')
	return release(bp, b), nil
}

// htmlUnsafe reports whether b holds what json.Marshal escapes in a raw
// message: <, >, & and U+2028, U+2029 (E2 80 A8, E2 80 A9).
func htmlUnsafe(b []byte) bool {
	return bytes.ContainsAny(b, "<>&\u2028\u2029")
}

// appendRequest appends the request-phase fields of req as an object
// without its closing brace.
func appendRequest(b []byte, req *Request) []byte {
	b = append(b, `{"source_ip":`...)
	b = jsonstring.Append(b, req.SourceIP)
	b = append(b, `,"source_port":`...)
	b = strconv.AppendInt(b, int64(req.SourcePort), 10)
	b = append(b, `,"method":`...)
	b = jsonstring.Append(b, req.Method)
	b = append(b, `,"url":`...)
	b = jsonstring.Append(b, req.URL)
	b = append(b, `,"http_version":`...)
	b = jsonstring.Append(b, req.HTTPVersion)
	b = append(b, `,"headers":`...)
	b = req.Headers.appendJSON(b)
	if req.Body != nil {
		b = append(b, `,"body":`...)
		b = jsonstring.Append(b, *req.Body)
	}
	return b
}

// release returns a copy of b and gives its buffer back to the pool.
func release(bp *[]byte, b []byte) []byte {
	out := bytes.Clone(b)
	if cap(b) <= 64<<10 {
		*bp = b
		encBufs.Put(bp)
	}
	return out
}
