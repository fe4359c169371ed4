package origin_test

import (
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/edgeward/edgeward/internal/edge"
	"github.com/edgeward/edgeward/internal/origin"
	"github.com/edgeward/edgeward/internal/origintest"
)

func TestForward_ChoosesTheFastPathOnlyForBodilessGetAndHead(t *testing.T) {
	t.Parallel()
	plain := origintest.New(t)
	plain.Handle("/ws", origintest.Reply{Handler: http.HandlerFunc(origintest.WebSocketEcho)})
	tests := []struct {
		name     string
		cfg      origin.Config
		method   string
		body     string
		header   http.Header
		adjust   func(*edge.Request)
		path     string
		wantFast bool
	}{
		{name: "GET", method: "GET", wantFast: true},
		{name: "HEAD", method: "HEAD", wantFast: true},
		{name: "GET accepting trailers", method: "GET", header: http.Header{"Te": {"trailers"}}, wantFast: true},
		{name: "match-viewer over http", cfg: origin.Config{ProtocolPolicy: origin.MatchViewer}, method: "GET", wantFast: true},
		{name: "POST without body", method: "POST"},
		{name: "POST with body", method: "POST", body: "x"},
		{name: "DELETE", method: "DELETE"},
		{name: "GET with body", method: "GET", body: "x"},
		{name: "GET with Expect", method: "GET", header: http.Header{"Expect": {"100-continue"}}},
		{name: "max_conns", cfg: origin.Config{MaxConns: 10}, method: "GET"},
		{name: "value a function broke", method: "GET", adjust: func(r *edge.Request) { r.HTTP.Header.Set("X-User", "a\r\nX-Evil: 1") }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := tc.cfg
			cfg.URL = plain.URL
			o := newOrigin(t, viaAny, cfg, origin.Options{})
			e := newEdge(t, o, tc.adjust)
			req, _ := http.NewRequest(tc.method, e.URL+"/x", strings.NewReader(tc.body))
			if tc.body == "" {
				req.Body = nil
			}
			for k, v := range tc.header {
				req.Header[k] = v
			}
			do(t, req)
			for _, r := range plain.Requests() {
				if r.Header.Get("X-Evil") != "" {
					t.Errorf("a header value with CRLF split into a new header at the origin: %v", r.Header)
				}
			}
			fast, proxy := origin.ClientCounts(o)
			if got := fast == 1 && proxy == 0; got != tc.wantFast {
				t.Errorf("%s: fast=%v proxy=%v, want fast path %v", tc.name, fast, proxy, tc.wantFast)
			}
		})
	}
}

func TestForward_RetriesGetWhenTheOriginClosedAnIdleConnection(t *testing.T) {
	eachPath(t, func(t *testing.T, path string) {
		// Each answer closes its connection without saying so (no
		// Connection: close): a keep-alive connection the origin dropped
		// while it sat idle in the pool.
		var conns atomic.Int32
		var answer atomic.Pointer[[]byte]
		ok := []byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		answer.Store(&ok)
		o := newOrigin(t, path, origin.Config{URL: rawOrigin(t, &answer, &conns)}, origin.Options{})
		e := newEdge(t, o, nil)
		for i := range 3 {
			if res, body := e.get(t, "/x", nil); res.StatusCode != 200 || body != "ok" {
				t.Fatalf("request %d = %d %q, want 200 ok (%v)", i, res.StatusCode, body, e.lastErr(t))
			}
		}
		if got := conns.Load(); got != 3 {
			t.Errorf("origin saw %d connections, want 3 (one per request)", got)
		}
	})
}

func TestForward_HugeResponseHeaderIs502(t *testing.T) {
	eachPath(t, func(t *testing.T, path string) {
		o := origintest.New(t)
		o.Handle("/big", origintest.Reply{Raw: []byte("HTTP/1.1 200 OK\r\nX-Big: " + strings.Repeat("a", 70<<10) + "\r\nContent-Length: 0\r\n\r\n")})
		e := newEdge(t, newOrigin(t, path, origin.Config{URL: o.URL}, origin.Options{}), nil)
		if res, _ := e.get(t, "/big", nil); res.StatusCode != http.StatusBadGateway {
			t.Fatalf("status %d, want 502", res.StatusCode)
		}
		edgeError(t, e.lastErr(t), http.StatusBadGateway, "bad origin response")
	})
}

func TestForward_HeadKeepsContentLengthWithoutBody(t *testing.T) {
	eachPath(t, func(t *testing.T, path string) {
		o := origintest.New(t)
		o.Handle("/h", origintest.Reply{Raw: []byte("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\nContent-Type: text/plain\r\n\r\n")})
		e := newEdge(t, newOrigin(t, path, origin.Config{URL: o.URL}, origin.Options{}), nil)
		req, _ := http.NewRequest(http.MethodHead, e.URL+"/h", nil)
		res, body := do(t, req)
		if res.StatusCode != 200 || res.ContentLength != 1234 || body != "" {
			t.Errorf("HEAD = %d length %d body %q, want 200 length 1234 and no body", res.StatusCode, res.ContentLength, body)
		}
		if o.Last().Method != http.MethodHead {
			t.Errorf("origin got %s, want HEAD", o.Last().Method)
		}
	})
}

func TestForward_PassesTrailersAndEarlyHints(t *testing.T) {
	eachPath(t, func(t *testing.T, path string) {
		o := origintest.New(t)
		o.Handle("/t", origintest.Reply{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Link", "</style.css>; rel=preload")
			w.WriteHeader(http.StatusEarlyHints)
			w.Header().Del("Link")
			w.Header().Set("Trailer", "X-Checksum")
			w.Write([]byte("body"))
			w.Header().Set("X-Checksum", "abc")
		})})
		e := newEdge(t, newOrigin(t, path, origin.Config{URL: o.URL}, origin.Options{}), nil)
		var hints []string
		trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
			hints = append(hints, h.Get("Link"))
			return nil
		}}
		req, _ := http.NewRequest(http.MethodGet, e.URL+"/t", nil)
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
		req.Header.Set("Te", "trailers")
		res, body := do(t, req)
		if body != "body" || res.Trailer.Get("X-Checksum") != "abc" {
			t.Errorf("got body %q trailer %v, want body and X-Checksum: abc", body, res.Trailer)
		}
		if len(hints) != 1 || hints[0] != "</style.css>; rel=preload" {
			t.Errorf("early hints = %q, want the origin's Link", hints)
		}
		if te := o.Last().Header.Get("Te"); te != "trailers" {
			t.Errorf("origin Te = %q, want trailers", te)
		}
	})
}
