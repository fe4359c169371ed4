package sideband

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"strings"

	"github.com/edgeward/edgeward/internal/method"
	"golang.org/x/net/http/httpguts"
)

// DefaultMaxBody is the body limit DecodeRequest and DecodeResponseRequest
// apply when given no limit, and the client's default reply limit.
const DefaultMaxBody = 1 << 20

// Errors a caller branches on. Every error the decoders and the Client
// return wraps at most one of them (or is a *StatusError), so that
// errors.Is tells "the service was unreachable" from "the service answered
// something that is not a decision".
var (
	// ErrMalformedReply marks a reply that is not a decision: not JSON, not
	// an object, {} or {"response": null}, an allow without method, url or
	// headers, a deny without a valid response_code, or a reply over the
	// size limit.
	ErrMalformedReply = errors.New("malformed sideband reply")
	// ErrTransport marks a call that got no complete answer: connection
	// refused or reset, TLS failure, timeout, a body cut short.
	ErrTransport = errors.New("sideband transport error")
	// ErrTooLarge marks a request-phase or response-phase body over the
	// server's limit (the decision service answers 413).
	ErrTooLarge = errors.New("sideband body too large")
)

// DecodeRequest reads a request-phase body, as the decision service
// receives it, reading at most limit bytes (limit <= 0 means
// DefaultMaxBody). It tolerates what real gateways send (a numeric string
// source_port, a url ending in a bare "?", no body) and requires method (an
// HTTP token), url (an absolute http or https URL) and source_ip (an IP
// address). Errors name the field: "method: required",
// "source_port: want a port number 1-65535, got \"x\"". A body over the
// limit gives an error wrapping ErrTooLarge.
func DecodeRequest(r io.Reader, limit int64) (*Request, error) {
	data, err := readLimited(r, limit)
	if err != nil {
		return nil, err
	}
	return ParseRequest(data)
}

// ParseRequest is DecodeRequest of a body already read (and bounded) by
// the caller: the decision service reads it once, at its known length.
func ParseRequest(data []byte) (*Request, error) {
	req, err := decodeRequest(data)
	if err != nil {
		return nil, err
	}
	if err := req.validate(""); err != nil {
		return nil, err
	}
	return req, nil
}

// decodeRequest reads a request-phase body as json.Unmarshal into a
// Request would (a "state" member is read and dropped, as encoding/json
// skips a member Request has no field for).
func decodeRequest(data []byte) (*Request, error) {
	var w replyWire
	if parseReplyFast(data, &w) {
		req := &w.Request
		if w.Headers != nil {
			req.Headers = *w.Headers
		}
		return req, nil
	}
	var req Request
	if err := unmarshalObject(data, &req); err != nil {
		return nil, err
	}
	return &req, nil
}

// DecodeResponseRequest reads a response-phase body, as the decision
// service receives it (limit as for DecodeRequest). It requires method,
// url and response_code (a string or a number); state and request are both
// optional (a call with neither is answered from what it carries). When
// request is present it is validated as DecodeRequest does, its errors
// prefixed with "request.".
func DecodeResponseRequest(r io.Reader, limit int64) (*ResponseRequest, error) {
	data, err := readLimited(r, limit)
	if err != nil {
		return nil, err
	}
	return ParseResponseRequest(data)
}

// ParseResponseRequest is DecodeResponseRequest of a body already read
// (and bounded) by the caller.
func ParseResponseRequest(data []byte) (*ResponseRequest, error) {
	var rr ResponseRequest
	if err := unmarshalObject(data, &rr); err != nil {
		return nil, err
	}
	var errs []error
	errs = append(errs, validateMethod("method", rr.Method), validateURL("url", rr.URL))
	if rr.ResponseCode == 0 {
		errs = append(errs, errors.New("response_code: required"))
	}
	if rr.Request != nil {
		errs = append(errs, rr.Request.validate("request."))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if isNull(rr.State) {
		rr.State = nil
	}
	return &rr, nil
}

// replyWire is Reply as it arrives, with the presence of headers and
// response kept: an allow without a headers array and a "response": null
// are not decisions, and a plain *Headers or *Response cannot tell them from
// an absent key.
type replyWire struct {
	Request
	Headers  *Headers        `json:"headers"`
	State    json.RawMessage `json:"state"`
	Response json.RawMessage `json:"response"`
}

// DecodeReply reads a request-phase reply body and checks that it is a
// decision: a JSON object that either has a "response" object with a
// response_code of 200-599 (a deny), or has no "response" key and echoes at
// least a method, an absolute http(s) url and a headers array (an allow).
// Anything else gives an error wrapping ErrMalformedReply. Header names and
// values must be valid HTTP; a "state": null is treated as no state.
func DecodeReply(data []byte) (*Reply, error) {
	var w replyWire
	if !parseReplyFast(data, &w) {
		w = replyWire{}
		if err := unmarshalObject(data, &w); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrMalformedReply, err)
		}
	}
	if w.Response != nil {
		resp, err := decodeResponse(w.Response, "response.")
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrMalformedReply, err)
		}
		return &Reply{Response: resp}, nil
	}
	errs := []error{validateMethod("method", w.Method), validateURL("url", w.URL)}
	if w.Headers == nil {
		errs = append(errs, errors.New("headers: required in an allow (an empty array removes every header)"))
	} else {
		errs = append(errs, validateHeaders("headers", *w.Headers))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("%w: allow: %w", ErrMalformedReply, err)
	}
	rep := &Reply{Request: w.Request}
	rep.Headers = *w.Headers
	if !isNull(w.State) {
		rep.State = w.State
	}
	return rep, nil
}

