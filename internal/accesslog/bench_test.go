package accesslog

import (
	"io"
	"testing"

	"github.com/edgeward/edgeward/internal/edge"
)

func benchRequest() (*edge.Request, *edge.Record) {
	r, rec := testRequest()
	r.HTTP.Header.Set("User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36")
	r.HTTP.Header.Set("Referer", "https://app.example.com/orders")
	return r, rec
}

// BenchmarkLog measures the request-path cost of one access-log line:
// formatting into a pooled buffer and queueing it.
func BenchmarkLog(b *testing.B) {
	for _, format := range []string{FormatCloudFront, FormatJSON} {
		b.Run(format, func(b *testing.B) {
			l, err := New(LogConfig{Format: format, SinkConfig: SinkConfig{Buffer: 1 << 16}}, Options{Writer: io.Discard})
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			r, rec := benchRequest()
			b.ReportAllocs()
			for b.Loop() {
				l.Log(r, rec)
			}
		})
	}
}

// BenchmarkAppendLine measures formatting alone.
func BenchmarkAppendLine(b *testing.B) {
	for _, format := range []string{FormatCloudFront, FormatJSON} {
		b.Run(format, func(b *testing.B) {
			l := &Log{location: DefaultLocation, json: format == FormatJSON, redact: []string{"access_token"}}
			r, rec := benchRequest()
			buf := make([]byte, 0, 1024)
			b.ReportAllocs()
			for b.Loop() {
				buf = l.appendLine(buf[:0], r, rec)
			}
			b.SetBytes(int64(len(buf)))
		})
	}
}

// BenchmarkSinkWriteLine measures queueing a copy of a line.
func BenchmarkSinkWriteLine(b *testing.B) {
	s, err := NewSink(SinkConfig{Buffer: 1 << 16}, Options{Writer: io.Discard})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	line := make([]byte, 400)
	b.ReportAllocs()
	for b.Loop() {
		s.WriteLine(line)
	}
}
