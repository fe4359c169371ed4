// Package hop is the one list of hop-by-hop header fields: the fields that
// describe a single connection and that a proxy removes before it forwards
// a message in either direction (RFC 9110 section 7.6.1). Every stage that
// forwards, stores or replays headers asks it: the edge's header hygiene
// on the viewer request, the origin's response handling, the cache's store
// and 304 update, and the authorizer's deny and header changes.
//
// The list is RFC 9110's connection-specific fields (Connection,
// Proxy-Connection, Keep-Alive, TE, Transfer-Encoding, Upgrade), Trailer
// (which names fields of the chunked framing that is itself removed), and
// the proxy authentication fields Proxy-Authenticate,
// Proxy-Authentication-Info and Proxy-Authorization (RFC 9110 sections
// 11.7.1 to 11.7.3: they are consumed by the next proxy on the chain,
// which for a client talking to the edge is the edge itself). The last
// three are on it so that a viewer's proxy credentials never reach an
// origin, and an origin's proxy challenge never reaches a viewer, as
// net/http/httputil.ReverseProxy also does. The fields a Connection
// header nominates are hop-by-hop too: Remove drops them, and Nominated
// lists them for callers that keep headers in another shape.
//
// It imports nothing of edgeward's, so that internal/edge, which
// otherwise imports no internal package, can use it: a list that every
// stage must agree on has one place, not one copy per stage.
package hop

import (
	"iter"
	"net/http"
	"strings"
)

// Header reports whether the field name (in any letter case) is
// hop-by-hop by itself, without a Connection header naming it.
func Header(name string) bool {
	switch name { // the canonical spellings, the common case
	case "Connection", "Keep-Alive", "Proxy-Connection", "Te", "Trailer", "Transfer-Encoding", "Upgrade",
		"Proxy-Authenticate", "Proxy-Authentication-Info", "Proxy-Authorization":
		return true
	}
	var list []string
	switch len(name) {
	case 2:
		list = []string{"te"}
	case 7:
		list = []string{"trailer", "upgrade"}
	case 10:
		list = []string{"connection", "keep-alive"}
	case 16:
		list = []string{"proxy-connection"}
	case 17:
		list = []string{"transfer-encoding"}
	case 18:
		list = []string{"proxy-authenticate"}
	case 19:
		list = []string{"proxy-authorization"}
	case 25:
		list = []string{"proxy-authentication-info"}
	}
	for _, h := range list {
		if strings.EqualFold(name, h) {
			return true
		}
	}
	return false
}

// Nominated yields the field names that the Connection header values
// nominate (RFC 9110 section 7.6.1), trimmed and as written; empty list
// elements are skipped.
func Nominated(connection []string) iter.Seq[string] {
	return func(yield func(string) bool) {
		for _, v := range connection {
			for name := range strings.SplitSeq(v, ",") {
				if name = strings.TrimSpace(name); name != "" && !yield(name) {
					return
				}
			}
		}
	}
}

// Remove deletes from h every hop-by-hop field: those Header lists and
// those h's Connection header nominates.
func Remove(h http.Header) {
	for name := range Nominated(h["Connection"]) {
		h.Del(name)
	}
	for k := range h {
		if Header(k) {
			delete(h, k)
		}
	}
}
