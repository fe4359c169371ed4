// Package sideband is the PingAuthorize / PingOne Authorize sideband wire
// protocol, shared by both of edgeward's ends: the authorize function (a
// client) and the decision service (a server). It holds the message types,
// their JSON codec (which tolerates what real gateways send) and the HTTP
// client, which spreads calls over one or several services (keep-alive
// pool, HTTP/2 where the service speaks it, failover and health probes).
// See SIDEBAND.md in the design notes for the protocol.
package sideband

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
)

// Paths of the two sideband endpoints, relative to the service URL.
const (
	RequestPath  = "/sideband/request"
	ResponsePath = "/sideband/response"
)

// DefaultCredentialHeader is the header the gateway credential travels in.
const DefaultCredentialHeader = "CLIENT-TOKEN"

// Request is the request-phase body, gateway to service. The same fields,
// possibly changed by policy, form an allow.
type Request struct {
	SourceIP    string `json:"source_ip"`
	SourcePort  Port   `json:"source_port"`
	Method      string `json:"method"`
	URL         string `json:"url"`
	HTTPVersion string `json:"http_version"`
	// Headers holds one entry per header value, names lower-case.
	Headers Headers `json:"headers"`
	// Body is the raw request body, sent only for configured content types.
	Body *string `json:"body,omitempty"`
	// ClientCertificate is the client's TLS certificate as a JWK with x5c.
	ClientCertificate json.RawMessage `json:"client_certificate,omitempty"`
	// AccessToken holds claims the gateway already validated.
	AccessToken *AccessToken `json:"access_token,omitempty"`
}

// Reply is the request-phase answer, service to gateway. A non-nil Response
// is a deny; otherwise the echoed request fields are the allow, to be applied
// as a diff. State is opaque and must be returned byte for byte in the
// response phase.
type Reply struct {
	Request
	State json.RawMessage `json:"state,omitempty"`
	// Response is the deny. An allow must omit the key entirely: Kong treats
	// "response": null as a deny.
	Response *Response `json:"response,omitempty"`
	// CacheControl is the Cache-Control header of the HTTP answer that
	// carried the reply (empty in-process): a gateway's decision cache
	// honours its no-store and max-age. It is not part of the JSON body.
	CacheControl string `json:"-"`
}

// Response is an HTTP response in sideband form: a deny in the request phase,
// and the whole answer in the response phase.
type Response struct {
	ResponseCode   Code    `json:"response_code"`
	ResponseStatus string  `json:"response_status"`
	Headers        Headers `json:"headers"`
	Body           *string `json:"body,omitempty"`
}

// ResponseRequest is the response-phase body, gateway to service.
type ResponseRequest struct {
	Method         string          `json:"method"`
	URL            string          `json:"url"`
	HTTPVersion    string          `json:"http_version"`
	ResponseCode   Code            `json:"response_code"`
	ResponseStatus string          `json:"response_status"`
	Headers        Headers         `json:"headers"`
	Body           *string         `json:"body,omitempty"`
	State          json.RawMessage `json:"state,omitempty"`
	Request        *Request        `json:"request,omitempty"`
}

// AccessToken is the access_token object: claims a gateway validated itself.
type AccessToken struct {
	Active    bool                       `json:"active"`
	Subject   string                     `json:"sub,omitempty"`
	Scope     StringList                 `json:"scope,omitempty"`
	ClientID  string                     `json:"client_id,omitempty"`
	Audience  StringList                 `json:"aud,omitempty"`
	Issuer    string                     `json:"iss,omitempty"`
	Expiry    int64                      `json:"exp,omitempty"`
	IssuedAt  int64                      `json:"iat,omitempty"`
	NotBefore int64                      `json:"nbf,omitempty"`
	JTI       string                     `json:"jti,omitempty"`
	TokenType string                     `json:"token_type,omitempty"`
	Username  string                     `json:"username,omitempty"`
	Extra     map[string]json.RawMessage `json:"-"`
}

// Error is the body of a sideband error that is not a decision (400, 401,
// 413, 429, 5xx). Kong reads only message and id.
type Error struct {
	ID      string `json:"id"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// MarshalJSON writes a deny as {"response": {...}} alone and an allow as the
// echoed request fields plus state, never with a "response" key (Kong takes
// "response": null for a deny).
func (r Reply) MarshalJSON() ([]byte, error) {
	if r.Response != nil {
		return json.Marshal(struct {
			Response *Response `json:"response"`
		}{r.Response})
	}
	return json.Marshal(struct {
		Request
		State json.RawMessage `json:"state,omitempty"`
	}{r.Request, r.State})
}

// accessTokenFields are the access_token members AccessToken has fields
// for; every other member goes to Extra.
var accessTokenFields = map[string]bool{
	"active": true, "sub": true, "scope": true, "client_id": true, "aud": true, "iss": true,
	"exp": true, "iat": true, "nbf": true, "jti": true, "token_type": true, "username": true,
}

// UnmarshalJSON reads the registered members into their fields and keeps
// every other member (a gateway's custom claims: groups, tenant, ...) in
// Extra, so that rules on claims see them.
func (t *AccessToken) UnmarshalJSON(data []byte) error {
	type plain AccessToken
	var p plain
	if err := json.Unmarshal(data, &p); err != nil {
		return err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(data, &all); err != nil {
		return err
	}
	for k := range all {
		if accessTokenFields[k] {
			delete(all, k)
		}
	}
	if len(all) > 0 {
		p.Extra = all
	}
	*t = AccessToken(p)
	return nil
}

// MarshalJSON writes the registered members and then Extra's (a member of
// Extra never overrides a registered one).
func (t AccessToken) MarshalJSON() ([]byte, error) {
	type plain AccessToken
	b, err := json.Marshal(plain(t))
	if err != nil || len(t.Extra) == 0 {
		return b, err
	}
	keys := make([]string, 0, len(t.Extra))
	for k := range t.Extra {
		if !accessTokenFields[k] {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var buf bytes.Buffer
	buf.Write(b[:len(b)-1])
	first := len(b) == 2 // "{}"
	for _, k := range keys {
		if !first {
			buf.WriteByte(',')
		}
		first = false
		kb, _ := json.Marshal(k)
		buf.Write(kb)
		buf.WriteByte(':')
		if err := json.Compact(&buf, t.Extra[k]); err != nil {
			return nil, fmt.Errorf("access_token.%s: %w", k, err)
		}
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}
