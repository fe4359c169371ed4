package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgeward/edgeward/internal/app"
	"github.com/edgeward/edgeward/internal/config"
	"github.com/edgeward/edgeward/internal/origintest"
	"github.com/edgeward/edgeward/internal/token/tokentest"
)

// protectedFile is an edge file whose behaviors use the protection set
// "api": the CRS at PL1 in mode, a deny IP set read from a file, a custom
// rule, and a rate rule keyed on the identity the decision established
// (x-user-id from the token's sub).
func protectedFile(originAddr, decision, dir, mode string) string {
	return fmt.Sprintf(`
admin: off
trusted_proxies: [127.0.0.1]
origins:
  orders:
    url: http://%s/prod
behaviors:
  - path_pattern: "*"
    origin: orders
    allowed_methods: [GET, HEAD, POST]
    viewer_request: authorize
    protection: api
decision:%s
protections:
  log: {path: %s}
  ip_sets:
    blocked: {file: %s}
  sets:
    api:
      waf: {mode: %s, paranoia_level: 1, max_body_bytes: 64KiB}
      ip_deny: [blocked]
      rules:
        - {name: no-scanners, action: block, match: {headers: [{name: User-Agent, regex: "(?i)sqlmap"}]}}
      rate_rules:
        - {name: per-user, key: [identity], limit: 3, window: 1m}
logging: {access_log: {path: off}}
`, originAddr, decision, filepath.Join(dir, "waf.log"), filepath.Join(dir, "blocked.txt"), mode)
}

