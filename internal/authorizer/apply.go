package authorizer

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/net/http/httpguts"

	"github.com/edgeward/edgeward/internal/edge"
	"github.com/edgeward/edgeward/internal/hop"
	"github.com/edgeward/edgeward/internal/method"
	"github.com/edgeward/edgeward/internal/sideband"
)

// change is one header change an allow makes: values nil removes name.
type change struct {
	name   string // lower-case
	values []string
}

// apply applies an allow to r.HTTP as a diff against what was sent: the
// method, the host, the path (which must be canonical), the query, the
// headers (changed, added, removed; compared per name, case-insensitively)
// and the body (only when one was sent). Changes to source_ip,
// source_port, client_certificate and the scheme cannot be applied and are
// logged at debug. Everything is checked before anything changes: an allow
// that cannot be applied leaves r as it was and is no decision.
func (a *Authorizer) apply(ctx context.Context, r *edge.Request, sent *sideband.Request, rep *sideband.Reply) error {
	h := r.HTTP
	// Replies from the embedded service never went through
	// sideband.DecodeReply: check what it would have.
	if rep.Method != h.Method && !method.Valid(rep.Method) {
		return fmt.Errorf("%w: method %q", errBadDecision, rep.Method)
	}
	// A new method must be one the behavior serves: a decision never
	// sends the origin a method (CONNECT, TRACE, ...) that the viewer
	// could not have sent.
	if rep.Method != h.Method && r.Behavior != nil && !r.Behavior.Allows(rep.Method) {
		return fmt.Errorf("%w: method %q is not served by behavior %q", errBadDecision, rep.Method, r.Behavior.PathPattern)
	}
	if len(rep.Headers) == 0 && len(sent.Headers) > 0 {
		return fmt.Errorf("%w: an allow without headers would remove every header", errBadDecision)
	}
	var ignored []string
	if rep.SourceIP != sent.SourceIP && rep.SourceIP != "" {
		ignored = append(ignored, "source_ip")
	}
	if rep.SourcePort != sent.SourcePort && rep.SourcePort != 0 {
		ignored = append(ignored, "source_port")
	}
	if len(rep.ClientCertificate) > 0 && string(rep.ClientCertificate) != string(sent.ClientCertificate) {
		ignored = append(ignored, "client_certificate")
	}

	// The url: unchanged in the common case, else compared per part.
	newHost := ""
	sentHost, _ := sent.Headers.Get("host")
	if v, ok := rep.Headers.Get("host"); ok && v != sentHost {
		newHost = v
	}
	newPath, newQuery := h.URL.EscapedPath(), h.URL.RawQuery
	var u *url.URL
	if rep.URL != sent.URL {
		var err error
		if u, err = sideband.ParseURL(rep.URL); err != nil {
			return fmt.Errorf("%w: url: %w", errBadDecision, err)
		}
		sentScheme, sentAuthority := sent.URL[:strings.Index(sent.URL, "://")], hostOf(r)
		if u.Scheme != sentScheme {
			ignored = append(ignored, "scheme")
		}
		if !sameAuthority(u.Host, u.Scheme, sentAuthority, sentScheme) {
			newHost = withoutDefaultPort(u.Host, u.Scheme)
		}
		if newPath = u.EscapedPath(); newPath == "" {
			newPath = "/"
		}
		newQuery = u.RawQuery
	}
	if newHost != "" && !httpguts.ValidHostHeader(newHost) {
		return fmt.Errorf("%w: invalid host %q", errBadDecision, newHost)
	}

	// Path: the decision service sees exactly what the origin gets, so a
	// new path must already be canonical.
	pathChanged := newPath != h.URL.EscapedPath()
	var decodedPath string
	if pathChanged {
		canon, err := edge.Canonicalize(newPath, edge.PathOptions{})
		if err != nil || canon != newPath {
			return fmt.Errorf("%w: path %q is not canonical", errBadDecision, newPath)
		}
		if decodedPath, err = url.PathUnescape(newPath); err != nil {
			return fmt.Errorf("%w: path %q: %w", errBadDecision, newPath, err)
		}
	}
	queryChanged := newQuery != h.URL.RawQuery
	if queryChanged && strings.ContainsFunc(newQuery, func(c rune) bool { return c <= ' ' || c == 0x7f }) {
		return fmt.Errorf("%w: query with spaces or control characters", errBadDecision)
	}

	changes, dropped, err := a.headerChanges(sent.Headers, rep.Headers)
	if err != nil {
		return err
	}
	ignored = append(ignored, dropped...)

	var newBody *string
	if rep.Body != nil {
		switch {
		case sent.Body == nil:
			ignored = append(ignored, "body (none was sent)")
		case *rep.Body != *sent.Body:
			newBody = rep.Body
		}
	}

	// Everything checks out: apply.
	if rep.Method != h.Method {
		h.Method = rep.Method
	}
	if newHost != "" {
		h.Host = newHost
	}
	if pathChanged {
		h.URL.Path = decodedPath
		h.URL.RawPath = newPath
	}
	if queryChanged {
		h.URL.RawQuery = newQuery
	}
	h.URL.ForceQuery = false
	for _, c := range changes {
		key := a.keys.canonical(c.name)
		if c.values == nil {
			delete(h.Header, key)
		} else {
			h.Header[key] = c.values
			r.SetByFunction(key)
		}
	}
	if newBody != nil {
		setBody(h, []byte(*newBody))
	}
	if a.debug && a.log.Enabled(ctx, slog.LevelDebug) {
		a.logApplied(ctx, r, rep.Method != sent.Method, newHost, pathChanged, queryChanged, changes, newBody != nil, ignored)
	}
	return nil
}