// DecodeResponse reads a response-phase reply body: a flat response object
// with a response_code of 200-599 and valid headers. Anything else gives an
// error wrapping ErrMalformedReply.
func DecodeResponse(data []byte) (*Response, error) {
	resp, err := decodeResponse(data, "")
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedReply, err)
	}
	return resp, nil
}

func decodeResponse(data []byte, prefix string) (*Response, error) {
	name := strings.TrimSuffix(prefix, ".")
	if name == "" {
		name = "reply"
	}
	if isNull(data) {
		return nil, fmt.Errorf("%s: null is not a decision (an allow omits the key)", name)
	}
	var resp Response
	if err := unmarshalObject(data, &resp); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	switch c := int(resp.ResponseCode); {
	case c == 0:
		return nil, fmt.Errorf("%sresponse_code: required", prefix)
	case c < 200 || c > 599:
		return nil, fmt.Errorf("%sresponse_code: want 200-599, got %d", prefix, c)
	}
	if err := validateHeaders(prefix+"headers", resp.Headers); err != nil {
		return nil, err
	}
	return &resp, nil
}

// ParseURL parses a sideband url: an absolute http or https URL with a host.
// A trailing bare "?" (Kong writes path.."?"..query even when the query is
// empty) means no query. The scheme is returned lower-case.
func ParseURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("want an absolute http or https URL, got %q", s)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "" {
		return nil, fmt.Errorf("want an absolute http or https URL, got %q", s)
	}
	u.ForceQuery = false
	return u, nil
}

// EncodeResponseRequest encodes rr with State copied byte for byte:
// json.Marshal compacts (and HTML-escapes) raw messages, and the response
// phase must hand the service back exactly the state it gave.
func EncodeResponseRequest(rr *ResponseRequest) ([]byte, error) {
	type plain ResponseRequest // no methods: plain json.Marshal
	p := plain(*rr)
	state := p.State
	p.State = nil
	b, err := json.Marshal(&p)
	if err != nil {
		return nil, err
	}
	if len(state) == 0 {
		return b, nil
	}
	if !json.Valid(state) {
		return nil, errors.New("state: not valid JSON")
	}
	out := make([]byte, 0, len(b)+len(state)+10)
	out = append(out, b[:len(b)-1]...) // drop the closing brace
	out = append(out, `,"state":`...)
	out = append(out, state...)
	return append(out, '}'), nil
}

func (r *Request) validate(prefix string) error {
	errs := []error{
		validateMethod(prefix+"method", r.Method),
		validateURL(prefix+"url", r.URL),
	}
	if r.SourceIP == "" {
		errs = append(errs, fmt.Errorf("%ssource_ip: required", prefix))
	} else if _, err := netip.ParseAddr(r.SourceIP); err != nil {
		errs = append(errs, fmt.Errorf("%ssource_ip: want an IP address, got %q", prefix, r.SourceIP))
	}
	return errors.Join(errs...)
}

func validateMethod(path, m string) error {
	if m == "" {
		return fmt.Errorf("%s: required", path)
	}
	if !method.Valid(m) {
		return fmt.Errorf("%s: want an HTTP method, got %q", path, m)
	}
	return nil
}

func validateURL(path, s string) error {
	if s == "" {
		return fmt.Errorf("%s: required", path)
	}
	if _, err := ParseURL(s); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

func validateHeaders(path string, h Headers) error {
	for i, e := range h {
		if !httpguts.ValidHeaderFieldName(e.Name) {
			return fmt.Errorf("%s[%d]: invalid header name %q", path, i, e.Name)
		}
		if !httpguts.ValidHeaderFieldValue(e.Value) {
			return fmt.Errorf("%s[%d]: invalid value for header %q", path, i, e.Name)
		}
	}
	return nil
}

func readLimited(r io.Reader, limit int64) ([]byte, error) {
	if limit <= 0 {
		limit = DefaultMaxBody
	}
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("body: %w", err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%w: body: over %d bytes", ErrTooLarge, limit)
	}
	return data, nil
}

// unmarshalObject decodes a JSON object into v, naming the field in type
// errors ("method: want string, got number").
func unmarshalObject(data []byte, v any) error {
	t := bytes.TrimLeft(data, " \t\r\n")
	if len(t) == 0 {
		return errors.New("empty body: want a JSON object")
	}
	if t[0] != '{' {
		return errors.New("want a JSON object")
	}
	err := json.Unmarshal(t, v)
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &se):
		return fmt.Errorf("malformed JSON at byte %d: %v", se.Offset, err)
	case errors.As(err, &te) && te.Field != "":
		return fmt.Errorf("%s: want %s, got %s", te.Field, jsonKind(te.Type.Kind().String()), te.Value)
	case errors.As(err, &te):
		return fmt.Errorf("want %s, got %s", jsonKind(te.Type.Kind().String()), te.Value)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("malformed JSON: unexpected end of input")
	}
	return err
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "struct", "map":
		return "an object"
	case "slice", "array":
		return "an array"
	case "bool":
		return "a boolean"
	}
	return "a number"
}

func isNull(b json.RawMessage) bool {
	return len(b) == 4 && string(b) == "null"
}
