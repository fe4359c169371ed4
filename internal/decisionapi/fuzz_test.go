package decisionapi

import (
	"bytes"
	"encoding/json"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/edgeward/edgeward/internal/sideband"
)

var itemPath = regexp.MustCompile(`^/orders/[^/]+$`)

// FuzzHandler sends arbitrary bodies to both sideband endpoints: the
// handler never panics, always answers JSON with a Correlation-Id, and
// never allows a request that no operation matches.
func FuzzHandler(f *testing.F) {
	// Seeds: testdata/fuzz/<target>/.
	svc := NewService(newEngine(f, `
gateway_credentials: [c]
api_services:
  - name: S
    base_urls: [https://api.example.com]
    access_control: {authentication: none}
    operations:
      - {name: read, methods: [GET], paths: [{type: PARAMETER, pattern: "/orders/{id}"}]}
    response_statements: {remove_headers: [server]}
`), Options{})
	h := svc.Handler()
	f.Fuzz(func(t *testing.T, body string, responsePhase bool) {
		path := sideband.RequestPath
		if responsePhase {
			path = sideband.ResponsePath
		}
		w := post(h, path, body, "CLIENT-TOKEN", "c")
		if w.Header().Get("Correlation-Id") == "" || !json.Valid(w.Body.Bytes()) {
			t.Fatalf("answer %d %q: no Correlation-Id or not JSON", w.Code, w.Body)
		}
		if w.Code != 200 || responsePhase {
			return
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
			t.Fatalf("reply %s: %v", w.Body, err)
		}
		if _, deny := m["response"]; deny {
			return
		}
		req, err := sideband.DecodeRequest(bytes.NewReader([]byte(body)), 0)
		if err != nil {
			t.Fatalf("allowed a body the decoder refuses: %v", err)
		}
		u, err := url.Parse(req.URL)
		ok := err == nil && req.Method == "GET" && strings.EqualFold(u.Scheme, "https") &&
			strings.EqualFold(u.Hostname(), "api.example.com") && (u.Port() == "" || u.Port() == "443") &&
			itemPath.MatchString(u.Path) && !strings.Contains(strings.ToLower(u.EscapedPath()), "%2f")
		if !ok {
			t.Errorf("allowed %s %q, which no operation matches", req.Method, req.URL)
		}
	})
}
