package decisionapi

import (
	"bufio"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/edgeward/edgeward/internal/sideband"
	"github.com/edgeward/edgeward/internal/testkit"
	"github.com/edgeward/edgeward/internal/token/tokentest"
)

func TestLog_OneLinePerDecisionAndNeverAToken(t *testing.T) {
	t.Parallel()
	var sink testkit.Buffer
	log := NewLog(&sink, LogOptions{})
	f := newFixture(t, Options{Log: log})
	good := f.token(nil)
	bad := f.token(map[string]any{"aud": "https://other"})
	local := NewLocal(f.svc)
	for _, req := range []*sideband.Request{
		ordersRequest("GET", "https://api.example.com/orders/7?access_token="+good, "authorization", "Bearer "+good, "x-request-id", "r-allow"),
		ordersRequest("GET", "https://api.example.com/orders/7", "authorization", "Bearer "+bad, "x-request-id", "r-deny"),
		ordersRequest("GET", "https://api.example.com/orders/7", "authorization", "Bearer "+good+"x"),
		ordersRequest("GET", "https://nowhere.example/"),
	} {
		if _, err := local.Request(t.Context(), req); err != nil {
			t.Fatal(err)
		}
	}
	w := post(f.svc.Handler(), "/sideband/request", `{"source_ip":"192.0.2.1","method":"GET","url":"https://api.example.com/orders","headers":[{"authorization":"Bearer `+good+`"}]}`, "CLIENT-TOKEN", cred2)
	if w.Code != 200 {
		t.Fatalf("handler: %d %s", w.Code, w.Body)
	}
	log.Close()
	out := sink.String()
	for _, secret := range []string{good, bad, strings.Split(good, ".")[1], cred1, cred2} {
		if strings.Contains(out, secret) {
			t.Fatalf("decision log holds a token or credential:\n%s", out)
		}
	}
	type line struct {
		Time      time.Time `json:"time"`
		RequestID string    `json:"request_id"`
		Gateway   string    `json:"gateway"`
		Service   string    `json:"service"`
		Operation string    `json:"operation"`
		Method    string    `json:"method"`
		Path      string    `json:"path"`
		Subject   string    `json:"subject"`
		Decision  string    `json:"decision"`
		Status    int       `json:"status"`
		Reason    string    `json:"reason"`
		Latency   *float64  `json:"latency_ms"`
	}
	var got []line
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var l line
		dec := json.NewDecoder(strings.NewReader(sc.Text()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&l); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		if l.Time.IsZero() || l.Latency == nil || l.RequestID == "" {
			t.Errorf("log line %q lacks time, latency or request id", sc.Text())
		}
		l.Time, l.Latency = time.Time{}, nil
		if l.RequestID != "r-allow" && l.RequestID != "r-deny" {
			l.RequestID = "generated"
		}
		got = append(got, l)
	}
	want := []line{
		{RequestID: "r-allow", Gateway: "embedded", Service: "Orders API", Operation: "Read orders", Method: "GET", Path: "/orders/7", Subject: "alice", Decision: "allow", Status: 200, Reason: "allowed"},
		{RequestID: "r-deny", Gateway: "embedded", Service: "Orders API", Operation: "Read orders", Method: "GET", Path: "/orders/7", Decision: "deny", Status: 401, Reason: "token_invalid"},
		{RequestID: "generated", Gateway: "embedded", Service: "Orders API", Operation: "Read orders", Method: "GET", Path: "/orders/7", Decision: "deny", Status: 401, Reason: "token_invalid"},
		{RequestID: "generated", Gateway: "embedded", Method: "GET", Path: "/", Decision: "deny", Status: 404, Reason: "no_service"},
		{RequestID: "generated", Gateway: "credential-1", Service: "Orders API", Operation: "Read orders", Method: "GET", Path: "/orders", Subject: "alice", Decision: "allow", Status: 200, Reason: "allowed"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("decision log (-want +got):\n%s", diff)
	}
}

func TestLog_DenyBodyAndLogShareTheGeneratedID(t *testing.T) {
	t.Parallel()
	var sink testkit.Buffer
	log := NewLog(&sink, LogOptions{})
	f := newFixture(t, Options{Log: log})
	rep, _ := NewLocal(f.svc).Request(t.Context(), ordersRequest("GET", "https://nowhere.example/"))
	log.Close()
	var body struct {
		RequestID string `json:"request_id"`
	}
	_ = json.Unmarshal([]byte(*rep.Response.Body), &body)
	if body.RequestID == "" || !strings.Contains(sink.String(), `"request_id":"`+body.RequestID+`"`) {
		t.Errorf("deny request_id %q not in the log:\n%s", body.RequestID, sink.String())
	}
}

// blockingSink holds every Write until released.
type blockingSink struct {
	testkit.Buffer
	release chan struct{}
	entered chan struct{}
}

func (b *blockingSink) Write(p []byte) (int, error) {
	select {
	case b.entered <- struct{}{}:
	default:
	}
	<-b.release
	return b.Buffer.Write(p)
}

func TestLog_FullBufferDropsAndNeverBlocks(t *testing.T) {
	t.Parallel()
	sink := &blockingSink{release: make(chan struct{}), entered: make(chan struct{}, 1)}
	reg := prometheus.NewRegistry()
	log := NewLog(sink, LogOptions{Buffer: 4, Registerer: reg})
	f := newFixture(t, Options{Log: log})
	local := NewLocal(f.svc)
	req := ordersRequest("GET", "https://nowhere.example/")
	if _, err := local.Request(t.Context(), req); err != nil {
		t.Fatal(err)
	}
	<-sink.entered // the writer holds one line in a blocked Write
	const n = 50
	for range n {
		if _, err := local.Request(t.Context(), req); err != nil {
			t.Fatal(err)
		}
	}
	dropped := log.Dropped()
	if dropped < n-4 {
		t.Errorf("Dropped() = %d with a blocked sink and a buffer of 4, want at least %d", dropped, n-4)
	}
	if got := counterValue(t, log.drops); got != float64(dropped) {
		t.Errorf("dropped metric = %v, want %d", got, dropped)
	}
	close(sink.release)
	log.Close()
	lines := strings.Count(sink.String(), "\n")
	if uint64(lines)+dropped != n+1 {
		t.Errorf("lines %d + dropped %d = %d, want %d decisions", lines, dropped, uint64(lines)+dropped, n+1)
	}
}

func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

func TestService_CloseWritesOutTheLog(t *testing.T) {
	t.Parallel()
	var sink testkit.Buffer
	iss := tokentest.NewIssuer(t)
	svc := NewService(newEngine(t, ordersYAML(iss)), Options{Log: NewLog(&sink, LogOptions{})})
	if _, err := NewLocal(svc).Request(t.Context(), ordersRequest("GET", "https://nowhere.example/")); err != nil {
		t.Fatal(err)
	}
	svc.Close()
	if n := strings.Count(sink.String(), "\n"); n != 1 {
		t.Errorf("after Close the log holds %d lines, want 1", n)
	}
}
