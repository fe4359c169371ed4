package app_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/edgeward/edgeward/internal/app"
	"github.com/edgeward/edgeward/internal/config"
	"github.com/edgeward/edgeward/internal/origintest"
	"github.com/edgeward/edgeward/internal/token/tokentest"
	"github.com/edgeward/edgeward/internal/tracing"
)

// The trace id and parent span a trusted proxy sends.
const (
	proxyTraceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	proxySpanID  = "00f067aa0ba902b7"
)

// TestTracing_OneSpanPerStageAndTheContextGoesAlong runs an edge with a
// standalone decision service and an in-memory span exporter, and checks
// the spans of an allowed miss, an allowed hit and a deny, their parents
// and attributes; that the origin and the decision service get the trace
// context; that the access log and the decision log carry the trace id;
// and that only a trusted proxy's traceparent is believed.
func TestTracing_OneSpanPerStageAndTheContextGoesAlong(t *testing.T) {
	iss := tokentest.NewIssuer(t)
	read := iss.Mint(map[string]any{"sub": "alice", "aud": "https://api.example.com", "scope": "orders:read"})
	org := origintest.New(t)
	org.HandleDefault(origintest.Reply{Header: http.Header{"Cache-Control": {"public, max-age=60"}}, Body: []byte(`{}`)})
	dir := t.TempDir()
	accessLog, decisionLog := filepath.Join(dir, "access.log"), filepath.Join(dir, "decision.log")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	edgeLn := listen(t)
	dln := listen(t)
	df, err := config.ParseDecision("decision.yaml", []byte(fmt.Sprintf("admin: off\ndecision:%s  decision_log: {path: %q}\n",
		sprintfModel(iss, edgeLn.Addr().String()), decisionLog)), lookup)
	if err != nil {
		t.Fatal(err)
	}
	d, err := app.NewDecision(ctx, "decision.yaml", df, app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ddone := make(chan error, 1)
	go func() { ddone <- d.Serve(ctx, dln) }()

	f, err := config.ParseEdge("edgeward.yaml", []byte(fmt.Sprintf(`
admin: off
trusted_proxies: [127.0.0.2]
origins:
  orders: {url: "http://%s/prod"}
behaviors:
  - path_pattern: "/orders/*"
    origin: orders
    viewer_request: authorize
    cache: {default_ttl: 60s}
  - path_pattern: "*"
    origin: orders
    viewer_request: authorize
functions:
  authorize:
    service_url: http://%s
    secret_header_value: ${CRED}
logging: {access_log: {path: %q}}
tracing: {endpoint: "http://127.0.0.1:1"} # the provider below replaces the exporter
`, org.Addr(), dln.Addr(), accessLog)), lookup)
	if err != nil {
		t.Fatal(err)
	}
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	e, err := app.NewEdge(ctx, "edgeward.yaml", f, app.Options{Tracing: &tracing.Provider{TracerProvider: tp}})
	if err != nil {
		t.Fatal(err)
	}
	edone := make(chan error, 1)
	go func() { edone <- e.Serve(ctx, edgeLn) }()
	base := "http://" + edgeLn.Addr().String()

	proxy := clientFrom(t, "127.0.0.2")
	stranger := clientFrom(t, "127.0.0.1")
	traceparent := "00-" + proxyTraceID + "-" + proxySpanID + "-01"
	send := func(c *http.Client, path, token string) string {
		t.Helper()
		req, _ := http.NewRequest("GET", base+path, nil)
		req.Header.Set("Traceparent", traceparent)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.Header.Get("X-Request-Id")
	}
	missID := send(proxy, "/orders/1", read)
	originHeader := org.Last().Header.Clone()
	hitID := send(proxy, "/orders/1", read)
	denyID := send(proxy, "/orders/2", "")
	strangerID := send(stranger, "/orders/3", read)
	strangerOrigin := org.Last().Header.Clone()

	// Stopping drains every request: all spans have ended, logs are flushed.
	cancel()
	<-edone
	<-ddone

	spans := exp.GetSpans()
	byRequest := map[string][]tracetest.SpanStub{} // request id -> its spans
	roots := map[string]tracetest.SpanStub{}
	for _, s := range spans {
		if s.Name == "viewer request" {
			id := attr(s, "edgeward.request_id")
			roots[s.SpanContext.TraceID().String()+"/"+id] = s
			byRequest[id] = append(byRequest[id], s)
		}
	}
	childrenOf := func(parent tracetest.SpanStub) map[string]tracetest.SpanStub {
		out := map[string]tracetest.SpanStub{}
		for _, s := range spans {
			if s.Parent.SpanID() == parent.SpanContext.SpanID() && s.Parent.TraceID() == parent.SpanContext.TraceID() {
				out[s.Name] = s
			}
		}
		return out
	}
	root := func(id string) tracetest.SpanStub {
		t.Helper()
		if len(byRequest[id]) != 1 {
			t.Fatalf("request %s has %d viewer request spans, want 1 (spans: %v)", id, len(byRequest[id]), names(spans))
		}
		return byRequest[id][0]
	}

	t.Run("allowed miss", func(t *testing.T) {
		r := root(missID)
		if got := r.SpanContext.TraceID().String(); got != proxyTraceID {
			t.Errorf("trace id = %s, want the trusted proxy's %s", got, proxyTraceID)
		}
		if got := r.Parent.SpanID().String(); got != proxySpanID || !r.Parent.IsRemote() {
			t.Errorf("viewer request parent = %s (remote %v), want the proxy's span %s", got, r.Parent.IsRemote(), proxySpanID)
		}
		wantAttrs(t, r, map[string]string{"http.response.status_code": "200", "edgeward.result": "Miss", "edgeward.behavior": "/orders/*", "url.path": "/orders/1"})
		kids := childrenOf(r)
		wantAttrs(t, kids["viewer-request function"], map[string]string{"edgeward.decision": "allow", "edgeward.function": "authorize"})
		wantAttrs(t, kids["cache"], map[string]string{"edgeward.cache.result": "Miss"})
		o := childrenOf(kids["cache"])["origin request"]
		wantAttrs(t, o, map[string]string{"http.response.status_code": "200", "edgeward.origin": "orders"})
		want := "00-" + proxyTraceID + "-" + o.SpanContext.SpanID().String() + "-01"
		if got := originHeader.Get("Traceparent"); got != want {
			t.Errorf("origin got traceparent %q, want the origin request span's %q", got, want)
		}
	})
	t.Run("allowed hit", func(t *testing.T) {
		kids := childrenOf(root(hitID))
		wantAttrs(t, kids["cache"], map[string]string{"edgeward.cache.result": "Hit"})
		if _, ok := childrenOf(kids["cache"])["origin request"]; ok {
			t.Error("a hit has an origin request span")
		}
	})
	t.Run("deny", func(t *testing.T) {
		r := root(denyID)
		kids := childrenOf(r)
		wantAttrs(t, kids["viewer-request function"], map[string]string{"edgeward.decision": "deny", "http.response.status_code": "401"})
		if _, ok := kids["cache"]; ok {
			t.Error("a denied request has a cache span")
		}
		wantAttrs(t, r, map[string]string{"edgeward.result": "FunctionGeneratedResponse", "http.response.status_code": "401"})
	})
	t.Run("an untrusted traceparent is not believed", func(t *testing.T) {
		r := root(strangerID)
		if r.SpanContext.TraceID().String() == proxyTraceID || r.Parent.IsValid() {
			t.Errorf("a stranger's traceparent was used: trace %s parent %v", r.SpanContext.TraceID(), r.Parent.SpanID())
		}
		if got := strangerOrigin.Get("Traceparent"); !strings.Contains(got, r.SpanContext.TraceID().String()) {
			t.Errorf("origin got traceparent %q, want the edge's trace %s", got, r.SpanContext.TraceID())
		}
	})
	t.Run("logs carry the trace id", func(t *testing.T) {
		access, err := os.ReadFile(accessLog)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(access), "x-trace-id") || !lineHas(string(access), missID, "\t"+proxyTraceID+"\n") {
			t.Errorf("access log has no x-trace-id %s for %s:\n%s", proxyTraceID, missID, access)
		}
		decisions, err := os.ReadFile(decisionLog)
		if err != nil {
			t.Fatal(err)
		}
		if !lineHas(string(decisions), missID, `"trace_id":"`+proxyTraceID+`"`) {
			t.Errorf("decision log has no trace_id %s for %s:\n%s", proxyTraceID, missID, decisions)
		}
	})
}

// clientFrom is an HTTP client whose connections come from the loopback
// address ip.
func clientFrom(t *testing.T, ip string) *http.Client {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	tr := &http.Transport{DialContext: d.DialContext}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

func attr(s tracetest.SpanStub, key string) string {
	for _, a := range s.Attributes {
		if string(a.Key) == key {
			return a.Value.String()
		}
	}
	return ""
}

func wantAttrs(t *testing.T, s tracetest.SpanStub, want map[string]string) {
	t.Helper()
	if s.Name == "" {
		t.Errorf("span missing; want one with %v", want)
		return
	}
	for k, v := range want {
		if got := attr(s, k); got != v {
			t.Errorf("span %q: %s = %q, want %q (attributes: %v)", s.Name, k, got, v, s.Attributes)
		}
	}
}

func names(spans tracetest.SpanStubs) []string {
	var out []string
	for _, s := range spans {
		out = append(out, s.Name+"/"+attr(s, "edgeward.request_id"))
	}
	return out
}

func lineHas(text, id, want string) bool {
	for l := range strings.SplitSeq(text, "\n") {
		if strings.Contains(l, id) && strings.Contains(l+"\n", want) {
			return true
		}
	}
	return false
}
