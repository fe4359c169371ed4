package attack

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/textproto"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgeward/edgeward/internal/testkit"
	"github.com/edgeward/edgeward/internal/token/tokentest"
)

// binary is the edgeward binary under attack, built once by TestMain (or
// taken from $EDGEWARD_BIN).
var binary string

func TestMain(m *testing.M) { os.Exit(testkit.RunWithEdgeward(m, &binary)) }

// host is the authority every request of the suite names: the API
// service's base URL.
const host = "api.example"

// audience is the audience the API service requires.
const audience = "https://api.example.com"

// The default configuration: a behavior without any function (/public/*)
// that still strips owned headers, a cached authorized behavior
// (/orders/*), and an uncached authorized catch-all that forwards every
// header, so that the suite sees what a client managed to send.
const edgeTemplate = `
listen: 127.0.0.1:0
admin: 127.0.0.1:0
owned_headers: [x-tenant]
%[1]s
origins:
  api:
    url: http://%[2]s/prod
behaviors:
  - path_pattern: "/public/*"
    origin: api
    allowed_methods: [GET, HEAD, OPTIONS, PUT, POST, PATCH, DELETE]
    cache: {default_ttl: 60s}
  - path_pattern: "/orders/*"
    origin: api
    allowed_methods: [GET, HEAD, OPTIONS, PUT, POST, PATCH, DELETE]
    viewer_request: authorize
    cache: {default_ttl: 60s, key: {headers: [accept-language]}}
  - path_pattern: "*"
    origin: api
    allowed_methods: [GET, HEAD, OPTIONS, PUT, POST, PATCH, DELETE]
    viewer_request: authorize
    cache: {enabled: false}
%[3]s
decision:
  token_issuers:
    test: {issuer: %[4]q, jwks_url: %[5]q, algorithms: [RS256, ES256]}
  api_services:
    - name: API
      base_urls: [http://api.example]
      token_issuer: test
      audience: https://api.example.com
      operations:
        - name: Read orders
          methods: [GET, HEAD]
          paths:
            - {type: EXACT, pattern: /orders}
            - {type: PARAMETER, pattern: "/orders/{id}"}
            - {type: PARAMETER, pattern: "/orders/{id}/items"}
          access_control: {scopes: {match: ANY, values: [orders:read]}}
        - name: Change orders
          methods: [POST, PUT, PATCH, DELETE]
          paths:
            - {type: EXACT, pattern: /orders}
            - {type: PARAMETER, pattern: "/orders/{id}"}
          access_control: {scopes: {match: ALL, values: [orders:write]}}
        - name: Echo
          methods: [GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS]
          paths: [{type: PARAMETER, pattern: "/echo/**"}]
          access_control: {scopes: {match: ANY, values: [orders:read]}}
        - name: Admin
          methods: [GET, POST]
          paths: [{type: PARAMETER, pattern: "/admin/**"}]
          access_control: {scopes: {match: ANY, values: [admin]}}
      statements:
        set_headers: {x-user-id: "{{claims.sub}}"}
        remove_headers: [authorization]
logging:
  format: json
  access_log: {path: off}
`

// options change the default configuration.
type options struct {
	top       string // extra top-level keys (limits:, paths:, ...)
	functions string // a functions: section (default: the implicit embedded one)
	// decisionCache turns the authorize function's decision cache on
	// (see eachDecisionMode).
	decisionCache bool
}

// env is one running edge in front of one recording origin, with a token
// issuer its decision service trusts.
type env struct {
	t      testing.TB
	addr   string // the edge's viewer listener
	admin  string // the edge's admin listener
	origin *origin
	issuer *tokentest.Issuer
	logs   *testkit.Buffer
}

// newEnv starts the default edge.
func newEnv(t testing.TB) *env { return newEnvWith(t, options{}) }

// newEnvWith starts an edge with changed options.
func newEnvWith(t testing.TB, o options) *env {
	t.Helper()
	iss := tokentest.NewIssuer(t)
	org := newOrigin(t)
	if o.decisionCache {
		o.functions = withDecisionCache(o.functions)
	}
	cfg := fmt.Sprintf(edgeTemplate, o.top, org.addr(), o.functions, iss.URL(), iss.JWKSURL())
	e := &env{t: t, origin: org, issuer: iss}
	e.addr, e.admin, e.logs = startEdge(t, cfg)
	t.Cleanup(e.mustServe)
	return e
}

