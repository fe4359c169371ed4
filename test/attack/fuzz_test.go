package attack

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/edgeward/edgeward/internal/edge"
)

// The fuzz targets attack one running edge from every input (an input runs
// after the previous one has finished, so what reached the origin since an
// input started belongs to it). Their seed corpora are in
// testdata/fuzz/<name>; go test runs the seeds, go test -fuzz explores:
//
//	go test ./test/attack -run '^$' -fuzz FuzzOneViewPath -fuzztime 60s

// FuzzOneViewPath sends a fuzzed request target to the edge, once without
// a token and once with alice's (orders:read), and checks the one-view
// property on what came back and what reached the origin:
//
//   - the edge answers, never with a 5xx, and forwards at most one request;
//   - what the origin received is exactly the canonical path of what the
//     client sent (the path the edge matched, authorized and keyed the
//     cache on) and its query, and the lenient origin, which decodes twice,
//     understands the same resource as a strict one decoding once;
//   - the resource the client got, from the origin or the cache, is the
//     one the origin understood (or would understand) from that path;
//   - without a token nothing but the open behavior (/public/*) reaches the
//     origin, and alice never reaches /admin.
func FuzzOneViewPath(f *testing.F) {
	keepPipesFromChildren()
	e := newEnv(f)
	tokens := map[string]string{"": "", "alice": e.reader()}
	f.Fuzz(func(t *testing.T, target string) {
		if target == "" || len(target) > 2048 || strings.ContainsAny(target, " \r\n") {
			return // not one token of a request line
		}
		for user, tok := range tokens {
			head := "GET " + target + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n"
			if tok != "" {
				head += "Authorization: Bearer " + tok + "\r\n"
			}
			n := e.origin.count()
			w := wire(t, e.addr, head+"\r\n", 1)
			if w.err != nil || len(w.responses) != 1 {
				t.Fatalf("GET %q (user %q): %v, %v: want one answer", target, user, w.statuses(), w.err)
			}
			res := w.responses[0]
			if res.status >= 500 {
				t.Fatalf("GET %q (user %q) = %d %s", target, user, res.status, res.body)
			}
			got := e.origin.since(n)
			if len(got) > 1 {
				t.Fatalf("GET %q (user %q) reached the origin %d times", target, user, len(got))
			}
			if len(got) == 0 && res.status != http.StatusOK {
				continue
			}
			canon, query, err := fuzzCanonicalTarget(target)
			if err != nil {
				t.Fatalf("GET %q (user %q) = %d, but its path is refused: %v", target, user, res.status, err)
			}
			understood := lenientPath("/prod" + canon)
			if len(got) == 1 {
				o := got[0]
				// An empty query ("/a?") may keep its "?" or lose it.
				if want := "/prod" + canon + query; o.Target != want && (query != "" || o.Target != want+"?") {
					t.Fatalf("GET %q (user %q): the origin got %q, want the canonical %q", target, user, o.Target, want)
				}
				if once := singleDecodedPath(o.Target); o.Path != once {
					t.Fatalf("GET %q: an origin decoding twice reads %q, one decoding once reads %q", target, o.Path, once)
				}
				understood = o.Path
			}
			if res.status != http.StatusOK {
				t.Fatalf("GET %q (user %q) reached the origin but the client got %d", target, user, res.status)
			}
			if want := "resource=" + understood + " user=" + bodyUser(understood, user); res.body != want {
				t.Fatalf("GET %q (user %q): the client got %q, want %q", target, user, res.body, want)
			}
			if user == "" && !underPublic(understood) {
				t.Fatalf("GET %q without a token: the origin understood %q, outside the open behavior", target, understood)
			}
			if understood == "/prod/admin" || strings.HasPrefix(understood, "/prod/admin/") {
				t.Fatalf("GET %q (user %q): the origin understood %q", target, user, understood)
			}
		}
	})
}

// underPublic reports whether the origin's understanding of a path is in
// the open behavior, /public/* (which matches "/public/" too: the origin
// may read it as "/public").
func underPublic(understood string) bool {
	return understood == "/prod/public" || strings.HasPrefix(understood, "/prod/public/")
}

// bodyUser is the user the default origin reply names for a resource the
// origin understood: the decision sets x-user-id on authorized behaviors
// only.
func bodyUser(understood, user string) string {
	if underPublic(understood) {
		return ""
	}
	return user
}

