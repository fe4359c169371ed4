// Package sideband is the PingAuthorize / PingOne Authorize sideband wire
// protocol, shared by both of edgeward's ends: the authorize function (a
// client) and the decision service (a server). It holds the message types,
// their JSON codec (which tolerates what real gateways send) and the HTTP
// client. See SIDEBAND.md in the design notes for the protocol.
package sideband

import (
	"encoding/json"
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
