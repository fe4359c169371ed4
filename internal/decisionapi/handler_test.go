package decisionapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/edgeward/edgeward/internal/sideband"
)

func TestHandler_GatewayCredentials(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	h := f.svc.Handler()
	body := `{"source_ip":"192.0.2.1","method":"GET","url":"https://api.example.com/orders","headers":[]}`
	tests := []struct {
		name    string
		headers []string
		want    int
	}{
		{"first credential", []string{"CLIENT-TOKEN", cred1}, 200},
		{"second credential (rotation)", []string{"CLIENT-TOKEN", cred2}, 200},
		{"header name is case-insensitive", []string{"client-token", cred1}, 200},
		{"missing", nil, 401},
		{"wrong", []string{"CLIENT-TOKEN", "gw-credential-on"}, 401},
		{"longer", []string{"CLIENT-TOKEN", cred1 + "x"}, 401},
		{"empty", []string{"CLIENT-TOKEN", ""}, 401},
		{"twice", []string{"CLIENT-TOKEN", cred1, "CLIENT-TOKEN", cred2}, 401},
		{"in another header", []string{"PDG-TOKEN", cred1}, 401},
	}
	for _, tt := range tests {
		w := post(h, "/sideband/request", body, tt.headers...)
		if w.Code != tt.want {
			t.Errorf("%s: status %d %s, want %d", tt.name, w.Code, w.Body, tt.want)
		}
		if w.Header().Get("Correlation-Id") == "" {
			t.Errorf("%s: no Correlation-Id", tt.name)
		}
		if tt.want != 401 {
			continue
		}
		var e map[string]string
		if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil {
			t.Fatalf("%s: 401 body %s: %v", tt.name, w.Body, err)
		}
		if e["message"] != "The Gateway Token is invalid" || e["code"] != "UNAUTHORIZED" || e["id"] != w.Header().Get("Correlation-Id") || len(e) != 3 {
			t.Errorf("%s: 401 body = %v, want id, code and the documented message", tt.name, e)
		}
		if strings.Contains(w.Body.String(), cred1) {
			t.Errorf("%s: 401 body carries a credential", tt.name)
		}
	}
}

func TestHandler_CustomCredentialHeaderAndNoCredentials(t *testing.T) {
	t.Parallel()
	svc := NewService(newEngine(t, `
credential_header: PDG-TOKEN
gateway_credentials: [legacy]
api_services:
  - {name: S, base_urls: [https://a.example], access_control: {authentication: none}, operations: [{name: o, paths: [{type: EXACT, pattern: /}]}]}
`), Options{})
	body := `{"source_ip":"192.0.2.1","method":"GET","url":"https://a.example/","headers":[]}`
	if w := post(svc.Handler(), "/sideband/request", body, "PDG-TOKEN", "legacy"); w.Code != 200 {
		t.Errorf("PDG-TOKEN: %d %s, want 200", w.Code, w.Body)
	}
	if w := post(svc.Handler(), "/sideband/request", body, "CLIENT-TOKEN", "legacy"); w.Code != 401 {
		t.Errorf("CLIENT-TOKEN when PDG-TOKEN is configured: %d, want 401", w.Code)
	}
	// Without credentials (an embedded-only model) the HTTP door admits
	// nobody.
	none := NewService(newEngine(t, `
api_services:
  - {name: S, base_urls: [https://a.example], access_control: {authentication: none}, operations: [{name: o, paths: [{type: EXACT, pattern: /}]}]}
`), Options{})
	if w := post(none.Handler(), "/sideband/request", body, "CLIENT-TOKEN", ""); w.Code != 401 {
		t.Errorf("no credentials configured: %d, want 401", w.Code)
	}
}

