package sideband

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
)

func benchFixture(b *testing.B, name string) []byte {
	b.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		b.Fatal(err)
	}
	return data
}

// BenchmarkEncodeRequest is the authorize function's encode of a typical
// request-phase body.
func BenchmarkEncodeRequest(b *testing.B) {
	req, err := DecodeRequest(bytes.NewReader(benchFixture(b, "request.json")), 0)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeRequest is the decision service's decode of the same body.
func BenchmarkDecodeRequest(b *testing.B) {
	data := benchFixture(b, "request.json")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeRequest(bytes.NewReader(data), 0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeReplyAllow is the authorize function's decode of a typical
// allow (an echo with state).
func BenchmarkDecodeReplyAllow(b *testing.B) {
	data := benchFixture(b, "allow.json")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeReply(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeReplyDeny decodes a typical deny.
func BenchmarkDecodeReplyDeny(b *testing.B) {
	data := benchFixture(b, "deny.json")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeReply(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodeReplyAllow is the decision service's encode of an allow.
func BenchmarkEncodeReplyAllow(b *testing.B) {
	rep, err := DecodeReply(benchFixture(b, "allow.json"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := EncodeReply(rep); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadAllow compares, in one run, the two readings of an allow
// (and of a request-phase body, which take the same paths): the
// reflection-free fast path and encoding/json.
func BenchmarkReadAllow(b *testing.B) {
	for _, fixture := range []string{"allow.json", "request.json"} {
		data := benchFixture(b, fixture)
		b.Run(fixture+"/fast", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var w replyWire
				if !parseReplyFast(data, &w) {
					b.Fatal("fast path refused the fixture")
				}
			}
		})
		b.Run(fixture+"/encoding-json", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var w replyWire
				if err := unmarshalObject(data, &w); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkWriteAllow compares EncodeReply with json.Marshal in one run.
func BenchmarkWriteAllow(b *testing.B) {
	rep, err := DecodeReply(benchFixture(b, "allow.json"))
	if err != nil {
		b.Fatal(err)
	}
	for name, enc := range map[string]func(*Reply) ([]byte, error){
		"EncodeReply":  EncodeReply,
		"json.Marshal": func(r *Reply) ([]byte, error) { return json.Marshal(r) },
	} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := enc(rep); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
