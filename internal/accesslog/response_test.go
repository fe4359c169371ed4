package accesslog

import (
	"net/http"
	"testing"

	"github.com/edgeward/edgeward/internal/edge"
)

// TestLog_ResponseFieldsFromRecordHeader: the content type, length and
// range fields come from the response header the edge records.
func TestLog_ResponseFieldsFromRecordHeader(t *testing.T) {
	t.Parallel()
	out := logOutput(t, LogConfig{}, func() (*edge.Request, *edge.Record) {
		r, rec := testRequest()
		rec.Status = http.StatusPartialContent
		rec.Header = http.Header{
			"Content-Type":   {"application/json"},
			"Content-Length": {"100"},
			"Content-Range":  {"bytes 0-99/1000"},
		}
		return r, rec
	})
	got := parseW3C(t, out)[0]
	want := map[string]string{"sc-content-type": "application/json", "sc-content-len": "100", "sc-range-start": "0", "sc-range-end": "99"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
}
