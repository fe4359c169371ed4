package protect

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"
)

func TestWAF_CompileTime(t *testing.T) {
	start := time.Now()
	s, _ := shared(t, ModeBlock)
	t.Logf("CRS compiled in %s", time.Since(start))
	r := req("GET", "/search?q=1'+OR+'1'='1", "")
	if got := inspect(s, r); got != 403 {
		t.Errorf("SQLi in query: status %d, want 403", got)
	}
}

func TestWAF_Modes(t *testing.T) {
	cases := []struct {
		name, method, target, body, ctype string
		want                              int // in block mode
	}{
		{"benign GET", "GET", "/orders/42?expand=items", "", "", 200},
		{"sqli query", "GET", "/orders?id=1%27%20UNION%20SELECT%20password%20FROM%20users--", "", "", 403},
		{"xss query", "GET", "/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E", "", "", 403},
		{"sqli json body", "POST", "/orders", `{"note":"1' UNION SELECT password FROM users--"}`, "application/json", 403},
		{"xss urlencoded body", "POST", "/orders", "comment=%3Cscript%3Ealert(document.cookie)%3C%2Fscript%3E", "application/x-www-form-urlencoded", 403},
		{"benign json body", "POST", "/orders", `{"item":"book","qty":2,"name":"Zoë Ångström"}`, "application/json", 200},
		{"malformed json body", "POST", "/orders", `{"item":`, "application/json", 403},
	}
	for _, mode := range []string{ModeBlock, ModeCount} {
		s, log := shared(t, mode)
		for _, c := range cases {
			t.Run(mode+"/"+c.name, func(t *testing.T) {
				var hdr []string
				if c.ctype != "" {
					hdr = []string{"Content-Type", c.ctype}
				}
				r := req(c.method, c.target, c.body, hdr...)
				r.ID = mode + "/" + c.name
				got := inspect(s, r)
				want := c.want
				if mode == ModeCount {
					want = 200
				}
				if got != want {
					t.Fatalf("status %d, want %d", got, want)
				}
				if c.body != "" {
					b, _ := io.ReadAll(r.HTTP.Body)
					if string(b) != c.body && got == 200 {
						t.Errorf("body at the origin = %q, want %q", b, c.body)
					}
				}
				logged := findLog(t, log, r.ID)
				if c.want == 403 {
					wantAction := map[string]string{ModeBlock: "BLOCK", ModeCount: "ALLOW"}[mode]
					if logged == nil || logged["action"] != wantAction {
						t.Fatalf("log entry = %v, want action %s", logged, wantAction)
					}
					if mode == ModeCount && len(logged["nonTerminatingMatchingRules"].([]any)) == 0 {
						t.Errorf("count mode: no nonTerminatingMatchingRules in %v", logged)
					}
				}
			})
		}
	}
}

func findLog(t *testing.T, l *lines, id string) map[string]any {
	t.Helper()
	for _, line := range l.all() {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %v: %s", err, line)
		}
		if hr, _ := m["httpRequest"].(map[string]any); hr != nil && hr["requestId"] == id {
			return m
		}
	}
	return nil
}

func TestWAF_BodyOverLimitIsRefused(t *testing.T) {
	s := build(t, one(SetConfig{WAF: WAFConfig{Mode: ModeCount, MaxBodyBytes: 64}}), Options{})
	r := req("POST", "/orders", strings.Repeat("a", 65), "Content-Type", "application/x-www-form-urlencoded")
	if _, err := s.Inspect(context.Background(), r); status(err) != 413 {
		t.Fatalf("Inspect(65-byte body, limit 64) = %v, want 413", err)
	}
}
