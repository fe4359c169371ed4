package httpcache

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// interimRecorder records the informational responses written to it,
// with the header fields present when each was written.
type interimRecorder struct {
	*httptest.ResponseRecorder
	interim []int
	links   []string
}

func (r *interimRecorder) WriteHeader(code int) {
	if code < 200 {
		r.interim = append(r.interim, code)
		r.links = append(r.links, r.Header().Get("Link"))
		return
	}
	r.ResponseRecorder.WriteHeader(code)
}

// TestInterimResponsesRelayed pins that 102 and 103 reach the viewer on a
// behavior with a cache, as on one without (RFC 9110 15.2), with their
// own fields, which do not leak into the final response; and that a hit
// has none.
func TestInterimResponsesRelayed(t *testing.T) {
	t.Parallel()
	_, c, clock := newCache(t, honest(), StoreConfig{})
	o := newOrigin(t, clock, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</style.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		w.Header().Del("Link")
		w.WriteHeader(http.StatusProcessing)
		w.Header().Set("Cache-Control", "max-age=60")
		w.Write([]byte("final"))
	})
	for _, tc := range []struct {
		name    string
		want    []int
		result  string
		headers []string
	}{
		{"miss relays 103 and 102", []int{103, 102}, "Miss", nil},
		{"hit has none", nil, "Hit", nil},
	} {
		rec := &interimRecorder{ResponseRecorder: httptest.NewRecorder()}
		r := request("GET", "/early")
		if err := c.Serve(rec, r, o); err != nil {
			t.Fatalf("%s: Serve = %v", tc.name, err)
		}
		if len(rec.interim) != len(tc.want) {
			t.Fatalf("%s: interim = %v, want %v", tc.name, rec.interim, tc.want)
		}
		for i := range tc.want {
			if rec.interim[i] != tc.want[i] {
				t.Errorf("%s: interim = %v, want %v", tc.name, rec.interim, tc.want)
			}
		}
		if tc.want != nil && rec.links[0] != "</style.css>; rel=preload" {
			t.Errorf("%s: 103 Link = %q, want the origin's", tc.name, rec.links[0])
		}
		if got := rec.Header().Get("Link"); got != "" {
			t.Errorf("%s: final response has the 103's Link %q", tc.name, got)
		}
		if string(r.Result) != tc.result || rec.Body.String() != "final" {
			t.Errorf("%s: Result %s body %q, want %s final", tc.name, r.Result, rec.Body.String(), tc.result)
		}
	}
}