// TestServe_Protections sends attacks and benign requests through a real
// edge with the embedded decision service: blocks never reach the origin
// and say nothing of the rule, bodies reach the origin intact, IP sets
// and their file reload, identity rate rules answer 429 with Retry-After,
// the WAF log records each block, and a configuration reload to count
// mode lets the same attack through.
func TestServe_Protections(t *testing.T) {
	iss := tokentest.NewIssuer(t)
	read := iss.Mint(map[string]any{"sub": "alice", "aud": "https://api.example.com", "scope": "orders:read"})
	write := iss.Mint(map[string]any{"sub": "bob", "aud": "https://api.example.com", "scope": "orders:read orders:write"})
	org := origintest.New(t)
	org.HandleDefault(origintest.Reply{Body: []byte(`{"ok":true}`)})

	dir := t.TempDir()
	blocked := filepath.Join(dir, "blocked.txt")
	if err := os.WriteFile(blocked, []byte("# blocked\n2001:db8:bad::/48\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ln := listen(t)
	base := "http://" + ln.Addr().String()
	path := filepath.Join(dir, "edgeward.yaml")
	write1 := func(mode string) {
		t.Helper()
		data := protectedFile(org.Addr(), sprintfModel(iss, ln.Addr().String()), dir, mode)
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write1("block")
	f, err := config.LoadEdge(path, lookup)
	if err != nil {
		t.Fatal(err)
	}
	e, err := app.NewEdge(ctx, path, f, app.Options{Lookup: lookup})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- e.Serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-done })

	do := func(method, target, token, body string, hdr ...string) (*http.Response, []byte) {
		t.Helper()
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req, _ := http.NewRequest(method, base+target, rd)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		return res, b
	}

	tests := []struct {
		name, method, target, token, body string
		hdr                               []string
		want                              int
		reaches                           bool
	}{
		{name: "benign read", method: "GET", target: "/orders/1?expand=items", token: read, want: 200, reaches: true},
		{name: "sqli in the query, no token: blocked before the decision", method: "GET", target: "/orders/1?id=1%27%20UNION%20SELECT%20password%20FROM%20users--", want: 403},
		{name: "xss in a cookie", method: "GET", target: "/orders/1", token: read, hdr: []string{"Cookie", "session=<script>alert(document.domain)</script>"}, want: 403},
		{name: "benign json body reaches the origin intact", method: "POST", target: "/orders", token: write, body: `{"item":"book","qty":2,"name":"Zoë"}`, hdr: []string{"Content-Type", "application/json"}, want: 200, reaches: true},
		{name: "sqli in a json body", method: "POST", target: "/orders", token: write, body: `{"item":"1' UNION SELECT password FROM users--"}`, hdr: []string{"Content-Type", "application/json"}, want: 403},
		{name: "custom rule on the user agent", method: "GET", target: "/orders/1", token: read, hdr: []string{"User-Agent", "sqlmap/1.7"}, want: 403},
		{name: "denied IPv6 client behind the trusted proxy", method: "GET", target: "/orders/1", token: read, hdr: []string{"X-Forwarded-For", "2001:db8:bad::7"}, want: 403},
		{name: "other IPv6 client", method: "GET", target: "/orders/1", token: read, hdr: []string{"X-Forwarded-For", "2001:db8:900d::7"}, want: 200, reaches: true},
	}
	var blockedID string
	for _, tt := range tests {
		before := org.Count()
		res, body := do(tt.method, tt.target, tt.token, tt.body, tt.hdr...)
		if res.StatusCode != tt.want {
			t.Errorf("%s: status %d, want %d (%s)", tt.name, res.StatusCode, tt.want, body)
		}
		if reached := org.Count() > before; reached != tt.reaches {
			t.Errorf("%s: reached the origin = %v, want %v", tt.name, reached, tt.reaches)
		}
		if tt.reaches && tt.body != "" {
			if got := org.Last().Body; !bytes.Equal(got, []byte(tt.body)) {
				t.Errorf("%s: origin body = %q, want %q", tt.name, got, tt.body)
			}
		}
		if tt.want == 403 {
			var eb map[string]string
			if err := json.Unmarshal(body, &eb); err != nil || eb["request_id"] != res.Header.Get("X-Request-Id") || eb["error"] != "forbidden" || len(eb) != 2 {
				t.Errorf("%s: body %q, want {error: forbidden, request_id} only", tt.name, body)
			}
			if blockedID == "" {
				blockedID = eb["request_id"]
			}
		}
	}

	// The identity rate rule: carol's fourth request in the window is
	// 429 (from any address); bob still gets through.
	carol := iss.Mint(map[string]any{"sub": "carol", "aud": "https://api.example.com", "scope": "orders:read"})
	for i := 1; i <= 3; i++ {
		if res, b := do("GET", "/orders/9", carol, "", "X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i)); res.StatusCode != 200 {
			t.Fatalf("carol request %d: %d %s", i, res.StatusCode, b)
		}
	}
	res, _ := do("GET", "/orders/9", carol, "")
	if res.StatusCode != 429 || res.Header.Get("Retry-After") == "" {
		t.Errorf("carol over the limit: %d Retry-After %q, want 429 with Retry-After", res.StatusCode, res.Header.Get("Retry-After"))
	}
	if res, _ := do("GET", "/orders/9", write, ""); res.StatusCode != 200 {
		t.Errorf("bob: %d, want 200 (his own key)", res.StatusCode)
	}

	// The IP set file changes: the address is allowed without a reload.
	if err := os.WriteFile(blocked+".new", []byte("192.0.2.0/24\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(blocked+".new", blocked); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the new IP list", func() bool {
		res, _ := do("GET", "/orders/1", write, "", "X-Forwarded-For", "2001:db8:bad::7")
		return res.StatusCode == 200
	})

	// The WAF log has the first block, AWS WAF style.
	waitFor(t, "the WAF log", func() bool {
		data, _ := os.ReadFile(filepath.Join(dir, "waf.log"))
		for _, line := range bytes.Split(data, []byte("\n")) {
			var m map[string]any
			if json.Unmarshal(line, &m) == nil && m["action"] == "BLOCK" {
				if hr, _ := m["httpRequest"].(map[string]any); hr != nil && hr["requestId"] == blockedID {
					return m["terminatingRuleType"] == "MANAGED_RULE_GROUP"
				}
			}
		}
		return false
	})

	// Reload in count mode: the same attack passes (and is logged).
	write1("count")
	if err := e.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if res, b := do("GET", "/orders/1?id=1%27%20UNION%20SELECT%20password%20FROM%20users--", write, ""); res.StatusCode != 200 {
		t.Errorf("count mode after reload: %d %s, want 200", res.StatusCode, b)
	}
}

// waitFor polls cond until it holds or a deadline passes: for the file
// watcher and the log writer, which run on their own.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not seen within 10s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
