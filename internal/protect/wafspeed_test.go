package protect

import (
	"io"
	"net/http"
	"slices"
	"testing"

	coreruleset "github.com/corazawaf/coraza-coreruleset/v4"
	"github.com/corazawaf/coraza/v3"
)

// TestWAF_TuningMatchesTheSameRules feeds the attack sample in every
// location, the benign set and the benchmark's request to the CRS with
// and without the tuning of wafspeed.go: the same rules must match, not
// only the same verdict, so that a tuning that drops a single match (and
// so lowers an anomaly score) fails here.
func TestWAF_TuningMatchesTheSameRules(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles the CRS twice")
	}
	cfg := SetConfig{WAF: WAFConfig{Mode: ModeBlock}}
	cfg.Defaults()
	compile := func(d string) coraza.WAF {
		w, err := coraza.NewWAF(coraza.NewWAFConfig().WithRootFS(coreruleset.FS).WithDirectives(d))
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	stock, tuned := compile(crsDirectives(cfg.WAF, false)), compile(directives(cfg.WAF))

	type sample struct {
		name string
		r    func() *http.Request
	}
	var samples []sample
	for class, payloads := range attacks {
		for loc, mk := range locations {
			for _, p := range payloads {
				samples = append(samples, sample{class + " in " + loc + ": " + p, func() *http.Request { return mk(p) }})
			}
		}
	}
	for i := range benign() {
		samples = append(samples, sample{"benign " + benign()[i].URL.String(), func() *http.Request { return benign()[i] }})
	}
	samples = append(samples, sample{"benchmark request", func() *http.Request {
		r, _ := http.NewRequest("GET", "http://api.example/orders?status=shipped&page=2", nil)
		r.Header.Set("Authorization", "Bearer "+benchToken)
		return r
	}})
	matched := 0
	for _, s := range samples {
		want, got := matchedIDs(t, stock, s.r()), matchedIDs(t, tuned, s.r())
		if !slices.Equal(got, want) {
			t.Errorf("%s: tuned CRS matched %v, the plain CRS %v", s.name, got, want)
		}
		if len(want) > 0 {
			matched++
		}
	}
	if matched < len(samples)/2 {
		t.Fatalf("only %d of %d samples matched any rule: the comparison proves nothing", matched, len(samples))
	}
}

// matchedIDs runs r through w's request phases and returns the ids of the
// rules that matched, in order.
func matchedIDs(t *testing.T, w coraza.WAF, r *http.Request) []int {
	t.Helper()
	tx := w.NewTransaction()
	defer tx.Close()
	tx.ProcessConnection("192.0.2.10", 40000, "", 0)
	tx.ProcessURI(r.URL.RequestURI(), r.Method, "HTTP/1.1")
	for k, vv := range r.Header {
		for _, v := range vv {
			tx.AddRequestHeader(k, v)
		}
	}
	tx.AddRequestHeader("Host", "api.example")
	if it := tx.ProcessRequestHeaders(); it == nil && r.Body != nil {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := tx.WriteRequestBody(body); err != nil {
			t.Fatal(err)
		}
	}
	if tx.Interruption() == nil {
		if _, err := tx.ProcessRequestBody(); err != nil {
			t.Fatal(err)
		}
	}
	var ids []int
	for _, m := range tx.MatchedRules() {
		ids = append(ids, m.Rule().ID())
	}
	return ids
}