// keyTable interns the canonical forms of the header names decisions
// change: the same few names (x-user-id, authorization) come back on every
// request, and http.CanonicalHeaderKey allocates for a lower-case name. It
// holds at most maxKeyTable names; others are canonicalised each time.
type keyTable struct {
	m  atomic.Pointer[map[string]string]
	mu sync.Mutex // serialises additions
}

const maxKeyTable = 256

func (t *keyTable) canonical(name string) string {
	if m := t.m.Load(); m != nil {
		if k, ok := (*m)[name]; ok {
			return k
		}
	}
	k := http.CanonicalHeaderKey(name)
	t.mu.Lock()
	defer t.mu.Unlock()
	var old map[string]string
	if m := t.m.Load(); m != nil {
		old = *m
	}
	if len(old) < maxKeyTable {
		m := make(map[string]string, len(old)+1)
		maps.Copy(m, old)
		m[strings.Clone(name)] = k
		t.m.Store(&m)
	}
	return k
}

// headerChanges compares the headers sent with the allow's, per name
// (case-insensitive), and returns what to set or remove. Names the allow
// may not touch are returned in dropped: host (handled with the url), the
// credential header, and hop-by-hop and framing headers.
func (a *Authorizer) headerChanges(sent, got sideband.Headers) (changes []change, dropped []string, err error) {
	if sameHeaders(sent, got) {
		return nil, nil, nil
	}
	if len(sent)+len(got) > maxScanHeaders {
		return a.headerChangesGrouped(sent, got)
	}
	// Few headers (every real request): compare by scanning the lists,
	// which costs no map per request. Names are handled at their first
	// appearance, in the same order as headerChangesGrouped.
	for i, e := range got {
		if seen(got[:i], e.Name) || strings.EqualFold(e.Name, "host") || sameValues(sent, got, e.Name) {
			continue
		}
		name := strings.ToLower(e.Name)
		if !a.mayChange(name) {
			dropped = append(dropped, "header "+name)
			continue
		}
		vs := values(got, e.Name)
		if !validHeader(name, vs) {
			return nil, nil, fmt.Errorf("%w: invalid header %q", errBadDecision, name)
		}
		changes = append(changes, change{name: name, values: vs})
	}
	for i, e := range sent {
		if seen(sent[:i], e.Name) || strings.EqualFold(e.Name, "host") || seen(got, e.Name) {
			continue
		}
		name := strings.ToLower(e.Name)
		if !a.mayChange(name) {
			dropped = append(dropped, "header "+name)
			continue
		}
		changes = append(changes, change{name: name})
	}
	return changes, dropped, nil
}

// maxScanHeaders bounds the lists headerChanges compares by scanning
// (quadratic in their length); longer ones are grouped in maps.
const maxScanHeaders = 64

// seen reports whether hs has an entry named name (case-insensitive).
func seen(hs sideband.Headers, name string) bool {
	for _, e := range hs {
		if strings.EqualFold(e.Name, name) {
			return true
		}
	}
	return false
}

// sameValues reports whether a has entries named name and they hold the
// same values, in the same order, as b's.
func sameValues(a, b sideband.Headers, name string) bool {
	i, j, found := 0, 0, false
	for {
		for i < len(a) && !strings.EqualFold(a[i].Name, name) {
			i++
		}
		for j < len(b) && !strings.EqualFold(b[j].Name, name) {
			j++
		}
		if i == len(a) || j == len(b) {
			return found && i == len(a) && j == len(b)
		}
		if a[i].Value != b[j].Value {
			return false
		}
		found = true
		i++
		j++
	}
}

