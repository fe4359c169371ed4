package sideband

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func addFixtureSeeds(f *testing.F) {
	f.Helper()
	files, _ := filepath.Glob("testdata/*.json")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// FuzzDecodeReply: arbitrary bytes never panic, and an allow comes out only
// of a well-formed allow (checked here by an independent reading of the
// JSON).
func FuzzDecodeReply(f *testing.F) {
	addFixtureSeeds(f)
	for _, s := range []string{
		`{}`, `{"response":null}`, `{"Response":null,"method":"GET","url":"http://a/","headers":[]}`,
		`{"method":"GET","url":"http://a/","headers":[]}`, `{"method":"GET","url":"http://a/"}`,
		`{"response":{"response_code":"403"}}`, `<html></html>`, `null`, `[]`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, err := DecodeReply(data)
		if err != nil {
			if rep != nil {
				t.Fatalf("DecodeReply returned a reply and an error %v", err)
			}
			if !errors.Is(err, ErrMalformedReply) {
				t.Fatalf("DecodeReply error %v does not wrap ErrMalformedReply", err)
			}
			return
		}
		if rep.Response != nil {
			if c := int(rep.Response.ResponseCode); c < 200 || c > 599 {
				t.Fatalf("deny with response_code %d", c)
			}
			if !hasKeyFold(data, "response") {
				t.Fatalf("deny from %q, which has no response key", data)
			}
			return
		}
		if why := notWellFormedAllow(data); why != "" {
			t.Fatalf("DecodeReply(%q) = allow, but %s", data, why)
		}
	})
}

// notWellFormedAllow reads data on its own terms and says why it is not an
// allow ("" when it is one): a JSON object without any response key, with
// string method and url (non-empty, the url absolute http/https) and an
// array of headers.
func notWellFormedAllow(data []byte) string {
	if !json.Valid(data) {
		return "it is not valid JSON"
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, _ := dec.Token(); tok != json.Delim('{') {
		return "it is not an object"
	}
	vals := map[string]json.RawMessage{}
	for dec.More() {
		kt, _ := dec.Token()
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return "it cannot be read: " + err.Error()
		}
		// encoding/json matches keys as bytes.EqualFold does; the last wins.
		k := kt.(string)
		if strings.EqualFold(k, "response") {
			return "it has a response key"
		}
		for _, name := range []string{"method", "url", "headers"} {
			if strings.EqualFold(k, name) {
				vals[name] = v
			}
		}
	}
	var method, url string
	if json.Unmarshal(vals["method"], &method) != nil || method == "" {
		return "method is not a non-empty string"
	}
	if json.Unmarshal(vals["url"], &url) != nil {
		return "url is not a string"
	}
	if _, err := ParseURL(url); err != nil {
		return "url is not absolute: " + err.Error()
	}
	if h := bytes.TrimSpace(vals["headers"]); len(h) == 0 || h[0] != '[' {
		return "headers is not an array"
	}
	return ""
}

func hasKeyFold(data []byte, key string) bool {
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, _ := dec.Token(); tok != json.Delim('{') {
		return false
	}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return false
		}
		if k, _ := kt.(string); strings.EqualFold(k, key) {
			return true
		}
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return false
		}
	}
	return false
}

