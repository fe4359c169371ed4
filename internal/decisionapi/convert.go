package decisionapi

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/edgeward/edgeward/internal/decision"
	"github.com/edgeward/edgeward/internal/requestid"
	"github.com/edgeward/edgeward/internal/sideband"
	"github.com/edgeward/edgeward/internal/token"
)

// wireHeaders lets the engine read sideband headers in place.
type wireHeaders sideband.Headers

// Len implements decision.Headers.
func (h *wireHeaders) Len() int { return len(*h) }

// At implements decision.Headers.
func (h *wireHeaders) At(i int) (string, string) { return (*h)[i].Name, (*h)[i].Value }

// input fills in from a sideband request without copying it. Errors name
// the field.
func input(in *decision.Input, req *sideband.Request) error {
	if err := in.SetURL(req.URL); err != nil {
		return err
	}
	in.Method = req.Method
	in.SourceIP = req.SourceIP
	in.Headers = (*wireHeaders)(&req.Headers)
	if at := req.AccessToken; at != nil {
		in.Claims = claimsOf(at)
		in.ClaimsInactive = !at.Active
	}
	return nil
}

// claimsOf converts an access_token object into claims: the registered
// members and every custom one (Extra).
func claimsOf(at *sideband.AccessToken) *token.Claims {
	c := &token.Claims{
		Issuer:   at.Issuer,
		Subject:  at.Subject,
		Audience: at.Audience,
		ClientID: at.ClientID,
		Scopes:   at.Scope,
	}
	if at.Expiry > 0 {
		c.ExpiresAt = time.Unix(at.Expiry, 0)
	}
	c.Raw = make(map[string]any, len(at.Extra)+8)
	for k, v := range at.Extra {
		var x any
		if json.Unmarshal(v, &x) == nil {
			c.Raw[k] = x
		}
	}
	put := func(k string, v any, ok bool) {
		if ok {
			c.Raw[k] = v
		}
	}
	put("active", at.Active, true)
	put("sub", at.Subject, at.Subject != "")
	put("iss", at.Issuer, at.Issuer != "")
	put("client_id", at.ClientID, at.ClientID != "")
	put("username", at.Username, at.Username != "")
	put("token_type", at.TokenType, at.TokenType != "")
	put("jti", at.JTI, at.JTI != "")
	put("scope", strings.Join(at.Scope, " "), len(at.Scope) > 0)
	put("aud", toAny(at.Audience), len(at.Audience) > 0)
	put("exp", float64(at.Expiry), at.Expiry != 0)
	put("iat", float64(at.IssuedAt), at.IssuedAt != 0)
	put("nbf", float64(at.NotBefore), at.NotBefore != 0)
	return c
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// requestIDOf returns the request's x-request-id when it is a sensible
// id.
func requestIDOf(h sideband.Headers) string {
	if v, _ := h.Get("x-request-id"); requestid.Valid(v) {
		return v
	}
	return ""
}

// reply builds the request-phase reply. An allow echoes the request with
// the decision's header changes and the state of the matched service, and
// omits "response"; a deny is a response object with its headers and
// body. *requestID is filled in when a deny needs an id.
func (s *Service) reply(sn *snapshot, req *sideband.Request, d *decision.Decision, requestID *string) *sideband.Reply {
	if d.Allowed {
		rep := &sideband.Reply{Request: *req, State: sn.states[d.ServiceIndex]}
		rep.AccessToken = nil       // claims are not part of the echo
		rep.ClientCertificate = nil // the gateway ignores changes to it
		rep.Headers = applyHeaders(req.Headers, d.RemoveHeaders, d.SetHeaders)
		return rep
	}
	if *requestID == "" {
		*requestID = s.ids.Next()
	}
	body := string(d.DenyBody(*requestID))
	hs := d.DenyHeaders(make([]decision.Header, 0, 3))
	wire := make(sideband.Headers, len(hs))
	for i, h := range hs {
		wire[i] = sideband.Header{Name: h.Name, Value: h.Value}
	}
	return &sideband.Reply{Response: &sideband.Response{
		ResponseCode:   sideband.Code(d.Status),
		ResponseStatus: http.StatusText(d.Status),
		Headers:        wire,
		Body:           &body,
	}}
}

// applyHeaders returns h without the headers named in remove and with set
// added. With no changes it returns h itself; otherwise a new list (h is
// never modified). A nil result is an empty list: every reply carries a
// headers array.
func applyHeaders(h sideband.Headers, remove []string, set []decision.Header) sideband.Headers {
	if len(remove) == 0 && len(set) == 0 {
		if h == nil {
			return sideband.Headers{}
		}
		return h
	}
	out := make(sideband.Headers, 0, len(h)+len(set))
	for _, e := range h {
		if !slices.ContainsFunc(remove, func(n string) bool { return strings.EqualFold(n, e.Name) }) {
			out = append(out, e)
		}
	}
	for _, e := range set {
		out = append(out, sideband.Header{Name: e.Name, Value: e.Value})
	}
	return out
}

// respond answers a response-phase call: the response unchanged, with the
// response_statements of the service the call belongs to (found by state,
// else by the original request's URL, else by the call's own URL).
func (s *Service) respond(sn *snapshot, rr *sideband.ResponseRequest) *sideband.Response {
	remove, set := sn.e.ResponseChanges(serviceOf(sn, rr))
	status := rr.ResponseStatus
	if status == "" {
		status = http.StatusText(int(rr.ResponseCode))
	}
	return &sideband.Response{
		ResponseCode:   rr.ResponseCode,
		ResponseStatus: status,
		Headers:        applyHeaders(rr.Headers, remove, set),
		Body:           rr.Body,
	}
}

func serviceOf(sn *snapshot, rr *sideband.ResponseRequest) string {
	if len(rr.State) > 0 {
		var st state
		if json.Unmarshal(rr.State, &st) == nil && st.Service != "" {
			return st.Service
		}
	}
	u := rr.URL
	if rr.Request != nil && rr.Request.URL != "" {
		u = rr.Request.URL
	}
	var in decision.Input
	if in.SetURL(u) != nil {
		return ""
	}
	name, _ := sn.e.ServiceFor(in.Scheme, in.Host, in.Port, in.Path)
	return name
}
