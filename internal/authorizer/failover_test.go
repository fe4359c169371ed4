package authorizer

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/edgeward/edgeward/internal/sidebandtest"
	"github.com/edgeward/edgeward/internal/testkit"
)

// TestAuthorize_FailoverStaysInsideMaxRetries: with a failing service
// listed first, a retry (max_retries: 1) reaches the other service; with
// max_retries: 0 nothing retries, and a decision whose one attempt went
// to the failing service is 502. A 4xx is never retried elsewhere.
func TestAuthorize_FailoverStaysInsideMaxRetries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		retries   int
		bad       sidebandtest.Reply
		wantCalls int // calls the good service gets for 4 decisions
		wantFail  bool
	}{
		{"5xx fails over", 1, sidebandtest.Error(503, "UNAVAILABLE", "down"), 4, false},
		{"dropped connection fails over", 1, sidebandtest.Reply{Close: true}, 4, false},
		{"no retries, no failover", 0, sidebandtest.Error(503, "UNAVAILABLE", "down"), 2, true},
		{"4xx is an answer", 1, sidebandtest.Error(401, "INVALID_TOKEN", "The Gateway Token is invalid"), 2, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			bad := sidebandtest.NewServer()
			bad.SetFallback(tt.bad)
			defer bad.Close()
			good := sidebandtest.NewServer()
			good.SetFallback(sidebandtest.Allow(nil))
			defer good.Close()
			retries := tt.retries
			cfg := Config{
				ServiceURL:        URLs{bad.URL, good.URL},
				SecretHeaderValue: testCredential,
				MaxRetries:        &retries,
				Timeout:           2 * time.Second,
				HealthCheck:       HealthCheck{UnhealthyAfter: 100, Interval: 10 * time.Minute}, // keep both in rotation
				Breaker:           Breaker{Failures: 100},
			}
			h := newHarnessWith(t, bad, cfg)
			failed := false
			for range 4 {
				_, err := h.a.ViewerRequest(context.Background(), viewerRequest("GET", "https://api.example.com/o", ""))
				if e := asEdgeError(err); e != nil {
					if e.Status != http.StatusBadGateway {
						t.Errorf("error = %v, want 502", err)
					}
					failed = true
				}
			}
			if failed != tt.wantFail {
				t.Errorf("some decision failed = %v, want %v", failed, tt.wantFail)
			}
			if got := len(good.Calls()); got != tt.wantCalls {
				t.Errorf("calls to the good service = %d, want %d", got, tt.wantCalls)
			}
			if got := len(bad.Calls()) + len(good.Calls()); got > 4*(tt.retries+1) {
				t.Errorf("attempts = %d, more than max_retries allows (%d)", got, 4*(tt.retries+1))
			}
		})
	}
}

func TestConfig_ServiceURLIsOneOrAList(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		src     string
		want    URLs
		wantErr string
	}{
		{"one", "service_url: https://a.example\nsecret_header_value: x\n", URLs{"https://a.example"}, ""},
		{"list", "service_url: [https://a.example, https://b.example/v1]\nsecret_header_value: x\n", URLs{"https://a.example", "https://b.example/v1"}, ""},
		{"map", "service_url: {a: b}\n", nil, "want a URL or a list of URLs"},
		{"embedded in a list", "service_url: [embedded, https://a.example]\nsecret_header_value: x\n", nil, `service_url[0]: "embedded" cannot be one of several`},
		{"bad second", "service_url: [https://a.example, ftp://b]\nsecret_header_value: x\n", nil, "service_url[1]: want an http or https URL"},
		{"twice", "service_url: [https://a.example, https://a.example/]\nsecret_header_value: x\n", nil, "service_url[1]: \"https://a.example/\" is listed twice"},
		{"bad protocol", "service_url: https://a.example\nsecret_header_value: x\npool: {protocol: spdy}\n", nil, `pool.protocol: want auto, h2c or http1, got "spdy"`},
		{"cache keys", "service_url: https://a.example\nsecret_header_value: x\ndecision_cache: {enabled: true, allow_ttl: 10s, deny_ttl: 0s, max_bytes: 1MiB, coalesce: false}\n", URLs{"https://a.example"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := decodeYAML(t, tt.src)
			if err == nil {
				c.Defaults()
				err = c.Validate()
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("decode and validate: %v", err)
				}
				if !cmp.Equal(c.ServiceURL, tt.want) {
					t.Errorf("ServiceURL = %v, want %v", c.ServiceURL, tt.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error = %v, want one with %q", err, tt.wantErr)
			}
		})
	}
}

// A pooled connection the service dropped while it sat idle is not a
// failed attempt: with max_retries 0 the decision still comes (the
// sideband client sends it again on a new connection, once), and only one
// attempt is counted per decision.
func TestAuthorize_StalePooledConnectionIsNotADeny(t *testing.T) {
	t.Parallel()
	allow := sidebandtest.Allow(nil)
	h := newHarness(t, func(c *Config) { zero := 0; c.MaxRetries = &zero },
		allow, sidebandtest.Reply{Close: true}, allow)
	for i := range 2 {
		resp, err := h.a.ViewerRequest(context.Background(), viewerRequest("GET", "https://api.example.com/x", ""))
		if err != nil || resp != nil {
			t.Fatalf("decision %d: ViewerRequest() = %v, %v; want an allow", i, resp, err)
		}
	}
	if got := h.srv.CallCount(); got != 3 {
		t.Errorf("service calls = %d, want 3 (the dropped one sent again once)", got)
	}
	if got := testkit.Metric(t, h.reg, "edgeward_authorize_attempts_total", map[string]string{"phase": "request"}); got != 2 {
		t.Errorf("attempts metric = %v, want 2", got)
	}
}
