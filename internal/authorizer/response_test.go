package authorizer

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/edgeward/edgeward/internal/edge"
	"github.com/edgeward/edgeward/internal/sideband"
	"github.com/edgeward/edgeward/internal/sidebandtest"
)

// allowWithRawState echoes the request as an allow whose state is written
// exactly as given (spacing included).
func allowWithRawState(state string) sidebandtest.Reply {
	return sidebandtest.Reply{Func: func(c sidebandtest.Call) sidebandtest.Reply {
		var req sideband.Request
		if err := c.Decode(&req); err != nil {
			return sidebandtest.Error(400, "INVALID", err.Error())
		}
		b, _ := json.Marshal(sideband.Reply{Request: req})
		return sidebandtest.Reply{Body: string(b[:len(b)-1]) + `,"state":` + state + `}`}
	}}
}

func originResponse() *edge.Response {
	return &edge.Response{
		Status: 200,
		Header: http.Header{"Content-Type": {"application/json"}, "Date": {"Sun, 01 Jun 2025 12:00:00 GMT"}, "X-Origin": {"1"}},
		Body:   []byte(`[{"id":7}]`),
	}
}

func TestAuthorize_StateRoundTripsByteForByte(t *testing.T) {
	t.Parallel()
	const state = `{"b": [1, 2],   "a": "<x>", "n": 1.50}`
	h := newHarness(t, func(c *Config) { c.ResponsePhase = true },
		allowWithRawState(state),
		sidebandtest.Respond(201, sideband.Headers{{Name: "content-type", Value: "application/json"}, {Name: "x-filtered", Value: "yes"}}, `[]`),
	)
	ctx := context.Background()
	r := viewerRequest("GET", "https://api.example.com/orders?mine=1", "")
	if resp, err := h.a.ViewerRequest(ctx, r); resp != nil || err != nil {
		t.Fatalf("ViewerRequest() = %v, %v, want an allow", resp, err)
	}
	out, err := h.a.ViewerResponse(ctx, r, originResponse())
	if err != nil {
		t.Fatalf("ViewerResponse() error: %v", err)
	}
	calls := h.srv.Calls()
	if len(calls) != 2 || calls[1].Path != testEnvPath+"/sideband/response" {
		t.Fatalf("calls = %d (second path %q), want the response phase at %s/sideband/response", len(calls), calls[len(calls)-1].Path, testEnvPath)
	}
	body := string(calls[1].Body)
	if !strings.Contains(body, `"state":`+state) {
		t.Errorf("response-phase body = %s, want state %s byte for byte", body, state)
	}
	var sent map[string]json.RawMessage
	if err := json.Unmarshal(calls[1].Body, &sent); err != nil {
		t.Fatal(err)
	}
	if _, ok := sent["request"]; ok {
		t.Errorf("response-phase body has request beside state: %s", body)
	}
	for k, want := range map[string]string{
		"method": `"GET"`, "url": `"https://api.example.com/orders?mine=1"`, "http_version": `"1.1"`,
		"response_code": `"200"`, "response_status": `"OK"`, "body": `"[{\"id\":7}]"`,
	} {
		if got := string(sent[k]); got != want {
			t.Errorf("response-phase %s = %s, want %s", k, got, want)
		}
	}
	want := &edge.Response{
		Status: 201,
		Header: http.Header{"Content-Type": {"application/json"}, "X-Filtered": {"yes"}, "Date": {"Sun, 01 Jun 2025 12:00:00 GMT"}},
		Body:   []byte(`[]`),
	}
	if diff := cmp.Diff(want, out); diff != "" {
		t.Errorf("ViewerResponse() mismatch (-want +got):\n%s", diff)
	}
}

func TestAuthorize_ResponsePhaseSendsRequestWithoutState(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config) { c.ResponsePhase = true },
		sidebandtest.Allow(nil),
		sidebandtest.Respond(200, nil, "ok"),
	)
	ctx := context.Background()
	r := viewerRequest("GET", "https://api.example.com/orders", "")
	if _, err := h.a.ViewerRequest(ctx, r); err != nil {
		t.Fatal(err)
	}
	if _, err := h.a.ViewerResponse(ctx, r, originResponse()); err != nil {
		t.Fatal(err)
	}
	calls := h.srv.Calls()
	var first sideband.Request
	var second struct {
		State   json.RawMessage   `json:"state"`
		Request *sideband.Request `json:"request"`
	}
	if err := calls[0].Decode(&first); err != nil {
		t.Fatal(err)
	}
	if err := calls[1].Decode(&second); err != nil {
		t.Fatal(err)
	}
	if second.State != nil || second.Request == nil {
		t.Fatalf("response phase sent state %s, request %v; want the request only", second.State, second.Request)
	}
	if diff := cmp.Diff(first, *second.Request); diff != "" {
		t.Errorf("response-phase request differs from the request phase (-first +sent):\n%s", diff)
	}
}

func TestAuthorize_ResponsePhaseNoDecisionIs502(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config) { c.ResponsePhase = true }, sidebandtest.Allow(nil), sidebandtest.Reply{Body: `{}`})
	ctx := context.Background()
	r := viewerRequest("GET", "https://api.example.com/orders", "")
	if _, err := h.a.ViewerRequest(ctx, r); err != nil {
		t.Fatal(err)
	}
	out, err := h.a.ViewerResponse(ctx, r, originResponse())
	if e := asEdgeError(err); out != nil || e == nil || e.Status != 502 {
		t.Fatalf("ViewerResponse(malformed reply) = %v, %v, want 502", out, err)
	}
}

func TestAuthorize_ResponsePhaseOffPassesResponse(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, sidebandtest.Allow(nil))
	ctx := context.Background()
	r := viewerRequest("GET", "https://api.example.com/orders", "")
	if _, err := h.a.ViewerRequest(ctx, r); err != nil {
		t.Fatal(err)
	}
	in := originResponse()
	out, err := h.a.ViewerResponse(ctx, r, in)
	if err != nil || out != in {
		t.Errorf("ViewerResponse(response_phase off) = %v, %v, want the same response", out, err)
	}
	if n := h.srv.CallCount(); n != 1 {
		t.Errorf("service calls = %d, want 1 (no response phase)", n)
	}
	if r.State != nil {
		t.Errorf("request State = %v, want nil with the response phase off", r.State)
	}
}