func TestHandler_BadRequestsNameTheField(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	h := f.svc.Handler()
	tests := []struct {
		name, path, body string
		wantStatus       int
		wantMsg          string
	}{
		{"malformed JSON", "/sideband/request", `{"method":`, 400, "malformed JSON"},
		{"not an object", "/sideband/request", `[]`, 400, "want a JSON object"},
		{"empty", "/sideband/request", ``, 400, "empty body"},
		{"missing method", "/sideband/request", `{"source_ip":"192.0.2.1","url":"https://api.example.com/"}`, 400, "method: required"},
		{"missing url", "/sideband/request", `{"source_ip":"192.0.2.1","method":"GET"}`, 400, "url: required"},
		{"relative url", "/sideband/request", `{"source_ip":"192.0.2.1","method":"GET","url":"/orders"}`, 400, "url: "},
		{"bad source_port", "/sideband/request", `{"source_ip":"192.0.2.1","source_port":"x","method":"GET","url":"https://api.example.com/"}`, 400, "source_port: "},
		{"headers not an array", "/sideband/request", `{"source_ip":"192.0.2.1","method":"GET","url":"https://api.example.com/","headers":{}}`, 400, "headers"},
		{"method wrong type", "/sideband/request", `{"source_ip":"192.0.2.1","method":1,"url":"https://api.example.com/"}`, 400, "method: want a string"},
		{"response phase without code", "/sideband/response", `{"method":"GET","url":"https://api.example.com/"}`, 400, "response_code: required"},
		{"response phase bad code", "/sideband/response", `{"method":"GET","url":"https://api.example.com/","response_code":"abc"}`, 400, "response_code"},
		{"over the limit", "/sideband/request", `{"method":"GET","pad":"` + strings.Repeat("x", 5000) + `"}`, 413, "body: over 4096 bytes"},
		{"unknown path", "/sideband/other", `{}`, 404, "Not found"},
	}
	for _, tt := range tests {
		w := post(h, tt.path, tt.body, "CLIENT-TOKEN", cred1)
		var e sideband.Error
		_ = json.Unmarshal(w.Body.Bytes(), &e)
		if w.Code != tt.wantStatus || !strings.Contains(e.Message, tt.wantMsg) || e.ID == "" || e.Code == "" {
			t.Errorf("%s: %d %s, want %d with a message containing %q", tt.name, w.Code, w.Body, tt.wantStatus, tt.wantMsg)
		}
	}
	r := httptest.NewRequest(http.MethodGet, "/sideband/request", nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 405 || w.Header().Get("Allow") != "POST" {
		t.Errorf("GET: %d Allow %q, want 405 POST", w.Code, w.Header().Get("Allow"))
	}
}

func TestHandler_TooLargeByContentLength(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	r := httptest.NewRequest(http.MethodPost, "/sideband/request", strings.NewReader("{}"))
	r.ContentLength = 1 << 20
	r.Header.Set("CLIENT-TOKEN", cred1)
	w := httptest.NewRecorder()
	f.svc.Handler().ServeHTTP(w, r)
	if w.Code != 413 {
		t.Errorf("Content-Length over the limit: %d, want 413", w.Code)
	}
}

// TestHandler_KongQuirks replays what Kong's ping-auth plugin sends (see
// SIDEBAND.md "What real clients do").
func TestHandler_KongQuirks(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	h := f.svc.Handler()
	tok := f.token(nil)
	t.Run("no Accept, bare ?, string port, :443, body echoed, no response key", func(t *testing.T) {
		body := `{"source_ip":"2001:db8::7","source_port":"51234","method":"GET","url":"https://api.example.com:443/orders?","http_version":"1.1",
			"headers":[{"host":"api.example.com"},{"authorization":"Bearer ` + tok + `"},{"content-type":"application/json"}],"body":"{\"a\":1}"}`
		r := httptest.NewRequest(http.MethodPost, "/sideband/request", strings.NewReader(body))
		r.Header.Set("CLIENT-TOKEN", cred1) // and no Accept, no Content-Type
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 200 {
			t.Fatalf("status %d %s, want 200", w.Code, w.Body)
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		if _, ok := m["response"]; ok {
			t.Errorf("allow carries a response key: %s", w.Body)
		}
		if string(m["body"]) != `"{\"a\":1}"` {
			t.Errorf("allow body = %s, want the request's echoed", m["body"])
		}
		if string(m["url"]) != `"https://api.example.com:443/orders?"` {
			t.Errorf("allow url = %s, want the request's verbatim", m["url"])
		}
		if string(m["source_port"]) != "51234" {
			t.Errorf("allow source_port = %s, want 51234", m["source_port"])
		}
		if strings.Contains(w.Body.String(), tok) {
			t.Errorf("allow still carries the token (authorization is removed by a statement)")
		}
		if rep, err := sideband.DecodeReply(w.Body.Bytes()); err != nil || rep.Response != nil {
			t.Errorf("DecodeReply(allow) = %+v, %v; want an allow our own client accepts", rep, err)
		}
	})
	t.Run("allow with no headers still has a headers array", func(t *testing.T) {
		svc := NewService(newEngine(t, `
gateway_credentials: [c]
api_services:
  - {name: S, base_urls: [https://a.example], access_control: {authentication: none}, operations: [{name: o, paths: [{type: EXACT, pattern: /}]}]}
`), Options{})
		w := post(svc.Handler(), "/sideband/request", `{"source_ip":"192.0.2.1","method":"GET","url":"https://a.example/"}`, "CLIENT-TOKEN", "c")
		if w.Code != 200 || !strings.Contains(w.Body.String(), `"headers":[]`) {
			t.Errorf("allow = %d %s, want 200 with \"headers\":[]", w.Code, w.Body)
		}
	})
	t.Run("response phase with neither state nor request, numeric code", func(t *testing.T) {
		w := post(h, "/sideband/response", `{"method":"GET","url":"https://api.example.com:443/orders","http_version":"1.1","response_code":200,"response_status":"OK","headers":[{"server":"nginx"}],"body":"[]"}`, "CLIENT-TOKEN", cred1)
		want := `{"response_code":"200","response_status":"OK","headers":[{"x-content-type-options":"nosniff"}],"body":"[]"}`
		if w.Code != 200 || w.Body.String() != want {
			t.Errorf("response phase = %d %s, want 200 %s", w.Code, w.Body, want)
		}
	})
	t.Run("response phase without headers", func(t *testing.T) {
		w := post(h, "/sideband/response", `{"method":"GET","url":"https://elsewhere.example/","response_code":"204"}`, "CLIENT-TOKEN", cred1)
		want := `{"response_code":"204","response_status":"No Content","headers":[]}`
		if w.Code != 200 || w.Body.String() != want {
			t.Errorf("response phase = %d %s, want 200 %s", w.Code, w.Body, want)
		}
	})
	t.Run("state round trip", func(t *testing.T) {
		w := post(h, "/sideband/request", `{"source_ip":"192.0.2.1","method":"GET","url":"https://api.example.com/orders","headers":[{"authorization":"Bearer `+tok+`"}]}`, "CLIENT-TOKEN", cred1)
		var m map[string]json.RawMessage
		_ = json.Unmarshal(w.Body.Bytes(), &m)
		rr := `{"method":"GET","url":"https://elsewhere.example/","response_code":"200","headers":[{"x-powered-by":"php"}],"state":` + string(m["state"]) + `}`
		w = post(h, "/sideband/response", rr, "CLIENT-TOKEN", cred1)
		if !strings.Contains(w.Body.String(), `"headers":[{"x-content-type-options":"nosniff"}]`) {
			t.Errorf("response phase with the allow's state = %s, want the service's response statements", w.Body)
		}
	})
	t.Run("mounted under a service_url path", func(t *testing.T) {
		w := post(h, "/v1/environments/abc/sideband/response", `{"method":"GET","url":"https://a.example/","response_code":"200"}`, "CLIENT-TOKEN", cred1)
		if w.Code != 200 {
			t.Errorf("prefixed path: %d, want 200", w.Code)
		}
	})
	t.Run("caller's Correlation-Id is kept", func(t *testing.T) {
		w := post(h, "/sideband/response", `{"method":"GET","url":"https://a.example/","response_code":"200"}`, "CLIENT-TOKEN", cred1, "Correlation-Id", "kong-42")
		if got := w.Header().Get("Correlation-Id"); got != "kong-42" {
			t.Errorf("Correlation-Id = %q, want kong-42", got)
		}
	})
}

func TestHandler_AccessTokenObjectKeepsEveryClaim(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	body := `{"source_ip":"192.0.2.1","method":"POST","url":"https://api.example.com/orders/1","headers":[{"x-tenant":"t9"}],
		"access_token":{"active":true,"sub":"kong-user","iss":"` + f.iss.URL() + `","aud":"` + aud + `","scope":"orders:write","exp":4102444800,
		"groups":["order-managers"],"tenant":"t9"}}`
	w := post(f.svc.Handler(), "/sideband/request", body, "CLIENT-TOKEN", cred1)
	if w.Code != 200 || strings.Contains(w.Body.String(), `"response"`) {
		t.Fatalf("access_token object with groups and tenant: %d %s, want an allow", w.Code, w.Body)
	}
	if !strings.Contains(w.Body.String(), `{"x-user-id":"kong-user"}`) {
		t.Errorf("allow %s lacks x-user-id from the object's sub", w.Body)
	}
}

func TestHandler_OurClientUnderstandsIt(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	srv := httptest.NewServer(f.svc.Handler())
	t.Cleanup(srv.Close)
	c, err := sideband.NewClient(sideband.ClientConfig{ServiceURL: srv.URL + "/", Credential: cred2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	local := NewLocal(f.svc)
	reqs := []*sideband.Request{
		ordersRequest("GET", "https://api.example.com/orders/1", "authorization", "Bearer "+f.token(nil)),
		ordersRequest("GET", "https://api.example.com/orders/1"),
		ordersRequest("DELETE", "https://api.example.com/orders"),
		ordersRequest("GET", "https://api.example.com/nothing", "authorization", "Bearer "+f.token(nil)),
		ordersRequest("GET", "https://other.example.com/", "x-request-id", "r1"),
	}
	for _, req := range reqs {
		remote, err := c.Request(t.Context(), req)
		if err != nil {
			t.Fatalf("Client.Request(%s %s) error = %v", req.Method, req.URL, err)
		}
		inproc, _ := local.Request(t.Context(), req)
		if remote.Response != nil {
			remote.Response.Body, inproc.Response.Body = nil, nil // request ids differ
		}
		if diff := cmp.Diff(inproc, remote, cmpEmptyHeaders); diff != "" {
			t.Errorf("%s %s: embedded and HTTP replies differ (-embedded +http):\n%s", req.Method, req.URL, diff)
		}
	}
	_, err = (func() (*sideband.Reply, error) {
		bad, _ := sideband.NewClient(sideband.ClientConfig{ServiceURL: srv.URL, Credential: "nope"})
		defer bad.Close()
		return bad.Request(t.Context(), reqs[0])
	})()
	var se *sideband.StatusError
	if !errors.As(err, &se) || se.Status != 401 || se.Body.Message != "The Gateway Token is invalid" {
		t.Errorf("Client with a wrong credential: %v, want a 401 StatusError", err)
	}
}
