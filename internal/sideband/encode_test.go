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
