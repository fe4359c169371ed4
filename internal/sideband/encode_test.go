package sideband

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
)

// FuzzEncodeRequest: EncodeRequest writes exactly what json.Marshal
// writes, whatever the strings hold (escapes, HTML characters, invalid
// UTF-8).
func FuzzEncodeRequest(f *testing.F) {
	f.Add("GET", "http://api.example/a?b=<c>&d", "x-a", "v\"\\\n\x00é", "{\"qty\":1}", true, 40000)
	f.Add("", "", "", "", "", false, 0)
	f.Add("POST", "http://a/\xff", "host", "a\u2028b", "", true, -1)
	f.Fuzz(func(t *testing.T, method, url, name, value, body string, withBody bool, port int) {
		req := &Request{SourceIP: "192.0.2.1", SourcePort: Port(port), Method: method, URL: url, HTTPVersion: "1.1",
			Headers: Headers{{Name: "host", Value: "api.example"}, {Name: name, Value: value}}}
		if withBody {
			req.Body = &body
		}
		want, err := json.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		got, err := EncodeRequest(req)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("EncodeRequest = %s, %v\nwant %s", got, err, want)
		}
	})
}

func TestEncodeRequest_FixtureAsJSONMarshal(t *testing.T) {
	req, err := DecodeRequest(bytes.NewReader(mustRead(t, "testdata/request.json")), 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []*Request{req, {}, {Headers: Headers{}}} {
		want, _ := json.Marshal(r)
		got, err := EncodeRequest(r)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("EncodeRequest = %s, %v\nwant %s", got, err, want)
		}
	}
}

func mustRead(t *testing.T, file string) []byte {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// FuzzEncodeReply: EncodeReply writes exactly what json.Marshal writes for
// an allow, whatever its strings and state hold (but for DEL, which
// jsonstring escapes as well).
func FuzzEncodeReply(f *testing.F) {
	f.Add("GET", "x-a", "v\"\\\n\x00é", "{\"qty\":1}", true, []byte(`{"service": "Change orders", "n": [1, 2]}`))
	f.Add("POST", "host", "a\u2028b", "", false, []byte(`"<b>"`))
	f.Add("", "", "", "", false, []byte(``))
	f.Add("GET", "a", "b", "", false, []byte(`{"a":`))
	f.Add("GET", "a", "b", "", false, []byte("\"\u2029\""))
	f.Fuzz(func(t *testing.T, method, name, value, body string, withBody bool, state []byte) {
		rep := &Reply{Request: Request{SourceIP: "192.0.2.1", SourcePort: 40000, Method: method, URL: "http://a/", HTTPVersion: "1.1",
			Headers: Headers{{Name: "host", Value: "api.example"}, {Name: name, Value: value}}}, State: state}
		if withBody {
			rep.Body = &body
		}
		want, werr := json.Marshal(rep)
		got, err := EncodeReply(rep)
		del := []byte(`\u007f`)
		if (err != nil) != (werr != nil) || !bytes.Equal(bytes.ReplaceAll(got, del, []byte{0x7f}), bytes.ReplaceAll(want, del, []byte{0x7f})) {
			t.Errorf("EncodeReply = %s, %v\nwant %s, %v", got, err, want, werr)
		}
	})
}
