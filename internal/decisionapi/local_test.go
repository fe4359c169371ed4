package decisionapi

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/edgeward/edgeward/internal/sideband"
)

func ordersRequest(method, url string, headers ...string) *sideband.Request {
	r := &sideband.Request{SourceIP: "192.0.2.7", SourcePort: 50000, Method: method, URL: url, HTTPVersion: "1.1"}
	for i := 0; i+1 < len(headers); i += 2 {
		r.Headers = append(r.Headers, sideband.Header{Name: headers[i], Value: headers[i+1]})
	}
	return r
}

func TestLocal_AllowEchoesRequestWithStatements(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	body := `{"note":"kept"}`
	req := ordersRequest("GET", "https://api.example.com:443/orders/7?",
		"host", "api.example.com", "authorization", "Bearer "+f.token(nil), "X-User-Id", "mallory", "accept", "*/*")
	req.Body = &body
	req.AccessToken = nil
	rep, err := NewLocal(f.svc).Request(t.Context(), req)
	if err != nil {
		t.Fatalf("Request() error = %v", err)
	}
	if rep.Response != nil {
		t.Fatalf("Request() = deny %+v, want allow", rep.Response)
	}
	want := sideband.Headers{{Name: "host", Value: "api.example.com"}, {Name: "accept", Value: "*/*"}, {Name: "x-user-id", Value: "alice"}}
	if diff := cmp.Diff(want, rep.Headers); diff != "" {
		t.Errorf("allow headers (-want +got):\n%s", diff)
	}
	if rep.Method != "GET" || rep.URL != req.URL || rep.SourceIP != req.SourceIP || rep.Body != req.Body {
		t.Errorf("allow echo = %s %s %s body %v, want the request's", rep.Method, rep.URL, rep.SourceIP, rep.Body)
	}
	if string(rep.State) != `{"service":"Orders API"}` {
		t.Errorf("allow state = %s, want the service", rep.State)
	}
	// The caller's request is untouched.
	if len(req.Headers) != 4 || req.Headers[1].Name != "authorization" {
		t.Errorf("Request() modified the request's headers: %v", req.Headers)
	}
	out, _ := json.Marshal(rep)
	if strings.Contains(string(out), `"response"`) {
		t.Errorf("allow JSON %s has a response key", out)
	}
}

func TestLocal_DenyIsAResponseWithHeaders(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	rep, err := NewLocal(f.svc).Request(t.Context(), ordersRequest("GET", "https://api.example.com/orders/7", "x-request-id", "abc-123"))
	if err != nil {
		t.Fatalf("Request() error = %v", err)
	}
	want := &sideband.Response{
		ResponseCode:   401,
		ResponseStatus: "Unauthorized",
		Headers: sideband.Headers{
			{Name: "content-type", Value: "application/json"},
			{Name: "www-authenticate", Value: `Bearer realm="Orders API"`},
		},
	}
	wantBody := `{"error":"unauthorized","error_description":"an access token is required","request_id":"abc-123"}`
	if rep.Response == nil || rep.Response.Body == nil {
		t.Fatalf("Request() = %+v, want a deny with a body", rep)
	}
	if *rep.Response.Body != wantBody {
		t.Errorf("deny body = %s, want %s", *rep.Response.Body, wantBody)
	}
	rep.Response.Body = nil
	if diff := cmp.Diff(want, rep.Response); diff != "" {
		t.Errorf("deny (-want +got):\n%s", diff)
	}
}

func TestLocal_DenyWithoutRequestIDGetsOne(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	rep, err := NewLocal(f.svc).Request(t.Context(), ordersRequest("GET", "https://nowhere.example/x"))
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		RequestID string `json:"request_id"`
	}
	if err := json.Unmarshal([]byte(*rep.Response.Body), &body); err != nil || body.RequestID == "" {
		t.Errorf("deny body %s: request_id empty (err %v)", *rep.Response.Body, err)
	}
	if rep.Response.ResponseCode != 404 {
		t.Errorf("deny code = %d, want 404", rep.Response.ResponseCode)
	}
}

func TestLocal_BadURLIsAStatusError(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	_, err := NewLocal(f.svc).Request(t.Context(), ordersRequest("GET", "/relative"))
	var se *sideband.StatusError
	if !errors.As(err, &se) || se.Status != 400 || !strings.HasPrefix(se.Body.Message, "url: ") {
		t.Errorf("Request(relative url) error = %v, want a 400 naming url", err)
	}
}

