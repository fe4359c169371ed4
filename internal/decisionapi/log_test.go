package decisionapi

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/edgeward/edgeward/internal/accesslog"
	"github.com/edgeward/edgeward/internal/sideband"
	"github.com/edgeward/edgeward/internal/testkit"
	"github.com/edgeward/edgeward/internal/token/tokentest"
)

// newLog is a decision log writing through an access-log sink into w, as
// the app builds it.
func newLog(t *testing.T, w io.Writer, reg prometheus.Registerer) *Log {
	t.Helper()
	sink, err := accesslog.NewSink(accesslog.SinkConfig{}, accesslog.Options{Writer: w, Name: "decision"})
	if err != nil {
		t.Fatal(err)
	}
	return NewLog(sink, LogOptions{Registerer: reg})
}

func TestLog_OneLinePerDecisionAndNeverAToken(t *testing.T) {
	t.Parallel()
	var sink testkit.Buffer
	log := newLog(t, &sink, nil)
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
	log := newLog(t, &sink, nil)
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

// refusingSink is a LineSink whose queue is full: it drops every line.
type refusingSink struct{ offered atomic.Int64 }

func (r *refusingSink) WriteLine([]byte) bool { r.offered.Add(1); return false }
func (r *refusingSink) Close() error          { return nil }

func TestLog_FullSinkDropsAndCounts(t *testing.T) {
	t.Parallel()
	sink := &refusingSink{}
	reg := prometheus.NewRegistry()
	log := NewLog(sink, LogOptions{Registerer: reg})
	f := newFixture(t, Options{Log: log})
	local := NewLocal(f.svc)
	const n = 5
	for range n {
		if _, err := local.Request(t.Context(), ordersRequest("GET", "https://nowhere.example/")); err != nil {
			t.Fatal(err)
		}
	}
	if got := log.Dropped(); got != n || sink.offered.Load() != n {
		t.Errorf("Dropped() = %d of %d lines offered, want %d", got, sink.offered.Load(), n)
	}
	if got := counterValue(t, log.drops); got != n {
		t.Errorf("dropped metric = %v, want %d", got, n)
	}
	if err := log.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := local.Request(t.Context(), ordersRequest("GET", "https://nowhere.example/")); err != nil {
		t.Fatal(err)
	}
	if sink.offered.Load() != n || log.Dropped() != n+1 {
		t.Errorf("after Close: %d lines offered, %d dropped; want %d and %d", sink.offered.Load(), log.Dropped(), n, n+1)
	}
}

// TestLog_CloseFlushesARotatingFile pins that the decision log goes
// through the access log's file sink: buffered lines reach the file on
// Close, and the file rotates at its max size.
func TestLog_CloseFlushesARotatingFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "decisions.log")
	sink, err := accesslog.NewSink(accesslog.SinkConfig{Path: path, MaxSize: 600, MaxBackups: 2}, accesslog.Options{Name: "decision"})
	if err != nil {
		t.Fatal(err)
	}
	log := NewLog(sink, LogOptions{})
	f := newFixture(t, Options{Log: log})
	local := NewLocal(f.svc)
	const n = 10
	for range n {
		if _, err := local.Request(t.Context(), ordersRequest("GET", "https://nowhere.example/")); err != nil {
			t.Fatal(err)
		}
	}
	if err := log.Close(); err != nil {
		t.Fatal(err)
	}
	if err := log.Close(); err != nil {
		t.Fatalf("second Close = %v, want nil", err)
	}
	lines := 0
	for _, p := range []string{path, path + ".1", path + ".2"} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatalf("read %s: %v (want the file and two rotated backups)", p, err)
		}
		for l := range strings.SplitSeq(strings.TrimSuffix(string(b), "\n"), "\n") {
			var v map[string]any
			if err := json.Unmarshal([]byte(l), &v); err != nil {
				t.Fatalf("%s: line %q is not JSON: %v", p, l, err)
			}
			lines++
		}
	}
	if lines+int(log.Dropped()) > n || lines < 3 {
		t.Errorf("%d lines in the files, %d dropped, of %d decisions", lines, log.Dropped(), n)
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
	svc := NewService(newEngine(t, ordersYAML(iss)), Options{Log: newLog(t, &sink, nil)})
	if _, err := NewLocal(svc).Request(t.Context(), ordersRequest("GET", "https://nowhere.example/")); err != nil {
		t.Fatal(err)
	}
	svc.Close()
	if n := strings.Count(sink.String(), "\n"); n != 1 {
		t.Errorf("after Close the log holds %d lines, want 1", n)
	}
}
