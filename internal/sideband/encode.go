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
	b := (*bp)[:0]
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
	b = append(b, '}')
	out := bytes.Clone(b)
	if cap(b) <= 64<<10 {
		*bp = b
		encBufs.Put(bp)
	}
	return out, nil
}
