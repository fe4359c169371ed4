package sideband

import (
	"bytes"
	"encoding/json"
	"strconv"
	"sync"
)

// encBufs are the buffers request-phase bodies are encoded in.
var encBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// EncodeRequest writes the request-phase body: the bytes json.Marshal(req)
// writes, without its reflection and the re-validation of each
// MarshalJSON result (the sideband hop encodes one per decision). A
// request with a client certificate or access token claims takes
// json.Marshal itself.
func EncodeRequest(req *Request) ([]byte, error) {
	if len(req.ClientCertificate) > 0 || req.AccessToken != nil {
		return json.Marshal(req)
	}
	b := encBufs.Get().(*bytes.Buffer)
	b.Reset()
	b.WriteString(`{"source_ip":`)
	writeString(b, req.SourceIP)
	b.WriteString(`,"source_port":`)
	b.WriteString(strconv.Itoa(int(req.SourcePort)))
	b.WriteString(`,"method":`)
	writeString(b, req.Method)
	b.WriteString(`,"url":`)
	writeString(b, req.URL)
	b.WriteString(`,"http_version":`)
	writeString(b, req.HTTPVersion)
	b.WriteString(`,"headers":[`)
	for i, e := range req.Headers {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('{')
		writeString(b, e.Name)
		b.WriteByte(':')
		writeString(b, e.Value)
		b.WriteByte('}')
	}
	b.WriteByte(']')
	if req.Body != nil {
		b.WriteString(`,"body":`)
		writeString(b, *req.Body)
	}
	b.WriteByte('}')
	out := bytes.Clone(b.Bytes())
	if b.Cap() <= 64<<10 {
		encBufs.Put(b)
	}
	return out, nil
}