// startEdge runs the binary on cfg and returns its listeners once both
// are up. The process is stopped (SIGTERM, then SIGKILL) by t.Cleanup.
func startEdge(t testing.TB, cfg string) (addr, admin string, logs *testkit.Buffer) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "edgeward.yaml")
	if err := os.WriteFile(file, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	p := testkit.StartEdgeward(t, binary, file, nil)
	return p.Addr, p.Admin, p.Logs
}

// mustServe checks that the edge is still up and serving: after every
// attack, the process answers its health check and a plain request.
func (e *env) mustServe() {
	e.t.Helper()
	res, err := http.Get("http://" + e.admin + "/healthz")
	if err != nil {
		e.t.Errorf("edge no longer answers /healthz: %v", err)
		return
	}
	res.Body.Close()
	if got := e.status("GET", "/public/health-probe", nil); got != http.StatusOK {
		e.t.Errorf("edge no longer serves: GET /public/health-probe = %d", got)
	}
}

// token mints a valid access token for sub with the given scope.
func (e *env) token(sub, scope string) string {
	return e.issuer.Mint(map[string]any{"sub": sub, "aud": audience, "scope": scope})
}

// reader is alice's token (orders:read); writer is bob's (read and write).
func (e *env) reader() string { return e.token("alice", "orders:read") }
func (e *env) writer() string { return e.token("bob", "orders:read orders:write") }

// response is what the client got.
type response struct {
	status int
	header http.Header
	body   string
	closed bool // the edge closed the connection after this response
}

// do sends one request through net/http with Host api.example.
func (e *env) do(method, target string, header http.Header, body string) response {
	e.t.Helper()
	req, err := http.NewRequest(method, "http://"+e.addr+target, strings.NewReader(body))
	if err != nil {
		e.t.Fatalf("request %s %s: %v", method, target, err)
	}
	req.Host = host
	if body == "" {
		req.Body = nil
		req.ContentLength = 0
	}
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	res, err := client.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, target, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: string(b), closed: res.Close}
}

// status is do's status code.
func (e *env) status(method, target string, header http.Header) int {
	e.t.Helper()
	return e.do(method, target, header, "").status
}

// client never follows redirects and reuses no connection between
// tests' edges (each env has its own address anyway).
var client = &http.Client{
	Timeout:       20 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// bearer is an Authorization header with token.
func bearer(token string) http.Header {
	return http.Header{"Authorization": {"Bearer " + token}}
}

// with adds name: value to a copy of h.
func with(h http.Header, kv ...string) http.Header {
	out := h.Clone()
	if out == nil {
		out = http.Header{}
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out.Add(kv[i], kv[i+1])
	}
	return out
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// origin is a recording origin that reads requests the way a careless
// origin would: leniently.
type origin struct {
	t  testing.TB
	ln net.Listener

	mu     sync.Mutex
	reqs   []originRequest
	routes map[string]func(originRequest) originReply
}

// originRequest is one request as it arrived at the origin.
type originRequest struct {
	Method string
	Target string // the request target as it was on the wire
	Proto  string
	Header http.Header
	Body   []byte
	Raw    []byte // the head, byte for byte
	// Path is how a lenient origin understands Target: decoded twice, with
	// "\" as "/", ";params" dropped, dot segments resolved.
	Path string
}

// originReply is what the origin answers.
type originReply struct {
	Status int
	Header http.Header
	Body   string
}

func newOrigin(t testing.TB) *origin {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	o := &origin{t: t, ln: ln, routes: map[string]func(originRequest) originReply{}}
	var wg sync.WaitGroup
	conns := make(map[net.Conn]bool)
	var cmu sync.Mutex
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			cmu.Lock()
			conns[c] = true
			cmu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				o.serve(c)
				cmu.Lock()
				delete(conns, c)
				cmu.Unlock()
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		cmu.Lock()
		for c := range conns {
			c.Close()
		}
		cmu.Unlock()
		wg.Wait()
	})
	return o
}

func (o *origin) addr() string { return o.ln.Addr().String() }

// route answers requests whose lenient path starts with prefix (after the
// /prod stage) with f; the longest prefix wins.
func (o *origin) route(prefix string, f func(originRequest) originReply) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.routes[prefix] = f
}

// requests returns a copy of what the origin received so far.
func (o *origin) requests() []originRequest {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]originRequest(nil), o.reqs...)
}

// count is how many requests arrived.
func (o *origin) count() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.reqs)
}

// since returns the requests that arrived after the first n.
func (o *origin) since(n int) []originRequest {
	o.mu.Lock()
	defer o.mu.Unlock()
	if n > len(o.reqs) {
		return nil
	}
	return append([]originRequest(nil), o.reqs[n:]...)
}

