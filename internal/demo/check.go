package demo

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Scopes of the demo's Orders API service.
const (
	ScopeRead  = "orders:read"
	ScopeWrite = "orders:write"
)

// CheckResult is one row of the self-check: a request sent through the
// edge, what it should get and what it got.
type CheckResult struct {
	// Request is the method and path, e.g. "GET /orders/3".
	Request string
	// Token says which token the request carried.
	Token string
	// Want is the expected status, with the cache result (X-Cache) where
	// it matters: "401", "200 Miss".
	Want string
	// Got is what came back, in the same form, or the error.
	Got string
	// Note is why, from the answer: the deny's error code, the Location of
	// a created order, the X-Cache header.
	Note string
	// OK reports whether Got is Want.
	OK bool
}

// Passed reports whether every row of results is OK.
func Passed(results []CheckResult) bool {
	for _, r := range results {
		if !r.OK {
			return false
		}
	}
	return len(results) > 0
}

// step is one request of the self-check.
type step struct {
	method, path string
	token        string // the Authorization bearer token; "" for none
	tokenName    string
	body         string
	wantStatus   int
	wantCache    string // "Miss", "Hit" or "" when X-Cache does not matter
}

// Check sends the self-check's requests through the edge and reports each:
// no token → 401; a forged token (a read token whose scope was widened,
// the signature kept) → 401; a read token on a write → 403; a write token
// → 201; then the new order read twice → 200 Miss, then 200 Hit. It
// creates one order each time it runs, so the cache rows hold on every
// run.
func (d *Demo) Check(ctx context.Context) []CheckResult {
	tr := &http.Transport{MaxIdleConnsPerHost: 2}
	defer tr.CloseIdleConnections()
	c := &http.Client{
		Transport:     tr,
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}

	read, readErr := RequestToken(ctx, c, d.IssuerURL(), ScopeRead, "")
	write, writeErr := RequestToken(ctx, c, d.IssuerURL(), ScopeWrite, "")
	var readTok, writeTok, forged string
	if readErr == nil {
		readTok = read.AccessToken
		forged, readErr = Forge(readTok, ScopeRead+" "+ScopeWrite)
	}
	if writeErr == nil {
		writeTok = write.AccessToken
	}
	const order = `{"item":"self-check","quantity":1}`

	steps := []step{
		{method: "GET", path: "/orders/1", tokenName: "none", wantStatus: 401},
		{method: "POST", path: "/orders", token: forged, tokenName: "forged (bad signature)", body: order, wantStatus: 401},
		{method: "POST", path: "/orders", token: readTok, tokenName: ScopeRead, body: order, wantStatus: 403},
		{method: "POST", path: "/orders", token: writeTok, tokenName: ScopeWrite, body: order, wantStatus: 201},
		{method: "GET", path: "/orders/{new}", token: readTok, tokenName: ScopeRead, wantStatus: 200, wantCache: "Miss"},
		{method: "GET", path: "/orders/{new}", token: readTok, tokenName: ScopeRead, wantStatus: 200, wantCache: "Hit"},
	}
	newPath := "/orders/1" // replaced by the created order's path
	results := make([]CheckResult, 0, len(steps))
	for _, s := range steps {
		if s.path == "/orders/{new}" {
			s.path = newPath
		}
		res := CheckResult{Request: s.method + " " + s.path, Token: s.tokenName, Want: strconv.Itoa(s.wantStatus)}
		if s.wantCache != "" {
			res.Want += " " + s.wantCache
		}
		tokErr := readErr
		if s.tokenName == ScopeWrite {
			tokErr = writeErr
		}
		if s.tokenName != "none" && tokErr != nil {
			res.Got = "no token: " + tokErr.Error()
			results = append(results, res)
			continue
		}
		resp, err := d.send(ctx, c, s)
		if err != nil {
			res.Got = "error: " + err.Error()
			results = append(results, res)
			continue
		}
		res.Got, res.Note = describe(resp, s.wantCache != "")
		res.OK = res.Got == res.Want
		if resp.StatusCode == http.StatusCreated {
			if p := createdPath(resp, s.path); p != "" {
				newPath = p
			}
		}
		results = append(results, res)
	}
	return results
}

// send makes one request to the edge and reads the answer whole.
func (d *Demo) send(ctx context.Context, c *http.Client, s step) (*response, error) {
	var body io.Reader
	if s.body != "" {
		body = strings.NewReader(s.body)
	}
	req, err := http.NewRequestWithContext(ctx, s.method, d.edgeURL+s.path, body)
	if err != nil {
		return nil, err
	}
	if s.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if s.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.token)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	return &response{StatusCode: resp.StatusCode, Header: resp.Header, Body: b}, nil
}

// response is an answer read whole.
type response struct {
	StatusCode int
	Header     http.Header
	Body       []byte
}

// describe renders an answer as the self-check compares it: the status,
// with the first word of X-Cache when the cache result matters; and a
// note saying why.
func describe(r *response, withCache bool) (got, note string) {
	got = strconv.Itoa(r.StatusCode)
	xc := r.Header.Get("X-Cache")
	if withCache {
		if f := strings.Fields(xc); len(f) > 0 {
			got += " " + f[0]
		} else {
			got += " (no X-Cache)"
		}
	}
	switch {
	case r.StatusCode == http.StatusCreated:
		note = "Location: " + r.Header.Get("Location")
	case r.StatusCode >= 400:
		note = denyReason(r)
	case xc != "":
		note = "X-Cache: " + xc
	}
	return got, note
}

var authError = regexp.MustCompile(`error="([^"]*)"`)

// denyReason is the error code of a deny: from WWW-Authenticate (RFC 6750
// section 3), else from the JSON body's error.
func denyReason(r *response) string {
	var body struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	_ = json.Unmarshal(r.Body, &body)
	code := body.Error
	if m := authError.FindStringSubmatch(r.Header.Get("WWW-Authenticate")); m != nil {
		code = m[1]
	}
	if code == "" && r.Header.Get("WWW-Authenticate") != "" {
		code = "WWW-Authenticate: " + r.Header.Get("WWW-Authenticate")
	}
	if body.Description != "" && code != "" {
		return code + ": " + body.Description
	}
	return code
}

// createdPath resolves a 201's Location against the request path.
func createdPath(r *response, reqPath string) string {
	loc, err := url.Parse(r.Header.Get("Location"))
	if err != nil || loc.Path == "" {
		return ""
	}
	return (&url.URL{Path: reqPath}).ResolveReference(loc).Path
}
