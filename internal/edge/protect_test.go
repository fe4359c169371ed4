package edge

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// stageProtection is a Protection whose answers the test scripts, and
// which records the order of the stages it saw.
type stageProtection struct {
	inspect    func(r *Request) (bool, error)
	authorized func(r *Request) error
	order      *[]string
}

func (p *stageProtection) Inspect(ctx context.Context, r *Request) (bool, error) {
	*p.order = append(*p.order, "inspect")
	return p.inspect(r)
}

func (p *stageProtection) InspectAuthorized(ctx context.Context, r *Request) error {
	*p.order = append(*p.order, "authorized")
	if p.authorized == nil {
		return nil
	}
	return p.authorized(r)
}

func TestProtection_RunsAroundTheFunction(t *testing.T) {
	forbidden := &Error{Status: http.StatusForbidden, Msg: "forbidden", Err: errors.New("rule 942100")}
	tests := []struct {
		name       string
		inspect    func(r *Request) (bool, error)
		authorized func(r *Request) error
		wantStatus int
		wantOrder  string
		wantOrigin bool
	}{
		{"pass", func(*Request) (bool, error) { return false, nil }, nil, 200, "inspect function authorized", true},
		{"blocked before the function", func(*Request) (bool, error) { return false, forbidden }, nil, 403, "inspect", false},
		{"allowed skips the rest", func(*Request) (bool, error) { return true, nil }, nil, 200, "inspect function", true},
		{"identity rule after the function", func(*Request) (bool, error) { return false, nil },
			func(*Request) error {
				return &Error{Status: http.StatusTooManyRequests, Msg: "too many requests", Header: http.Header{"Retry-After": {"7"}}}
			}, 429, "inspect function authorized", false},
		{"a panic fails closed", func(*Request) (bool, error) { panic("boom") }, nil, 500, "inspect", false},
		{"a body read error is the viewer's", func(r *Request) (bool, error) {
			_, err := io.ReadAll(r.HTTP.Body)
			return false, err
		}, nil, 413, "inspect", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var order []string
			o := &fakeOrigin{}
			p := &stageProtection{inspect: tt.inspect, authorized: tt.authorized, order: &order}
			f := fn(func(ctx context.Context, r *Request) (*Response, error) {
				order = append(order, "function")
				return nil, nil
			})
			cfg := Config{}
			cfg.Limits.MaxBodyBytes = 8
			s := newServer(t, cfg, []Behavior{{PathPattern: "*", Origin: o, Function: f, Protection: p,
				AllowedMethods: []string{"GET", "POST"}}}, Options{})
			body := "0123"
			if tt.wantStatus == 413 {
				body = "0123456789abcdef"
			}
			hr := httptest.NewRequest("POST", "/orders", strings.NewReader(body))
			hr.ContentLength = -1 // chunked: the limit is hit while reading
			w := serve(s, hr)
			if w.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d (%s)", w.Code, tt.wantStatus, w.Body)
			}
			if got := strings.Join(order, " "); got != tt.wantOrder {
				t.Errorf("stages = %q, want %q", got, tt.wantOrder)
			}
			if got := len(o.requests()) == 1; got != tt.wantOrigin {
				t.Errorf("reached the origin = %v, want %v", got, tt.wantOrigin)
			} else if got && o.requests()[0].Body != body {
				t.Errorf("origin body = %q, want %q", o.requests()[0].Body, body)
			}
			if tt.wantStatus >= 400 {
				m := errorBody(t, w)
				if m["request_id"] == "" || strings.Contains(w.Body.String(), "942100") {
					t.Errorf("error body %q: want the request id and no rule detail", w.Body)
				}
			}
			if tt.wantStatus == 429 && w.Header().Get("Retry-After") != "7" {
				t.Errorf("Retry-After = %q, want 7", w.Header().Get("Retry-After"))
			}
		})
	}
}
