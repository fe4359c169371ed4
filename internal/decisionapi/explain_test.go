package decisionapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgeward/edgeward/internal/testkit"
)

func TestExplain_ReturnsDecisionAndTrace(t *testing.T) {
	t.Parallel()
	var sink testkit.Buffer
	log := newLog(t, &sink, nil)
	f := newFixture(t, Options{Log: log})
	tok := f.token(map[string]any{"scope": "orders:write", "groups": []string{"staff"}, "tenant": "t1"})
	body := `{"source_ip":"192.0.2.1","method":"PATCH","url":"https://api.example.com/orders/7/lines/2",
		"headers":[{"authorization":"Bearer ` + tok + `"},{"x-tenant":"t1"}]}`
	w := post(f.svc.ExplainHandler(), ExplainPath, body)
	if w.Code != 200 {
		t.Fatalf("explain: %d %s", w.Code, w.Body)
	}
	var got struct {
		Explanation
		Reply map[string]json.RawMessage `json:"reply"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Decision != "deny" || got.Status != 403 || got.Reason != "groups" || got.Service != "Orders API" || got.Operation != "Change orders" || got.Subject != "alice" {
		t.Errorf("explain = %s %d %s %q %q %q, want deny 403 groups for alice on Change orders",
			got.Decision, got.Status, got.Reason, got.Service, got.Operation, got.Subject)
	}
	if _, ok := got.Reply["response"]; !ok {
		t.Errorf("explain reply %v lacks the deny response", got.Reply)
	}
	var steps []string
	for _, s := range got.Explanation.Trace {
		steps = append(steps, s.Step+":"+s.Outcome)
	}
	want := []string{"path:canonical", "service:matched", "operation:matched", "token:valid", "scopes:passed", "groups:failed", "decision:deny"}
	if diff := cmp.Diff(want, steps); diff != "" {
		t.Errorf("trace (-want +got):\n%s", diff)
	}
	if strings.Contains(w.Body.String(), tok) {
		t.Error("explain answer carries the token")
	}
	log.Close()
	if sink.String() != "" {
		t.Errorf("explain wrote to the decision log: %s", sink.String())
	}
}

func TestExplain_RejectsWhatTheSidebandRejects(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	if w := post(f.svc.ExplainHandler(), ExplainPath, `{"method":"GET"}`); w.Code != 400 || !strings.Contains(w.Body.String(), "url: required") {
		t.Errorf("explain without url: %d %s, want 400 naming url", w.Code, w.Body)
	}
	w := httptest.NewRecorder()
	f.svc.ExplainHandler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, ExplainPath, nil))
	if w.Code != 405 {
		t.Errorf("explain GET: %d, want 405", w.Code)
	}
}

func TestMetrics_CountDecisionsByResult(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	f := newFixture(t, Options{Registerer: reg})
	local := NewLocal(f.svc)
	tok := f.token(nil)
	for range 3 {
		_, _ = local.Request(t.Context(), ordersRequest("GET", "https://api.example.com/orders", "authorization", "Bearer "+tok))
	}
	_, _ = local.Request(t.Context(), ordersRequest("GET", "https://api.example.com/orders"))
	post(f.svc.Handler(), "/sideband/request", `{}`, "CLIENT-TOKEN", "wrong")
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			key := mf.GetName()
			for _, l := range m.GetLabel() {
				key += " " + l.GetName() + "=" + l.GetValue()
			}
			switch {
			case m.GetCounter() != nil:
				got[key] = m.GetCounter().GetValue()
			case m.GetHistogram() != nil:
				got[key] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	want := map[string]float64{
		"edgeward_decisions_total operation=Read orders reason=allowed result=allow service=Orders API":      3,
		"edgeward_decisions_total operation=Read orders reason=token_missing result=deny service=Orders API": 1,
		"edgeward_decision_duration_seconds door=embedded":                                                   4,
		"edgeward_sideband_errors_total status=401":                                                          1,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v (all: %v)", k, got[k], v, got)
		}
	}
}
