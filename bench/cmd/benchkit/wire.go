package main

import (
	"encoding/json"
	"errors"
	"strings"
)

// The part of the sideband protocol (docs: SIDEBAND.md) that the trivial
// authorizer speaks. benchkit is a module of its own, so that edgeward's
// go.mod carries no load-generator dependency, and a module cannot import
// another's internal packages: the few names it needs are written here,
// and TestSidebandAuthz pins them.
const (
	requestPath      = "/sideband/request"
	credentialHeader = "CLIENT-TOKEN"
	maxRequestBody   = 1 << 20
)

// denyBody is the 403 decision: a "response" object, with the status code
// as a string as PingOne writes it.
const denyBody = `{"response":{"response_code":"403","response_status":"Forbidden",` +
	`"headers":[{"content-type":"application/json"}],"body":"{\"error\":\"forbidden\"}"}}`

// decide is the trivial sideband decision for one request-phase body: a
// request without an authorization header is denied; an allow echoes the
// request, every field kept, without that header.
func decide(body []byte) ([]byte, error) {
	var req map[string]json.RawMessage
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, err
	}
	if req["method"] == nil || req["url"] == nil {
		return nil, errors.New("method and url are required")
	}
	var headers []map[string]string // each a one-key {name: value} object
	if err := json.Unmarshal(req["headers"], &headers); err != nil {
		return nil, errors.New("headers: want an array of {name: value} objects")
	}
	kept := headers[:0]
	for _, h := range headers {
		if !hasFold(h, "authorization") {
			kept = append(kept, h)
		}
	}
	if len(kept) == len(headers) {
		return []byte(denyBody), nil
	}
	b, err := json.Marshal(kept)
	if err != nil {
		return nil, err
	}
	req["headers"] = b
	return json.Marshal(req)
}

func hasFold(h map[string]string, name string) bool {
	for k := range h {
		if strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}