func TestLocal_AccessTokenObject(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	req := ordersRequest("POST", "https://api.example.com/orders/7", "x-tenant", "t1")
	req.AccessToken = &sideband.AccessToken{
		Active: true, Subject: "kong-user", Issuer: f.iss.URL(), Audience: []string{aud},
		Scope: []string{"orders:write"}, Expiry: time.Now().Add(time.Hour).Unix(),
		Extra: map[string]json.RawMessage{"groups": json.RawMessage(`["order-managers"]`), "tenant": json.RawMessage(`"t1"`)},
	}
	rep, err := NewLocal(f.svc).Request(t.Context(), req)
	if err != nil || rep.Response != nil {
		t.Fatalf("Request(access_token object) = %+v, %v; want allow", rep, err)
	}
	if v, _ := rep.Headers.Get("x-user-id"); v != "kong-user" {
		t.Errorf("x-user-id = %q, want kong-user", v)
	}
	if rep.AccessToken != nil {
		t.Error("the allow echoes the access_token object")
	}
	req.AccessToken.Audience = []string{"https://other"}
	rep, _ = NewLocal(f.svc).Request(t.Context(), req)
	if rep.Response == nil || rep.Response.ResponseCode != 401 {
		t.Errorf("Request(access_token for another audience) = %+v, want 401", rep)
	}
}

func TestLocal_ResponsePhase(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	origin := sideband.Headers{{Name: "content-type", Value: "application/json"}, {Name: "Server", Value: "nginx"}, {Name: "x-powered-by", Value: "php"}}
	cleaned := sideband.Headers{{Name: "content-type", Value: "application/json"}, {Name: "x-content-type-options", Value: "nosniff"}}
	body := "[]"
	tests := []struct {
		name string
		rr   sideband.ResponseRequest
		want sideband.Headers
	}{
		{"by state", sideband.ResponseRequest{URL: "https://elsewhere.example/", State: json.RawMessage(`{"service":"Orders API"}`)}, cleaned},
		{"by original request", sideband.ResponseRequest{URL: "https://elsewhere.example/", Request: ordersRequest("GET", "https://api.example.com:443/orders?")}, cleaned},
		{"by its own url", sideband.ResponseRequest{URL: "http://127.0.0.1:8080/orders"}, cleaned},
		{"unknown service: unchanged", sideband.ResponseRequest{URL: "https://elsewhere.example/"}, origin},
		{"bad state falls back to the url", sideband.ResponseRequest{URL: "https://api.example.com/x", State: json.RawMessage(`"junk"`)}, cleaned},
	}
	for _, tt := range tests {
		rr := tt.rr
		rr.Method, rr.ResponseCode, rr.Headers, rr.Body = "GET", 200, origin, &body
		got, err := NewLocal(f.svc).Response(t.Context(), &rr)
		if err != nil {
			t.Fatalf("%s: Response() error = %v", tt.name, err)
		}
		if diff := cmp.Diff(tt.want, got.Headers); diff != "" {
			t.Errorf("%s: headers (-want +got):\n%s", tt.name, diff)
		}
		if got.ResponseCode != 200 || got.ResponseStatus != "OK" || got.Body != &body {
			t.Errorf("%s: Response() = %d %q %v, want the response unchanged", tt.name, got.ResponseCode, got.ResponseStatus, got.Body)
		}
	}
}

func TestService_SetEngineSwapsAtomically(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	local := NewLocal(f.svc)
	req := ordersRequest("GET", "https://api.example.com/health")
	rep, _ := local.Request(t.Context(), req)
	if rep.Response == nil || rep.Response.ResponseCode != 403 {
		t.Fatalf("before reload: %+v, want 403", rep)
	}
	next := newEngine(t, `
gateway_credentials: [new-credential]
api_services:
  - name: Health
    base_urls: [https://api.example.com]
    access_control: {authentication: none}
    operations: [{name: health, paths: [{type: EXACT, pattern: /health}]}]
`)
	old := f.svc.SetEngine(next)
	if old == nil || old == next || f.svc.Engine() != next {
		t.Fatalf("SetEngine returned %p, engine now %p; want the previous engine and %p", old, f.svc.Engine(), next)
	}
	rep, _ = local.Request(t.Context(), req)
	if rep.Response != nil {
		t.Errorf("after reload: deny %+v, want allow", rep.Response)
	}
	// The HTTP door follows too: the old credential is gone.
	w := post(f.svc.Handler(), "/sideband/request", `{"source_ip":"192.0.2.1","method":"GET","url":"https://api.example.com/health","headers":[]}`, "CLIENT-TOKEN", cred1)
	if w.Code != 401 {
		t.Errorf("old credential after reload: %d, want 401", w.Code)
	}
	w = post(f.svc.Handler(), "/sideband/request", `{"source_ip":"192.0.2.1","method":"GET","url":"https://api.example.com/health","headers":[]}`, "CLIENT-TOKEN", "new-credential")
	if w.Code != 200 {
		t.Errorf("new credential after reload: %d %s, want 200", w.Code, w.Body)
	}
}
