package accesslog

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/edgeward/edgeward/internal/edge"
	"github.com/edgeward/edgeward/internal/testkit"
)

// TestLog_TraceIDField: with Options.TraceID the log has a 34th field,
// x-trace-id, named in the #Fields line, "-" for a request not traced; the
// json format has the same key.
func TestLog_TraceIDField(t *testing.T) {
	t.Parallel()
	const id = "4bf92f3577b34da6a3ce929d0e0e4736"
	traced := func() (*edge.Request, *edge.Record) {
		r, rec := testRequest()
		r.TraceID = id
		return r, rec
	}
	for _, format := range []string{FormatCloudFront, FormatJSON} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			var buf testkit.Buffer
			l, err := New(LogConfig{Format: format}, Options{Writer: &buf, TraceID: true})
			if err != nil {
				t.Fatal(err)
			}
			l.Log(traced())
			l.Log(testRequest())
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
			if format == FormatCloudFront {
				if !strings.HasSuffix(lines[1], " sc-range-end x-trace-id") {
					t.Fatalf("#Fields line = %q, want x-trace-id last", lines[1])
				}
				for i, want := range []string{id, "-"} {
					f := strings.Split(lines[2+i], "\t")
					if len(f) != 34 || f[33] != want {
						t.Errorf("record %d has %d fields, last %q; want 34, last %q", i, len(f), f[len(f)-1], want)
					}
				}
				return
			}
			var rec map[string]any
			if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil {
				t.Fatal(err)
			}
			if rec["x-trace-id"] != id {
				t.Errorf("x-trace-id = %v, want %s", rec["x-trace-id"], id)
			}
		})
	}
}