func (o *origin) serve(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	for {
		req, err := readLenient(br)
		if err != nil {
			return
		}
		o.mu.Lock()
		o.reqs = append(o.reqs, req)
		reply := o.defaultReply(req)
		best := -1
		for p, f := range o.routes {
			if strings.HasPrefix(req.Path, "/prod"+p) && len(p) > best {
				best = len(p)
				reply = f(req)
			}
		}
		o.mu.Unlock()
		if reply.Status == 0 {
			reply.Status = http.StatusOK
		}
		var b bytes.Buffer
		fmt.Fprintf(&b, "HTTP/1.1 %d %s\r\n", reply.Status, http.StatusText(reply.Status))
		h := reply.Header.Clone()
		if h == nil {
			h = http.Header{}
		}
		h.Set("Content-Length", strconv.Itoa(len(reply.Body)))
		h.Write(&b)
		b.WriteString("\r\n")
		if req.Method != http.MethodHead {
			b.WriteString(reply.Body)
		}
		if _, err := c.Write(b.Bytes()); err != nil {
			return
		}
		if strings.EqualFold(req.Header.Get("Connection"), "close") {
			return
		}
	}
}

// defaultReply is a public, cacheable answer naming the resource the
// origin understood and the user the edge said it was for.
func (o *origin) defaultReply(req originRequest) originReply {
	return originReply{
		Status: http.StatusOK,
		Header: http.Header{"Cache-Control": {"public, max-age=60"}, "Content-Type": {"text/plain"}},
		Body:   fmt.Sprintf("resource=%s user=%s", req.Path, req.Header.Get("X-User-Id")),
	}
}

// readLenient reads one request: the request line split on spaces,
// header lines split on the first colon, a chunked or Content-Length body.
func readLenient(br *bufio.Reader) (originRequest, error) {
	var req originRequest
	var raw bytes.Buffer
	line, err := br.ReadString('\n')
	if err != nil {
		return req, err
	}
	raw.WriteString(line)
	parts := strings.Fields(line)
	if len(parts) < 2 {
		return req, fmt.Errorf("bad request line %q", line)
	}
	req.Method, req.Target = parts[0], parts[1]
	if len(parts) > 2 {
		req.Proto = parts[2]
	}
	req.Header = http.Header{}
	for {
		l, err := br.ReadString('\n')
		if err != nil {
			return req, err
		}
		raw.WriteString(l)
		l = strings.TrimRight(l, "\r\n")
		if l == "" {
			break
		}
		name, value, _ := strings.Cut(l, ":")
		req.Header.Add(textproto.CanonicalMIMEHeaderKey(strings.TrimSpace(name)), strings.TrimSpace(value))
	}
	req.Raw = raw.Bytes()
	req.Path = lenientPath(req.Target)
	var body io.Reader
	chunked := false
	switch {
	case strings.Contains(strings.ToLower(strings.Join(req.Header.Values("Transfer-Encoding"), ",")), "chunked"):
		body, chunked = httputil.NewChunkedReader(br), true
	case req.Header.Get("Content-Length") != "":
		n, err := strconv.ParseInt(req.Header.Get("Content-Length"), 10, 64)
		if err != nil || n < 0 {
			return req, fmt.Errorf("bad Content-Length")
		}
		body = io.LimitReader(br, n)
	}
	if body != nil {
		req.Body, err = io.ReadAll(body)
		if err != nil {
			return req, err
		}
	}
	// The chunked reader stops at the last chunk: the trailer section
	// and its blank line are still to be read.
	for chunked {
		l, err := br.ReadString('\n')
		if err != nil {
			return req, err
		}
		if strings.TrimRight(l, "\r\n") == "" {
			break
		}
	}
	return req, nil
}

// lenientPath is how a careless origin resolves a request target: it
// takes the path of an absolute-form target, decodes twice, reads "\" as
// "/", drops ";params" from every segment and resolves dot segments.
func lenientPath(target string) string {
	p := target
	if i := strings.Index(p, "://"); i >= 0 {
		p = p[i+3:]
		if j := strings.IndexByte(p, '/'); j >= 0 {
			p = p[j:]
		} else {
			p = "/"
		}
	}
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		p = p[:i]
	}
	for range 2 {
		if d, err := url.PathUnescape(p); err == nil {
			p = d
		}
	}
	p = strings.ReplaceAll(p, `\`, "/")
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if j := strings.IndexByte(s, ';'); j >= 0 {
			segs[i] = s[:j]
		}
	}
	p = path.Clean("/" + strings.Join(segs, "/"))
	return p
}
