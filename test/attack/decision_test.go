package attack

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/edgeward/edgeward/internal/sideband"
)

// Group 5 of docs/security.md: decisions are explicit. The authorize
// function calls a fake sideband service that answers everything but a
// decision; each answer must give the client 502 and the origin nothing.
// A real deny is passed through.

// TestDecisions scripts one answer of the service per case.
func TestDecisions(t *testing.T) { eachDecisionMode(t, testDecisions) }

func testDecisions(t *testing.T, o options) {
	svc := newSecSideband(t)
	elsewhere := newSecSideband(t) // where redirects point: it would allow
	o.functions = svc.functions()
	e := newEnvWith(t, o)
	tok := e.reader()

	redirect := func(code int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Location", elsewhere.srv.URL+r.URL.Path)
			w.WriteHeader(code)
		}
	}
	big := strings.Repeat("x", 2<<20)
	oversized := func(declare bool) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			body := `{"method":"GET","url":"http://api.example/echo/x","headers":[],"state":"` + big + `"}`
			w.Header().Set("Content-Type", "application/json")
			if declare {
				w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			}
			w.Write([]byte(body))
		}
	}
	cutShort := func(w http.ResponseWriter, r *http.Request) {
		body := `{"method":"GET","url":"http://api.example/echo/x","headers":[]}`
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)+50))
		w.Write([]byte(body)) // then the handler returns: the connection is cut
	}
	hang := func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }
	reset := func(w http.ResponseWriter, r *http.Request) {
		c, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetLinger(0) // RST, not FIN
		}
		c.Close()
	}
	echo := func(edit func(*sideband.Reply)) http.HandlerFunc { return secAllowEcho(edit) }
	retyped := func(contentType string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			secAllowEcho(nil)(&retypeWriter{ResponseWriter: w, ct: contentType}, r)
		}
	}

	cases := []struct {
		name  string
		h     http.HandlerFunc
		calls int // sideband calls the case makes (max_retries 1: 2 for a retried fault)
	}{
		{"redirect 301 to a service that would allow", redirect(http.StatusMovedPermanently), 1},
		{"redirect 302 to a service that would allow", redirect(http.StatusFound), 1},
		{"redirect 307 to a service that would allow", redirect(http.StatusTemporaryRedirect), 1},
		{"redirect 308 to a service that would allow", redirect(http.StatusPermanentRedirect), 1},
		{"empty object", secReply(200, `{}`, "Content-Type", "application/json"), 1},
		{"response null", secReply(200, `{"response": null}`, "Content-Type", "application/json"), 1},
		{"response empty object", secReply(200, `{"response": {}}`, "Content-Type", "application/json"), 1},
		{"response a string", secReply(200, `{"response": "deny"}`, "Content-Type", "application/json"), 1},
		{"response_code out of range", secReply(200, `{"response": {"response_code": "700", "headers": []}}`, "Content-Type", "application/json"), 1},
		{"response_code 100", secReply(200, `{"response": {"response_code": "100", "headers": []}}`, "Content-Type", "application/json"), 1},
		{"JSON null", secReply(200, `null`, "Content-Type", "application/json"), 1},
		{"JSON array", secReply(200, `[]`, "Content-Type", "application/json"), 1},
		{"JSON string", secReply(200, `"allow"`, "Content-Type", "application/json"), 1},
		{"JSON true", secReply(200, `true`, "Content-Type", "application/json"), 1},
		{"non-JSON text", secReply(200, `allow`, "Content-Type", "text/plain"), 1},
		{"HTML page", secReply(200, `<html><body>Welcome</body></html>`, "Content-Type", "text/html"), 1},
		{"truncated JSON", secReply(200, `{"method":"GET","url":"http://api.exa`, "Content-Type", "application/json"), 1},
		{"allow followed by garbage", secReply(200, `{"method":"GET","url":"http://api.example/echo/x","headers":[]}xyz`, "Content-Type", "application/json"), 1},
		{"body cut short of its Content-Length", cutShort, 2},
		{"oversized reply, chunked", oversized(false), 1},
		{"oversized reply, Content-Length", oversized(true), 1},
		{"empty 200", secReply(200, ``, "Content-Type", "application/json"), 1},
		{"empty 200 without Content-Type", secReply(200, ``), 1},
		{"204 No Content", secReply(204, ``), 1},
		{"allow echo as text/plain", retyped("text/plain"), 1},
		{"allow echo as text/html", retyped("text/html; charset=utf-8"), 1},
		{"allow echo without Content-Type", retyped(""), 1},
		{"allow without headers array", echo(func(r *sideband.Reply) { r.Headers = nil }), 1},
		{"allow without method", echo(func(r *sideband.Reply) { r.Method = "" }), 1},
		{"allow without url", echo(func(r *sideband.Reply) { r.URL = "" }), 1},
		{"allow with a relative url", echo(func(r *sideband.Reply) { r.URL = "/echo/other" }), 1},
		{"allow with a non-http url", echo(func(r *sideband.Reply) { r.URL = "file:///etc/passwd" }), 1},
		{"allow with a path that is not canonical", echo(func(r *sideband.Reply) { r.URL = "http://api.example/echo/../admin/x" }), 1},
		{"allow with an encoded slash in the path", echo(func(r *sideband.Reply) { r.URL = "http://api.example/echo/..%2Fadmin" }), 1},
		{"allow with a method that is not a token", echo(func(r *sideband.Reply) { r.Method = "GET /admin/x HTTP/1.1\r\nX:" }), 1},
		{"allow turning the method into CONNECT", echo(func(r *sideband.Reply) { r.Method = "CONNECT" }), 1},
		{"allow turning the method into one the behavior refuses", echo(func(r *sideband.Reply) { r.Method = "TRACE" }), 1},
		{"allow with a header value carrying CRLF", echo(func(r *sideband.Reply) {
			r.Headers = append(r.Headers, sideband.Header{Name: "x-a", Value: "1\r\nX-User-Id: admin"})
		}), 1},
		{"5xx on every attempt", secReply(500, `{"id":"1","code":"INTERNAL","message":"boom"}`, "Content-Type", "application/json"), 2},
		{"503 on every attempt", secReply(503, `{"id":"1","code":"UNAVAILABLE","message":"later"}`, "Content-Type", "application/json"), 2},
		{"400 from the service", secReply(400, `{"id":"1","code":"INVALID_REQUEST","message":"no"}`, "Content-Type", "application/json"), 1},
		{"401 from the service: credential refused", secReply(401, `{"id":"1","code":"UNAUTHORIZED","message":"The Gateway Token is invalid"}`, "Content-Type", "application/json"), 1},
		{"403 from the service", secReply(403, `{"id":"1","code":"FORBIDDEN","message":"no"}`, "Content-Type", "application/json"), 1},
		{"404 from the service", secReply(404, `not found`, "Content-Type", "text/plain"), 1},
		{"hang past the timeout", hang, 1},
		{"connection reset on every attempt", reset, 2},
	}
	for i, c := range cases {
		target := fmt.Sprintf("/echo/dec-%d", i)
		t.Run(c.name, func(t *testing.T) {
			svc.answer(c.h)
			before, calls, followed := e.origin.count(), svc.count(), elsewhere.count()
			start := time.Now()
			res := e.do("GET", target, bearer(tok), "")
			took := time.Since(start)
			if res.status != http.StatusBadGateway {
				t.Fatalf("GET %s = %d %q, want 502", target, res.status, res.body)
			}
			secNothing(t, e.origin, before)
			if got := svc.count() - calls; got != c.calls {
				t.Fatalf("the service was called %d times, want %d", got, c.calls)
			}
			if elsewhere.count() != followed {
				t.Fatal("a redirect was followed")
			}
			if took > secDecisionTimeout+2*time.Second {
				t.Fatalf("answered after %s, want within the %s decision timeout", took, secDecisionTimeout)
			}
			if strings.Contains(res.body, "boom") || strings.Contains(res.body, "Welcome") || strings.Contains(res.body, "Gateway Token") {
				t.Fatalf("502 body shows the service's answer: %q", res.body)
			}
			if o.decisionCache {
				// Nothing was kept: once the failed call has ended (a
				// repeat during it joins it), the same request asks the
				// service again.
				svc.waitIdle(t)
				calls := svc.count()
				if res := e.do("GET", target, bearer(tok), ""); res.status != http.StatusBadGateway {
					t.Fatalf("repeat GET %s = %d, want 502 again", target, res.status)
				}
				if got := svc.count() - calls; got != c.calls {
					t.Fatalf("repeat: the service was called %d times, want %d (no decision is kept)", got, c.calls)
				}
			}
		})
	}

	// A deny is the service's answer to the client, passed through.
	for i, c := range []struct {
		name   string
		status int
		header sideband.Headers
		body   string
	}{
		{"deny 401 with a challenge passed through", 401,
			sideband.Headers{{Name: "www-authenticate", Value: `Bearer error="invalid_token"`}, {Name: "content-type", Value: "application/json"}},
			`{"error":"invalid_token"}`},
		{"deny 403 with a body passed through", 403,
			sideband.Headers{{Name: "content-type", Value: "application/json"}, {Name: "x-deny-reason", Value: "policy"}},
			`{"error":"forbidden","detail":"policy says no"}`},
		{"deny 404 passed through", 404, sideband.Headers{{Name: "content-type", Value: "text/plain"}}, "no such API"},
		{"deny 429 with Retry-After passed through", 429, sideband.Headers{{Name: "retry-after", Value: "7"}}, "slow down"},
	} {
		target := fmt.Sprintf("/echo/deny-%d", i)
		t.Run(c.name, func(t *testing.T) {
			body := c.body
			svc.answer(secJSON(sideband.Reply{Response: &sideband.Response{
				ResponseCode: sideband.Code(c.status), ResponseStatus: http.StatusText(c.status), Headers: c.header, Body: &body}}))
			before := e.origin.count()
			res := e.do("GET", target, bearer(tok), "")
			if res.status != c.status || res.body != c.body {
				t.Fatalf("GET %s = %d %q, want %d %q", target, res.status, res.body, c.status, c.body)
			}
			for _, h := range c.header {
				if got := res.header.Get(h.Name); got != h.Value {
					t.Fatalf("deny header %s = %q, want %q", h.Name, got, h.Value)
				}
			}
			secNothing(t, e.origin, before)
			if o.decisionCache {
				// A kept deny is replayed as it was, without a call.
				calls := svc.count()
				again := e.do("GET", target, bearer(tok), "")
				if again.status != res.status || again.body != res.body || svc.count() != calls {
					t.Fatalf("repeat GET %s = %d %q after %d calls, want the kept deny %d %q and no call",
						target, again.status, again.body, svc.count()-calls, res.status, res.body)
				}
				secNothing(t, e.origin, before)
			}
		})
	}

	// Controls: an exact echo is an allow, and a well-formed rewrite is
	// applied as the protocol says (the origin gets exactly what the
	// service decided on, and the cache would key it).
	t.Run("control: exact echo allows", func(t *testing.T) {
		svc.answer(secAllowEcho(nil))
		before := e.origin.count()
		if res := e.do("GET", "/echo/allow", bearer(tok), ""); res.status != http.StatusOK {
			t.Fatalf("GET /echo/allow = %d %q, want 200", res.status, res.body)
		}
		secReached(t, e.origin, before, "/echo/allow")
		if got := svc.last(); got.Method != "GET" || got.URL != "http://api.example/echo/allow" {
			t.Fatalf("the service saw %s %s, want GET http://api.example/echo/allow", got.Method, got.URL)
		}
	})
	t.Run("control: canonical rewrite is what the origin gets", func(t *testing.T) {
		svc.answer(secAllowEcho(func(r *sideband.Reply) { r.URL = "http://api.example/echo/rewritten?b=2" }))
		before := e.origin.count()
		if res := e.do("GET", "/echo/original?a=1", bearer(tok), ""); res.status != http.StatusOK {
			t.Fatalf("GET /echo/original = %d %q, want 200", res.status, res.body)
		}
		got := secReached(t, e.origin, before, "/echo/rewritten")
		if got.Target != "/prod/echo/rewritten?b=2" {
			t.Fatalf("origin target %q, want /prod/echo/rewritten?b=2", got.Target)
		}
	})
}

// secJSON answers v as application/json.
func secJSON(v any) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b, _ := json.Marshal(v)
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	}
}

// retypeWriter replaces the Content-Type of an answer written without an
// explicit WriteHeader ("" sends none).
type retypeWriter struct {
	http.ResponseWriter
	ct    string
	wrote bool
}

func (w *retypeWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.wrote = true
		if w.ct == "" {
			w.Header()["Content-Type"] = nil
		} else {
			w.Header().Set("Content-Type", w.ct)
		}
	}
	return w.ResponseWriter.Write(b)
}