// FuzzDecodeRequest: arbitrary bytes never panic; what decodes has the
// required fields and survives a round trip through the encoder.
func FuzzDecodeRequest(f *testing.F) {
	addFixtureSeeds(f)
	f.Add([]byte(`{"source_ip":"::1","source_port":"1","method":"GET","url":"http://a/?"}`))
	f.Add([]byte(`{"source_ip":"::1","method":"GET","url":"http://a/","headers":[{"a":1,"b":true}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		req, err := DecodeRequest(bytes.NewReader(data), 4096)
		if err != nil {
			if req != nil {
				t.Fatal("DecodeRequest returned a request and an error")
			}
			return
		}
		if req.Method == "" || req.SourceIP == "" {
			t.Fatalf("DecodeRequest(%q) accepted a request without method or source_ip", data)
		}
		if _, err := ParseURL(req.URL); err != nil {
			t.Fatalf("DecodeRequest(%q) accepted url %q: %v", data, req.URL, err)
		}
		out, err := json.Marshal(req)
		if err != nil {
			t.Fatalf("Marshal(decoded) error: %v", err)
		}
		again, err := DecodeRequest(bytes.NewReader(out), 1<<20)
		if err != nil {
			t.Fatalf("DecodeRequest(Marshal(DecodeRequest(%q))) = %v", data, err)
		}
		if again.Method != req.Method || again.URL != req.URL || len(again.Headers) != len(req.Headers) {
			t.Fatalf("round trip changed the request: %+v vs %+v", req, again)
		}
	})
}

// FuzzDecodeResponseRequest: arbitrary bytes never panic; the state of
// what decodes is re-encoded byte for byte.
func FuzzDecodeResponseRequest(f *testing.F) {
	addFixtureSeeds(f)
	f.Add([]byte(`{"method":"GET","url":"http://a/","response_code":200,"state":{"a" : [1, 2]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rr, err := DecodeResponseRequest(bytes.NewReader(data), 4096)
		if err != nil {
			return
		}
		if rr.ResponseCode == 0 || rr.Method == "" {
			t.Fatalf("DecodeResponseRequest(%q) accepted a call without method or response_code", data)
		}
		out, err := EncodeResponseRequest(rr)
		if err != nil {
			t.Fatalf("EncodeResponseRequest(decoded) error: %v", err)
		}
		again, err := DecodeResponseRequest(bytes.NewReader(out), 1<<20)
		if err != nil {
			t.Fatalf("round trip: %v\n%s", err, out)
		}
		if !bytes.Equal(again.State, rr.State) {
			t.Fatalf("state changed: %s vs %s", rr.State, again.State)
		}
	})
}

// FuzzDecodeResponse: arbitrary bytes never panic; what decodes has a
// usable status.
func FuzzDecodeResponse(f *testing.F) {
	addFixtureSeeds(f)
	f.Add([]byte(`{"response_code":200,"headers":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		resp, err := DecodeResponse(data)
		if err != nil {
			if !errors.Is(err, ErrMalformedReply) {
				t.Fatalf("DecodeResponse error %v does not wrap ErrMalformedReply", err)
			}
			return
		}
		if c := int(resp.ResponseCode); c < 200 || c > 599 {
			t.Fatalf("DecodeResponse(%q) accepted response_code %d", data, c)
		}
	})
}

// FuzzHeaders: the fast path of Headers.UnmarshalJSON agrees with the
// general decoder on every input it accepts.
func FuzzHeaders(f *testing.F) {
	for _, s := range []string{
		`[]`, `null`, `[{"a":"b"}]`, `[{"a":"b","c":"d"},{"a":"e"}]`, `[{"a":"b\"c"}]`,
		`[{"a":"\u00e9"}]`, `[{"a":5}]`, `[{}]`, ` [ { "a" : "b" } ] `, `[{"a":"b"}`, `[{"a":"\ud800"}]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fast, ok := parseHeaders(data, nil)
		if !ok {
			return
		}
		if !json.Valid(data) {
			t.Fatalf("parseHeaders accepted invalid JSON %q", data)
		}
		slow, err := decodeHeaders(data, nil)
		if err != nil {
			t.Fatalf("parseHeaders accepted %q, decodeHeaders says %v", data, err)
		}
		if len(fast) != len(slow) {
			t.Fatalf("parseHeaders(%q) = %q, decodeHeaders = %q", data, fast, slow)
		}
		for i := range fast {
			if fast[i] != slow[i] {
				t.Fatalf("parseHeaders(%q) = %q, decodeHeaders = %q", data, fast, slow)
			}
		}
	})
}

// FuzzHeadersMarshal: the header encoder writes what encoding/json would
// and what the decoder reads back.
func FuzzHeadersMarshal(f *testing.F) {
	for _, s := range []string{"host", "a\"b", "<x>", "é", "\x00", "\xff", "Bearer x.y.z"} {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, name, value string) {
		out, err := Headers{{Name: name, Value: value}}.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		wantName, _ := json.Marshal(name)
		wantValue, _ := json.Marshal(value)
		if want := "[{" + string(wantName) + ":" + string(wantValue) + "}]"; string(out) != want {
			t.Fatalf("MarshalJSON(%q: %q) = %s, want %s", name, value, out, want)
		}
		var back Headers
		if err := json.Unmarshal(out, &back); err != nil || len(back) != 1 {
			t.Fatalf("Unmarshal(%s) = %v, %v", out, back, err)
		}
	})
}

// FuzzReplyFast: where the reflection-free reading of a reply vouches for
// its result, encoding/json reads the same bytes to the same replyWire.
func FuzzReplyFast(f *testing.F) {
	addFixtureSeeds(f)
	for _, s := range []string{
		`{"method":"GET","url":"http://a/","headers":[]}`,
		`{"source_port":0,"method":"GET","url":"http://a/","headers":[{"a":"b"}],"state":"x"}`,
		`{"source_port":65536,"method":"GET"}`, `{"source_port":"80"}`, `{"source_port":08}`,
		`{"method":"GET","method":"POST"}`, `{"Method":"GET"}`, `{"body":null}`, `{"body":"\u00e9\n"}`,
		`{"state":{"a":[1,{"b":"}"}]},"client_certificate":{"x5c":["AA=="]}}`, `{"state":"\xff"}`,
		`{"headers":[{"a":"b","c":"d"}],"url":"http://a/"} `, `{"response":{"response_code":"403"}}`,
		`{} x`, `{"method":"GET",}`, `{"source_port":1e3}`, `{"state":{"a":1}}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var fast replyWire
		if !parseReplyFast(data, &fast) {
			return
		}
		var slow replyWire
		if err := unmarshalObject(data, &slow); err != nil {
			t.Fatalf("fast path read %q, encoding/json fails: %v", data, err)
		}
		if diff := cmp.Diff(slow, fast); diff != "" {
			t.Fatalf("fast path differs from encoding/json on %q (-json +fast):\n%s", data, diff)
		}
	})
}

// FuzzRequestFast: where the reflection-free reading vouches for a
// request-phase body, encoding/json reads the same Request from it.
func FuzzRequestFast(f *testing.F) {
	addFixtureSeeds(f)
	for _, s := range []string{
		`{"source_ip":"192.0.2.1","source_port":40000,"method":"GET","url":"http://a/","http_version":"1.1","headers":[{"host":"a"}]}`,
		`{"method":"GET","state":{"x":1}}`, `{"headers":null}`, `{"method":"GET","headers":[],"body":""}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var w replyWire
		if !parseReplyFast(data, &w) {
			return
		}
		fast, err := decodeRequest(data)
		if err != nil {
			t.Fatalf("decodeRequest(%q) failed after the fast path read it: %v", data, err)
		}
		var slow Request
		if err := unmarshalObject(data, &slow); err != nil {
			t.Fatalf("fast path read %q, encoding/json fails: %v", data, err)
		}
		if diff := cmp.Diff(&slow, fast); diff != "" {
			t.Fatalf("fast path differs from encoding/json on %q (-json +fast):\n%s", data, diff)
		}
	})
}
