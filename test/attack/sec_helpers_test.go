package attack

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgeward/edgeward/internal/sideband"
)

// Helpers of owned_test.go, token_test.go, decision_test.go and
// cache_test.go. Their names start with "sec" so that they never clash
// with the helpers of the suite's other files.

// secRaw builds one raw HTTP/1.1 request for api.example that asks the
// edge to close the connection after answering: the request line, lines
// (each a header line, without CRLF) and body verbatim.
func secRaw(method, target string, lines []string, body string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, target, host)
	for _, l := range lines {
		b.WriteString(l)
		b.WriteString("\r\n")
	}
	b.WriteString("Connection: close\r\n\r\n")
	b.WriteString(body)
	return b.String()
}

// secOne writes a raw request on a fresh connection and returns the
// response (see wire: the connection is not half-closed).
func (e *env) secOne(request string) response {
	e.t.Helper()
	r := wire(e.t, e.addr, request, 1)
	if len(r.responses) == 0 {
		e.t.Fatalf("no response to %q: closed %v, %v", request, r.closed, r.err)
	}
	return r.responses[0]
}

// secReached returns the single request that reached the origin since
// the first n, failing unless exactly one did and the origin understood it
// as exactly /prod+path (the path the edge authorized).
func secReached(t *testing.T, o *origin, n int, path string) originRequest {
	t.Helper()
	got := o.since(n)
	if len(got) != 1 {
		t.Fatalf("origin got %d requests, want exactly 1 (for %s): %v", len(got), path, secTargets(got))
	}
	if want := "/prod" + path; got[0].Path != want {
		t.Fatalf("origin understood %q (target %q), want %q", got[0].Path, got[0].Target, want)
	}
	return got[0]
}

// secNothing fails if any request reached the origin since the first n.
func secNothing(t *testing.T, o *origin, n int) {
	t.Helper()
	if got := o.since(n); len(got) > 0 {
		t.Fatalf("origin got %d requests, want none: %v", len(got), secTargets(got))
	}
}

func secTargets(rs []originRequest) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Method + " " + r.Target
	}
	return out
}

// secNoValue fails if marker appears anywhere in the origin request's
// head (any header, any spelling) or body.
func secNoValue(t *testing.T, r originRequest, marker string) {
	t.Helper()
	if bytes.Contains(bytes.ToLower(r.Raw), []byte(strings.ToLower(marker))) ||
		bytes.Contains(bytes.ToLower(r.Body), []byte(strings.ToLower(marker))) {
		t.Fatalf("origin received %q:\n%s", marker, r.Raw)
	}
}

// secHeaderIs fails unless the origin request has exactly the values
// want for name (none when want is empty).
func secHeaderIs(t *testing.T, r originRequest, name string, want ...string) {
	t.Helper()
	got := r.Header.Values(name)
	if len(got) != len(want) || strings.Join(got, "\x00") != strings.Join(want, "\x00") {
		t.Fatalf("origin header %s = %q, want %q\n%s", name, got, want, r.Raw)
	}
}

// secSideband is a fake sideband service whose answer is swapped per
// case: the decision service the authorize function calls. It records
// every call.
type secSideband struct {
	srv *httptest.Server

	mu      sync.Mutex
	handler http.HandlerFunc
	calls   []sideband.Request
	headers []http.Header
	busy    int           // calls being answered
	idle    chan struct{} // closed when busy drops to 0; nil while 0
}

func newSecSideband(t *testing.T) *secSideband {
	t.Helper()
	s := &secSideband{handler: secAllowEcho(nil)}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req sideband.Request
		_ = json.Unmarshal(body, &req)
		s.mu.Lock()
		s.calls = append(s.calls, req)
		s.headers = append(s.headers, r.Header.Clone())
		h := s.handler
		if s.busy++; s.idle == nil {
			s.idle = make(chan struct{})
		}
		s.mu.Unlock()
		defer func() {
			s.mu.Lock()
			if s.busy--; s.busy == 0 {
				close(s.idle)
				s.idle = nil
			}
			s.mu.Unlock()
		}()
		r.Body = io.NopCloser(bytes.NewReader(body))
		h(w, r)
	}))
	t.Cleanup(func() {
		s.srv.CloseClientConnections()
		s.srv.Close()
	})
	return s
}

// answer makes h the service's answer to every following call.
func (s *secSideband) answer(h http.HandlerFunc) {
	s.mu.Lock()
	s.handler = h
	s.mu.Unlock()
}

// waitIdle returns once no call is being answered (a call the edge gave up
// on ends when its connection does).
func (s *secSideband) waitIdle(t *testing.T) {
	t.Helper()
	s.mu.Lock()
	ch := s.idle
	s.mu.Unlock()
	if ch == nil {
		return
	}
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatal("the decision service still answers a call 10s later")
	}
}

// count is how many calls arrived.
func (s *secSideband) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls)
}

// last is the last call's request-phase body.
func (s *secSideband) last() sideband.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.calls) == 0 {
		return sideband.Request{}
	}
	return s.calls[len(s.calls)-1]
}

// functions is the functions: section that points authorize at s, with
// a short timeout and a breaker that never opens during the suite
// (so that every case is answered by the fault it scripts, not by the
// breaker).
func (s *secSideband) functions() string {
	return fmt.Sprintf(`
functions:
  authorize:
    service_url: %s/v1/environments/e1
    secret_header_value: gateway-credential
    timeout: %s
    max_retries: 1
    breaker: {failures: 1000, open_for: 1s}
`, s.srv.URL, secDecisionTimeout)
}

// secDecisionTimeout is the authorize function's whole budget: long
// enough for a retry on a loaded 2-core machine, short enough that the
// hanging service costs the suite little.
const secDecisionTimeout = 1500 * time.Millisecond

// secAllowEcho answers with the request echoed as an allow, after edit
// (if any) changed it; application/json.
func secAllowEcho(edit func(*sideband.Reply)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req sideband.Request
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		rep := sideband.Reply{Request: req}
		if edit != nil {
			edit(&rep)
		}
		b, _ := json.Marshal(rep)
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	}
}

// secReply answers status, with header fields kv (name, value, ...) and
// body, exactly: no Content-Type is added.
func secReply(status int, body string, kv ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["Content-Type"] = nil // no sniffing: only what kv says
		for i := 0; i+1 < len(kv); i += 2 {
			h.Set(kv[i], kv[i+1])
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}
