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
