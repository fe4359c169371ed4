package authorizer

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgeward/edgeward/internal/edge"
	"github.com/edgeward/edgeward/internal/sideband"
	"github.com/edgeward/edgeward/internal/sidebandtest"
	"github.com/edgeward/edgeward/internal/testkit"
)

const (
	testCredential = "gw-credential-s3cr3t-value"
	testEnvPath    = "/v1/environments/env-1"
)

// harness is an Authorizer wired to a fake sideband service through the
// real HTTP client, with captured logs, metrics and a fake clock.
type harness struct {
	srv   *sidebandtest.Server
	a     *Authorizer
	logs  *testkit.Buffer
	reg   *prometheus.Registry
	clock *testkit.Clock
}

func newHarness(t *testing.T, mod func(*Config), script ...sidebandtest.Reply) *harness {
	t.Helper()
	srv := sidebandtest.NewServer(script...)
	t.Cleanup(srv.Close)
	cfg := Config{
		ServiceURL:        URLs{srv.URL + testEnvPath},
		SecretHeaderValue: testCredential,
		Timeout:           2 * time.Second,
		Debug:             true,
	}
	if mod != nil {
		mod(&cfg)
	}
	return newHarnessWith(t, srv, cfg)
}

func newHarnessWith(t *testing.T, srv *sidebandtest.Server, cfg Config) *harness {
	t.Helper()
	h := &harness{srv: srv, logs: &testkit.Buffer{}, reg: prometheus.NewRegistry(),
		clock: testkit.NewClock(time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC))}
	d, err := NewDecider(cfg)
	if err != nil {
		t.Fatalf("NewDecider: %v", err)
	}
	t.Cleanup(d.Close)
	logger := slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h.a, err = New("authorize", cfg, d, Options{Logger: logger, Registerer: h.reg, Clock: h.clock.Now})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return h
}

// viewerRequest builds the request as the edge hands it to the function.
// hdr is name, value pairs.
func viewerRequest(method, target, body string, hdr ...string) *edge.Request {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	h := httptest.NewRequest(method, target, rd)
	for i := 0; i+1 < len(hdr); i += 2 {
		h.Header.Add(hdr[i], hdr[i+1])
	}
	scheme := "http"
	if strings.HasPrefix(target, "https:") {
		scheme = "https"
	}
	return &edge.Request{
		ID:     "req-1",
		HTTP:   h,
		Client: netip.MustParseAddrPort("203.0.113.7:51234"),
		Scheme: scheme,
		Host:   h.Host,
		Start:  time.Now(),
	}
}

// deciderFunc is an in-memory Decider.
type deciderFunc struct {
	request  func(context.Context, *sideband.Request) (*sideband.Reply, error)
	response func(context.Context, *sideband.ResponseRequest) (*sideband.Response, error)
}

func (d deciderFunc) Request(ctx context.Context, r *sideband.Request) (*sideband.Reply, error) {
	return d.request(ctx, r)
}

func (d deciderFunc) Response(ctx context.Context, r *sideband.ResponseRequest) (*sideband.Response, error) {
	return d.response(ctx, r)
}

// echoDecider allows everything unchanged, in memory.
var echoDecider = deciderFunc{
	request: func(_ context.Context, r *sideband.Request) (*sideband.Reply, error) {
		return &sideband.Reply{Request: *r}, nil
	},
	response: func(_ context.Context, r *sideband.ResponseRequest) (*sideband.Response, error) {
		return &sideband.Response{ResponseCode: r.ResponseCode, Headers: r.Headers, Body: r.Body}, nil
	},
}

func asEdgeError(err error) *edge.Error {
	e, _ := err.(*edge.Error)
	return e
}