// fuzzCanonicalTarget is what the edge must forward for a request target:
// the canonical path (edge.Canonicalize with the default options) of its
// path, and its query as sent ("" for none or an empty one).
func fuzzCanonicalTarget(target string) (canon, query string, err error) {
	p := target
	if !strings.HasPrefix(p, "/") {
		i := strings.Index(p, "://")
		if i < 0 {
			return "", "", errNotATarget
		}
		p = p[i+3:]
		switch j := strings.IndexAny(p, "/?"); {
		case j < 0:
			p = "/"
		case p[j] == '?':
			p = "/" + p[j:]
		default:
			p = p[j:]
		}
	}
	if i := strings.IndexByte(p, '?'); i >= 0 {
		if p[i+1:] != "" {
			query = p[i:]
		}
		p = p[:i]
	}
	canon, err = edge.Canonicalize(p, edge.PathOptions{})
	return canon, query, err
}

// errNotATarget stands for a target the edge must refuse as a whole.
var errNotATarget = &edge.PathError{Reason: "neither origin-form nor absolute-form"}

// fuzzSentinel follows every fuzzed input on its connection: when the input
// leaves the connection between requests, the edge serves it and closes
// the connection, so the exchange ends without waiting for a timeout.
const fuzzSentinel = "GET /public/fuzz-sentinel HTTP/1.1\r\n" + hostLine + "Connection: close\r\n\r\n"

// FuzzOneViewRequest writes fuzzed bytes, as one or more requests, on a
// raw connection, followed by fuzzSentinel, and reads until the edge
// closes it. The fuzzed bytes carry no valid token, so:
//
//   - the edge ends the exchange within its limits and answers nothing
//     but well-formed responses, none of them a 5xx (505 aside, the
//     protocol's answer to an HTTP version the edge does not speak);
//   - every request that ever reached the origin names a canonical path,
//     which a double-decoding origin reads as a single-decoding one does,
//     under the open behavior (/public/*), without the headers the edge
//     and the decision own: however the bytes are arranged, nothing else
//     gets through.
func FuzzOneViewRequest(f *testing.F) {
	keepPipesFromChildren()
	e := newEnvWith(f, options{top: "limits: {read_header_timeout: 300ms, read_timeout: 500ms, idle_timeout: 300ms, max_body_bytes: 64KiB}"})
	checked := 0
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) > 16<<10 {
			return
		}
		out, err := wireDrain(t, e.addr, append(append([]byte(nil), in...), fuzzSentinel...))
		if err != nil {
			t.Fatalf("the edge neither closed nor finished within %s: %v\nin %q\nout %q", wireDeadline, err, in, out)
		}
		br := bufio.NewReader(bytes.NewReader(out))
		for {
			if _, err := br.Peek(1); err != nil {
				break
			}
			res, err := http.ReadResponse(br, nil)
			if errors.Is(err, io.ErrUnexpectedEOF) {
				break // the edge reset the connection while the last answer was in flight
			}
			if err != nil {
				t.Fatalf("the edge sent something that is not a response (%v)\nin %q\nout %q", err, in, out)
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode >= 500 && res.StatusCode != http.StatusHTTPVersionNotSupported {
				t.Fatalf("the edge answered %d\nin %q\nout %q", res.StatusCode, in, out)
			}
		}
		reqs := e.origin.requests()
		fresh := reqs[min(checked, len(reqs)):]
		checked = len(reqs) // a failure is reported once, by the input that caused it
		for _, r := range fresh {
			p, _, _ := strings.Cut(r.Target, "?")
			rest := strings.TrimPrefix(p, "/prod")
			if canon, err := edge.Canonicalize(rest, edge.PathOptions{}); err != nil || canon != rest || !strings.HasPrefix(p, "/prod/") {
				t.Fatalf("the origin got the non-canonical target %q\nin %q", r.Target, in)
			}
			if once := singleDecodedPath(r.Target); r.Path != once {
				t.Fatalf("the origin got %q: decoding twice reads %q, decoding once %q\nin %q", r.Target, r.Path, once, in)
			}
			if !underPublic(r.Path) {
				t.Fatalf("the origin understood %q without a token\nin %q", r.Path, in)
			}
			for _, h := range []string{"X-User-Id", "X-Tenant", "X-Original-Url", "X-Http-Method-Override"} {
				if v, ok := r.Header[h]; ok {
					t.Fatalf("the origin got %s: %q\nin %q", h, v, in)
				}
			}
		}
	})
}
