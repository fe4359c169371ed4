package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/edgeward/edgeward/internal/config"
)

// TestDemo_EndToEnd starts the whole demo on free loopback ports, as
// `edgeward demo` does, and checks it through the edge: the self-check's
// rows, then requests of its own. It is what keeps the README's first
// command from rotting.
func TestDemo_EndToEnd(t *testing.T) {
	d, err := Start(t.Context(), Options{})
	if err != nil {
		t.Fatalf("Start = %v", err)
	}
	defer func() {
		if err := d.Close(); err != nil {
			t.Errorf("Close = %v, want nil", err)
		}
	}()
	ctx := t.Context()

	t.Run("self-check passes, twice", func(t *testing.T) {
		for run := 1; run <= 2; run++ {
			results := d.Check(ctx)
			var want, got []string
			for _, r := range results {
				want = append(want, r.Request+" → "+r.Want)
				got = append(got, r.Request+" → "+r.Got)
				if !r.OK {
					t.Errorf("run %d: %s with token %s = %s (%s), want %s", run, r.Request, r.Token, r.Got, r.Note, r.Want)
				}
			}
			if len(results) != 6 || !Passed(results) {
				t.Fatalf("run %d: Check (-want +got):\n%s", run, cmp.Diff(want, got))
			}
			for i, w := range []string{"401", "401", "403", "201", "200 Miss", "200 Hit"} {
				if results[i].Want != w {
					t.Errorf("run %d: row %d expects %q, want %q", run, i, results[i].Want, w)
				}
			}
		}
	})

	read := mint(t, d, ScopeRead)
	write := mint(t, d, ScopeWrite)
	c := &http.Client{}

	t.Run("read token lists orders", func(t *testing.T) {
		resp := call(t, c, "GET", d.EdgeURL()+"/orders", read, "", nil)
		var list struct{ Orders []Order }
		if resp.StatusCode != 200 || json.Unmarshal(resp.Body, &list) != nil || len(list.Orders) < 2 {
			t.Errorf("GET /orders = %d %s, want 200 and the orders", resp.StatusCode, resp.Body)
		}
	})

	t.Run("the origin never sees the token and cannot be told who called", func(t *testing.T) {
		resp := call(t, c, "POST", d.EdgeURL()+"/orders", write, `{"item":"tea","quantity":2}`,
			http.Header{"X-User-Id": {"mallory"}})
		var ord Order
		if resp.StatusCode != 201 || json.Unmarshal(resp.Body, &ord) != nil {
			t.Fatalf("POST /orders = %d %s, want 201", resp.StatusCode, resp.Body)
		}
		if ord.CreatedBy != DefaultSubject {
			t.Errorf("created_by = %q, want %q (the token's subject, not the client's X-User-Id)", ord.CreatedBy, DefaultSubject)
		}
	})

	t.Run("write token deletes, read token cannot", func(t *testing.T) {
		if resp := call(t, c, "DELETE", d.EdgeURL()+"/orders/2", read, "", nil); resp.StatusCode != 403 {
			t.Errorf("DELETE /orders/2 with a read token = %d, want 403", resp.StatusCode)
		}
		if resp := call(t, c, "DELETE", d.EdgeURL()+"/orders/2", write, "", nil); resp.StatusCode != 204 {
			t.Errorf("DELETE /orders/2 with a write token = %d %s, want 204", resp.StatusCode, resp.Body)
		}
	})

	t.Run("an ES256 token is accepted too", func(t *testing.T) {
		tr, err := RequestToken(ctx, nil, d.IssuerURL(), ScopeRead, ES256)
		if err != nil {
			t.Fatal(err)
		}
		if resp := call(t, c, "GET", d.EdgeURL()+"/orders/1", tr.AccessToken, "", nil); resp.StatusCode != 200 {
			t.Errorf("GET /orders/1 with an ES256 token = %d %s, want 200", resp.StatusCode, resp.Body)
		}
	})

	t.Run("the origin serves under the stage path", func(t *testing.T) {
		resp := call(t, c, "GET", d.OriginURL()+"/orders/1", "", "", nil)
		if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != OrdersCacheControl {
			t.Errorf("GET origin /prod/orders/1 = %d, Cache-Control %q; want 200, %q", resp.StatusCode, resp.Header.Get("Cache-Control"), OrdersCacheControl)
		}
	})

	t.Run("admin is up", func(t *testing.T) {
		if resp := call(t, c, "GET", d.AdminURL()+"/healthz", "", "", nil); resp.StatusCode != 200 {
			t.Errorf("GET admin /healthz = %d, want 200", resp.StatusCode)
		}
	})

	t.Run("the configuration loads as a file would", func(t *testing.T) {
		if _, err := config.ParseEdge("demo.yaml", d.Config(), noEnv); err != nil {
			t.Errorf("ParseEdge(demo config) = %v", err)
		}
	})
}

func mint(t *testing.T, d *Demo, scope string) string {
	t.Helper()
	tr, err := RequestToken(t.Context(), nil, d.IssuerURL(), scope, "")
	if err != nil {
		t.Fatal(err)
	}
	return tr.AccessToken
}