// values returns the values of hs's entries named name, in order.
func values(hs sideband.Headers, name string) []string {
	var vs []string
	for _, e := range hs {
		if strings.EqualFold(e.Name, name) {
			vs = append(vs, e.Value)
		}
	}
	return vs
}

// headerChangesGrouped is headerChanges for long lists: each side grouped
// by name in a map.
func (a *Authorizer) headerChangesGrouped(sent, got sideband.Headers) (changes []change, dropped []string, err error) {
	before := groupHeaders(sent)
	after := groupHeaders(got)
	for _, name := range after.order {
		vs := after.values[name]
		if old, ok := before.values[name]; (ok && slices.Equal(old, vs)) || name == "host" {
			continue
		}
		if !a.mayChange(name) {
			dropped = append(dropped, "header "+name)
			continue
		}
		if !validHeader(name, vs) {
			return nil, nil, fmt.Errorf("%w: invalid header %q", errBadDecision, name)
		}
		changes = append(changes, change{name: name, values: vs})
	}
	for _, name := range before.order {
		if _, ok := after.values[name]; ok || name == "host" {
			continue
		}
		if !a.mayChange(name) {
			dropped = append(dropped, "header "+name)
			continue
		}
		changes = append(changes, change{name: name})
	}
	return changes, dropped, nil
}

func validHeader(name string, values []string) bool {
	if !httpguts.ValidHeaderFieldName(name) {
		return false
	}
	for _, v := range values {
		if !httpguts.ValidHeaderFieldValue(v) {
			return false
		}
	}
	return true
}

// validStatus reports whether a deny or response-phase status can be
// written as a final response.
func validStatus(c sideband.Code) bool { return c >= 200 && c <= 599 }

// mayChange reports whether an allow may set or remove the header name
// (lower-case).
func (a *Authorizer) mayChange(name string) bool {
	switch name {
	case "host", "content-length":
		return false
	}
	return !hop.Header(name) && !strings.EqualFold(name, a.credHeader)
}

func sameHeaders(a, b sideband.Headers) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Value != b[i].Value || !strings.EqualFold(a[i].Name, b[i].Name) {
			return false
		}
	}
	return true
}

type groupedHeaders struct {
	order  []string
	values map[string][]string
}

func groupHeaders(hs sideband.Headers) groupedHeaders {
	g := groupedHeaders{values: make(map[string][]string, len(hs))}
	for _, e := range hs {
		name := strings.ToLower(e.Name)
		if _, ok := g.values[name]; !ok {
			g.order = append(g.order, name)
		}
		g.values[name] = append(g.values[name], e.Value)
	}
	return g
}

// sameAuthority compares two hosts of URLs, case-insensitively and with
// default ports dropped (Kong always writes the port).
func sameAuthority(a, aScheme, b, bScheme string) bool {
	return strings.EqualFold(withoutDefaultPort(a, aScheme), withoutDefaultPort(b, bScheme))
}

// withoutDefaultPort drops ":80" from an http host and ":443" from an https
// one.
func withoutDefaultPort(host, scheme string) string {
	switch {
	case scheme == "http" && strings.HasSuffix(host, ":80"):
		return host[:len(host)-3]
	case scheme == "https" && strings.HasSuffix(host, ":443"):
		return host[:len(host)-4]
	}
	return host
}

// denyResponse is the viewer's answer to a deny: the service's status,
// headers (hop-by-hop and framing ones dropped) and body, verbatim.
func denyResponse(resp *sideband.Response) *edge.Response {
	out := &edge.Response{Status: int(resp.ResponseCode), Header: responseHeader(resp.Headers)}
	if resp.Body != nil {
		out.Body = []byte(*resp.Body)
	}
	return out
}

// responseHeader turns sideband headers into a response header without
// hop-by-hop headers, the headers a Connection header names, or a
// Content-Length (the body is written whole, with its own length).
func responseHeader(hs sideband.Headers) http.Header {
	out := make(http.Header, len(hs))
	var connection []string
	for _, e := range hs {
		name := strings.ToLower(e.Name)
		if name == "connection" {
			connection = append(connection, e.Value)
		}
		if hop.Header(name) || name == "content-length" || !validHeader(name, []string{e.Value}) {
			continue
		}
		key := http.CanonicalHeaderKey(name)
		out[key] = append(out[key], e.Value)
	}
	for name := range hop.Nominated(connection) {
		delete(out, http.CanonicalHeaderKey(name))
	}
	return out
}
