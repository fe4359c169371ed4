package edge

import (
	"net/http"
	"net/netip"
	"slices"
	"strings"

	"github.com/edgeward/edgeward/internal/hop"
	"golang.org/x/net/http/httpguts"
)

// edgeOwned are the headers the edge always owns: it sets them itself (or
// the origin stage does), so an inbound copy is a spoofing attempt.
// X-Forwarded-* is owned by prefix (see ownedSet.has).
var edgeOwned = [...]string{
	"Forwarded",
	"Via",
	"X-Request-Id",
	"X-Real-Ip",
	"True-Client-Ip",
}

// overrideHeaders change the method or path an origin framework acts on
// behind the edge's back; stripped unless strip_override_headers is false.
var overrideHeaders = [...]string{
	"X-Http-Method-Override",
	"X-Http-Method",
	"X-Method-Override",
	"X-Original-Url",
	"X-Rewrite-Url",
}

// ownedSet is the immutable set of header names (canonical form) the edge
// strips from every inbound request.
type ownedSet struct {
	names map[string]struct{}
	// has is the bound method value handed to Request.owned, made once so
	// that no closure is allocated per request.
	hasFn func(string) bool
}

func newOwnedSet(stripOverride bool, lists ...[]string) *ownedSet {
	o := &ownedSet{names: make(map[string]struct{})}
	for _, n := range edgeOwned {
		o.names[n] = struct{}{}
	}
	if stripOverride {
		for _, n := range overrideHeaders {
			o.names[n] = struct{}{}
		}
	}
	for _, l := range lists {
		for _, n := range l {
			o.names[http.CanonicalHeaderKey(strings.TrimSpace(n))] = struct{}{}
		}
	}
	o.hasFn = o.has
	return o
}

// has reports whether the edge owns the header with canonical name name.
// A name spelled with underscores for dashes (x_user_id) is owned when its
// dashed form is: CGI-style origins (PHP, WSGI, Rack) fold both spellings
// into one variable, HTTP_X_USER_ID, so a client's x_user_id could stand in
// for the edge's x-user-id there.
func (o *ownedSet) has(name string) bool {
	if _, ok := o.names[name]; ok {
		return true
	}
	if strings.HasPrefix(name, "X-Forwarded-") {
		return true
	}
	if strings.IndexByte(name, '_') < 0 {
		return false
	}
	dashed := http.CanonicalHeaderKey(strings.ReplaceAll(name, "_", "-"))
	if _, ok := o.names[dashed]; ok {
		return true
	}
	return strings.HasPrefix(dashed, "X-Forwarded-")
}

// sorted lists the owned names, for logs and tests.
func (o *ownedSet) sorted() []string {
	out := make([]string, 0, len(o.names)+1)
	for n := range o.names {
		out = append(out, n)
	}
	out = append(out, "X-Forwarded-*")
	slices.Sort(out)
	return out
}

func validHeaderName(s string) bool { return httpguts.ValidHeaderFieldName(s) }

// isWebSocket reports whether r asks for a WebSocket upgrade (RFC 6455
// section 4.1): the only upgrade the edge lets through.
func isWebSocket(r *http.Request) bool {
	return r.Method == http.MethodGet && r.ProtoMajor == 1 && r.ProtoMinor >= 1 &&
		httpguts.HeaderValuesContainsToken(r.Header["Upgrade"], "websocket") &&
		httpguts.HeaderValuesContainsToken(r.Header["Connection"], "upgrade")
}

// forwarded is what a trusted proxy reported about the viewer.
type forwarded struct {
	forFor string // X-Forwarded-For chain
	proto  string
	host   string
}

// cleanHeaders is header hygiene in one pass over h. It removes the
// hop-by-hop headers, every header the viewer nominated in Connection, and
// every owned header; when the peer is trusted it first records the
// X-Forwarded-* values it reported. A WebSocket upgrade keeps exactly
// "Connection: Upgrade" and "Upgrade: websocket", which the origin stage
// needs to pass it on; "Te: trailers" is kept for gRPC. It runs before any
// function adds headers, so Connection can never remove those.
func cleanHeaders(h http.Header, o *ownedSet, trusted, ws bool) (f forwarded) {
	for tok := range hop.Nominated(h["Connection"]) {
		if !ws || !strings.EqualFold(tok, "upgrade") {
			h.Del(tok)
		}
	}
	trailers := false
	for k, vv := range h {
		if hop.Header(k) {
			if k == "Te" {
				trailers = httpguts.HeaderValuesContainsToken(vv, "trailers")
			}
			delete(h, k)
			continue
		}
		if !o.has(k) {
			continue
		}
		if trusted && len(vv) > 0 {
			f.record(k, vv)
		}
		delete(h, k)
	}
	if trailers {
		h["Te"] = []string{"trailers"}
	}
	if ws {
		h["Connection"] = []string{"Upgrade"}
		h["Upgrade"] = []string{"websocket"}
	}
	return f
}

// record keeps a trusted proxy's X-Forwarded-For/-Proto/-Host.
func (f *forwarded) record(k string, vv []string) {
	switch k {
	case "X-Forwarded-For":
		if len(vv) == 1 {
			f.forFor = strings.TrimSpace(vv[0])
		} else {
			f.forFor = strings.Join(vv, ", ")
		}
	case "X-Forwarded-Proto":
		if p := strings.TrimSpace(vv[0]); strings.EqualFold(p, "https") {
			f.proto = "https"
		} else if strings.EqualFold(p, "http") {
			f.proto = "http"
		}
	case "X-Forwarded-Host":
		if v := strings.TrimSpace(vv[0]); v != "" && httpguts.ValidHostHeader(v) {
			f.host = v
		}
	}
}

// clientFromChain returns the viewer's address from a trusted X-Forwarded-For
// chain: walking from the right, the first address that is not a trusted
// proxy itself. An unparseable entry stops the walk: what lies left of it
// cannot be trusted.
func clientFromChain(chain string, peer netip.AddrPort, trusted func(netip.Addr) bool) netip.AddrPort {
	client := peer
	for chain != "" {
		var entry string
		if i := strings.LastIndexByte(chain, ','); i >= 0 {
			entry, chain = chain[i+1:], chain[:i]
		} else {
			entry, chain = chain, ""
		}
		a, ok := parseForwardedAddr(strings.TrimSpace(entry))
		if !ok {
			return client
		}
		client = a
		if !trusted(a.Addr()) {
			return client
		}
	}
	return client
}

// parseForwardedAddr reads "1.2.3.4", "1.2.3.4:5", "2001:db8::1" or
// "[2001:db8::1]:5".
func parseForwardedAddr(s string) (netip.AddrPort, bool) {
	if a, err := netip.ParseAddr(s); err == nil {
		return netip.AddrPortFrom(a.Unmap(), 0), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), true
	}
	return netip.AddrPort{}, false
}