func call(t *testing.T, c *http.Client, method, url, token, body string, h http.Header) *response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return &response{StatusCode: resp.StatusCode, Header: resp.Header, Body: b}
}

// signalWriter collects output and closes ready when it holds marker.
type signalWriter struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	marker string
	ready  chan struct{}
	once   sync.Once
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if strings.Contains(w.buf.String(), w.marker) {
		w.once.Do(func() { close(w.ready) })
	}
	return len(p), nil
}

func (w *signalWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// TestRun_PrintsWhatIsWhereChecksAndStopsOnCancel runs the command's body:
// the printed table passes, the printed token works, and cancelling the
// context (Ctrl-C) stops everything cleanly.
func TestRun_PrintsWhatIsWhereChecksAndStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	out := &signalWriter{marker: "Serving until Ctrl-C.", ready: make(chan struct{})}
	errc := make(chan error, 1)
	go func() { errc <- Run(ctx, Options{}, out) }()

	select {
	case <-out.ready:
	case err := <-errc:
		t.Fatalf("Run = %v before serving; output:\n%s", err, out)
	}
	text := out.String()
	for _, want := range []string{"edge ", "admin ", "origin ", "token issuer ", "All 6 passed.", "READ_TOKEN='", "curl -i ",
		"status page ", "/status", "tracing ", "--trace-endpoint http://127.0.0.1:4318"} {
		if !strings.Contains(text, want) {
			t.Errorf("Run output lacks %q; output:\n%s", want, text)
		}
	}
	if strings.Contains(text, "✗") {
		t.Errorf("Run output has a failed row:\n%s", text)
	}

	// The printed token and the printed edge URL work as printed.
	tok := regexp.MustCompile(`READ_TOKEN='([^']+)'`).FindStringSubmatch(text)
	edge := regexp.MustCompile(`edge\s+(http://\S+)`).FindStringSubmatch(text)
	if tok == nil || edge == nil {
		t.Fatalf("no READ_TOKEN or edge URL in the output:\n%s", text)
	}
	if resp := call(t, &http.Client{}, "GET", edge[1]+"/orders/1", tok[1], "", nil); resp.StatusCode != 200 {
		t.Errorf("GET /orders/1 with the printed READ_TOKEN = %d %s, want 200", resp.StatusCode, resp.Body)
	}

	cancel()
	if err := <-errc; err != nil {
		t.Errorf("Run after cancel = %v, want nil", err)
	}
	if !strings.HasSuffix(out.String(), "Stopped.\n") {
		t.Errorf("Run output does not end with Stopped.:\n%s", out)
	}
	if _, err := net.Dial("tcp", strings.TrimPrefix(edge[1], "http://")); err == nil {
		t.Errorf("the edge still accepts connections after Run returned")
	}
}

func TestStart_SaysWhichPortIsTaken(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() }) // after the parallel subtests
	taken := ln.Addr().String()
	port := ln.Addr().(*net.TCPAddr).Port
	tests := []struct {
		name string
		opts Options
		flag string
	}{
		{"listen", Options{Listen: taken}, "--listen"},
		{"admin", Options{Admin: taken}, "--admin"},
		{"origin", Options{OriginPort: port}, "--origin-port"},
		{"issuer", Options{IssuerPort: port}, "--issuer-port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d, err := Start(t.Context(), tt.opts)
			if err == nil {
				d.Close()
			}
			if err == nil || !strings.Contains(err.Error(), tt.flag) {
				t.Errorf("Start(%s on a taken port) = %v, want an error naming %s", tt.name, err, tt.flag)
			}
		})
	}
}

func TestLayout_BaseURLsCoverHowClientsAddressTheEdge(t *testing.T) {
	t.Parallel()
	tests := []struct {
		listen string
		want   []string
	}{
		{"127.0.0.1:8080", []string{"http://127.0.0.1:8080", "http://localhost:8080"}},
		{"localhost:8080", []string{"http://127.0.0.1:8080", "http://localhost:8080"}},
		{"0.0.0.0:8080", []string{"http://127.0.0.1:8080", "http://localhost:8080"}},
		{"192.0.2.7:80", []string{"http://127.0.0.1:80", "http://localhost:80", "http://192.0.2.7:80"}},
		{"[::1]:8080", []string{"http://127.0.0.1:8080", "http://localhost:8080", "http://[::1]:8080"}},
	}
	for _, tt := range tests {
		if got := (Layout{Listen: tt.listen}).baseURLs(); !cmp.Equal(got, tt.want) {
			t.Errorf("baseURLs(%s) = %v, want %v", tt.listen, got, tt.want)
		}
	}
}

func TestDialable_NamesLoopbackForAnUnspecifiedHost(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"0.0.0.0:8080":   "127.0.0.1:8080",
		"[::]:8080":      "127.0.0.1:8080",
		"127.0.0.1:8080": "127.0.0.1:8080",
		"[::1]:9":        "[::1]:9",
	} {
		if got := dialable(in); got != want {
			t.Errorf("dialable(%q) = %q, want %q", in, got, want)
		}
	}
}
