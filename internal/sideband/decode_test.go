package sideband

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const minimalRequest = `{"source_ip":"192.0.2.1","source_port":1234,"method":"GET","url":"http://a.example/x","http_version":"1.1","headers":[]}`

func TestDecodeRequest_ErrorsNameTheField(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want []string // substrings of the error, all required
	}{
		{"not JSON", `<html>`, []string{"want a JSON object"}},
		{"empty", ``, []string{"empty body"}},
		{"array", `[]`, []string{"want a JSON object"}},
		{"truncated", `{"method":"GET"`, []string{"malformed JSON"}},
		{"trailing garbage", minimalRequest + `x`, []string{"malformed JSON"}},
		{"missing everything", `{}`, []string{"method: required", "url: required", "source_ip: required"}},
		{"bad port string", strings.Replace(minimalRequest, `1234`, `"x"`, 1), []string{"source_port:"}},
		{"port too large", strings.Replace(minimalRequest, `1234`, `70000`, 1), []string{"source_port:"}},
		{"method number", strings.Replace(minimalRequest, `"GET"`, `5`, 1), []string{"method: want a string"}},
		{"method with space", strings.Replace(minimalRequest, `"GET"`, `"G T"`, 1), []string{"method: want an HTTP method"}},
		{"relative url", strings.Replace(minimalRequest, `http://a.example/x`, `/x`, 1), []string{"url: want an absolute http or https URL"}},
		{"ftp url", strings.Replace(minimalRequest, `http://a.example/x`, `ftp://a.example/x`, 1), []string{"url: want an absolute"}},
		{"bad ip", strings.Replace(minimalRequest, `192.0.2.1`, `localhost`, 1), []string{"source_ip: want an IP address"}},
		{"headers not array", strings.Replace(minimalRequest, `"headers":[]`, `"headers":{"a":"b"}`, 1), []string{"headers:"}},
		{"header value object", strings.Replace(minimalRequest, `"headers":[]`, `"headers":[{"a":{}}]`, 1), []string{"headers:"}},
		{"body number", strings.Replace(minimalRequest, `"headers":[]`, `"headers":[],"body":5`, 1), []string{"body: want a string"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := DecodeRequest(strings.NewReader(tt.in), 0)
			if err == nil {
				t.Fatalf("DecodeRequest(%s) = nil error, want %q", tt.in, tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("DecodeRequest(%s) error = %q, want it to contain %q", tt.in, err, w)
				}
			}
		})
	}
}

func TestDecodeRequest_AcceptsWhatGatewaysSend(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want Request
	}{
		{"minimal", minimalRequest, Request{SourceIP: "192.0.2.1", SourcePort: 1234, Method: "GET", URL: "http://a.example/x", HTTPVersion: "1.1"}},
		{"port as string, bare ?", `{"source_ip":"192.0.2.1","source_port":"80","method":"GET","url":"https://a.example:443/x?"}`,
			Request{SourceIP: "192.0.2.1", SourcePort: 80, Method: "GET", URL: "https://a.example:443/x?"}},
		{"unknown fields ignored", `{"source_ip":"::1","method":"GET","url":"http://a/","future":{"x":1}}`,
			Request{SourceIP: "::1", Method: "GET", URL: "http://a/"}},
		{"numeric header value", `{"source_ip":"::1","method":"GET","url":"http://a/","headers":[{"x-n":5}]}`,
			Request{SourceIP: "::1", Method: "GET", URL: "http://a/", Headers: Headers{{"x-n", "5"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := DecodeRequest(strings.NewReader(tt.in), 0)
			if err != nil {
				t.Fatalf("DecodeRequest(%s) error: %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, *got); diff != "" {
				t.Errorf("DecodeRequest(%s) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestDecodeRequest_LimitGivesErrTooLarge(t *testing.T) {
	t.Parallel()
	_, err := DecodeRequest(strings.NewReader(minimalRequest), int64(len(minimalRequest)-1))
	if !errors.Is(err, ErrTooLarge) {
		t.Errorf("DecodeRequest(over limit) = %v, want ErrTooLarge", err)
	}
	if _, err := DecodeRequest(strings.NewReader(minimalRequest), int64(len(minimalRequest))); err != nil {
		t.Errorf("DecodeRequest(at limit) = %v, want nil", err)
	}
}

func TestDecodeResponseRequest_Validation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		wantErr string
	}{
		{"neither state nor request", `{"method":"GET","url":"http://a/","response_code":200}`, ""},
		{"numeric string code", `{"method":"GET","url":"http://a/","response_code":"404"}`, ""},
		{"null state dropped", `{"method":"GET","url":"http://a/","response_code":200,"state":null}`, ""},
		{"missing code", `{"method":"GET","url":"http://a/"}`, "response_code: required"},
		{"bad code", `{"method":"GET","url":"http://a/","response_code":"abc"}`, "response_code:"},
		{"bad nested request", `{"method":"GET","url":"http://a/","response_code":200,"request":{"method":"GET"}}`, "request.url: required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := DecodeResponseRequest(strings.NewReader(tt.in), 0)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("DecodeResponseRequest(%s) error: %v", tt.in, err)
				}
				if got.State != nil {
					t.Errorf("DecodeResponseRequest(%s).State = %s, want nil", tt.in, got.State)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("DecodeResponseRequest(%s) error = %v, want %q", tt.in, err, tt.wantErr)
			}
		})
	}
}

// TestDecodeReply_OnlyExplicitDecisions pins "a decision is explicit".
func TestDecodeReply_OnlyExplicitDecisions(t *testing.T) {
	t.Parallel()
	const allow = `{"method":"GET","url":"http://a/x","headers":[{"host":"a"}]}`
	tests := []struct {
		name    string
		in      string
		want    string // "allow", "deny" or "" for malformed
		wantErr string
	}{
		{"allow", allow, "allow", ""},
		{"allow with state", `{"method":"GET","url":"http://a/x","headers":[],"state":{"k": 1}}`, "allow", ""},
		{"deny", `{"response":{"response_code":"403","headers":[]}}`, "deny", ""},
		{"deny numeric code, no headers", `{"response":{"response_code":401}}`, "deny", ""},
		{"empty object", `{}`, "", "method: required"},
		{"response null", `{"response":null}`, "", "null is not a decision"},
		{"response null beside an echo", `{"method":"GET","url":"http://a/x","headers":[],"response":null}`, "", "null is not a decision"},
		{"response not an object", `{"response":"deny"}`, "", "response: want a JSON object"},
		{"response without code", `{"response":{}}`, "", "response.response_code: required"},
		{"response code 100", `{"response":{"response_code":100}}`, "", "want 200-599"},
		{"response code 700", `{"response":{"response_code":"700"}}`, "", "want 200-599"},
		{"allow without headers", `{"method":"GET","url":"http://a/x"}`, "", "headers: required"},
		{"allow with null headers", `{"method":"GET","url":"http://a/x","headers":null}`, "", "headers: required"},
		{"allow without url", `{"method":"GET","headers":[]}`, "", "url: required"},
		{"allow with relative url", `{"method":"GET","url":"/x","headers":[]}`, "", "url: want an absolute"},
		{"allow with bad header name", `{"method":"GET","url":"http://a/x","headers":[{"a b":"c"}]}`, "", "invalid header name"},
		{"allow with CRLF in value", `{"method":"GET","url":"http://a/x","headers":[{"a":"b\r\nc: d"}]}`, "", "invalid value"},
		{"html", `<html><body>Bad gateway</body></html>`, "", "want a JSON object"},
		{"truncated", allow[:len(allow)-3], "", "malformed JSON"},
		{"array", `[` + allow + `]`, "", "want a JSON object"},
		{"string", `"allow"`, "", "want a JSON object"},
		{"empty", ``, "", "empty body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := DecodeReply([]byte(tt.in))
			if tt.want == "" {
				if err == nil {
					t.Fatalf("DecodeReply(%s) = %+v, want an error", tt.in, got)
				}
				if !errors.Is(err, ErrMalformedReply) {
					t.Errorf("DecodeReply(%s) error %v does not wrap ErrMalformedReply", tt.in, err)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("DecodeReply(%s) error = %q, want it to contain %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("DecodeReply(%s) error: %v", tt.in, err)
			}
			kind := "allow"
			if got.Response != nil {
				kind = "deny"
			}
			if kind != tt.want {
				t.Errorf("DecodeReply(%s) = %s, want %s", tt.in, kind, tt.want)
			}
		})
	}
}

func TestDecodeReply_KeepsStateBytes(t *testing.T) {
	t.Parallel()
	const state = `{"b": [1, 2],   "a": "<x>"}`
	got, err := DecodeReply([]byte(`{"method":"GET","url":"http://a/","headers":[],"state":` + state + `}`))
	if err != nil {
		t.Fatal(err)
	}
	if string(got.State) != state {
		t.Errorf("DecodeReply().State = %s, want %s", got.State, state)
	}
}

func TestEncodeResponseRequest_StateByteForByte(t *testing.T) {
	t.Parallel()
	const state = `{"b": [1, 2],   "a": "<x>"}`
	rr := &ResponseRequest{Method: "GET", URL: "http://a/", ResponseCode: 200, State: json.RawMessage(state)}
	out, err := EncodeResponseRequest(rr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(out, []byte(`"state":`+state+`}`)) {
		t.Errorf("EncodeResponseRequest() = %s, want the state %s verbatim", out, state)
	}
	back, err := DecodeResponseRequest(bytes.NewReader(out), 0)
	if err != nil {
		t.Fatal(err)
	}
	if string(back.State) != state {
		t.Errorf("decoded state = %s, want %s", back.State, state)
	}
	if _, err := EncodeResponseRequest(&ResponseRequest{State: json.RawMessage(`{bad`)}); err == nil {
		t.Error("EncodeResponseRequest(invalid state) = nil error, want one")
	}
}

func TestReplyMarshal_AllowNeverCarriesResponseKey(t *testing.T) {
	t.Parallel()
	allow, err := json.Marshal(Reply{Request: Request{Method: "GET", URL: "http://a/"}})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(allow, []byte(`"response"`)) {
		t.Errorf("Marshal(allow) = %s, want no response key", allow)
	}
	if !bytes.Contains(allow, []byte(`"headers":[]`)) {
		t.Errorf("Marshal(allow) = %s, want a headers array even when empty", allow)
	}
	deny, err := json.Marshal(Reply{Request: Request{Method: "GET"}, Response: &Response{ResponseCode: 403}})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"response":{"response_code":"403","response_status":"","headers":[]}}`; string(deny) != want {
		t.Errorf("Marshal(deny) = %s, want %s", deny, want)
	}
}

func TestParseURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    string
		wantErr bool
	}{
		{"https://a.example:443/x?", "https://a.example:443/x", false},
		{"HTTP://a.example/x?q=1", "http://a.example/x?q=1", false},
		{"https://a.example", "https://a.example", false},
		{"/x", "", true},
		{"mailto:a@b", "", true},
		{"https:///x", "", true},
		{"ws://a/", "", true},
		{"http://a/%zz", "", true},
	}
	for _, tt := range tests {
		u, err := ParseURL(tt.in)
		if tt.wantErr {
			if err == nil {
				t.Errorf("ParseURL(%q) = %v, want an error", tt.in, u)
			}
			continue
		}
		if err != nil || u.String() != tt.want {
			t.Errorf("ParseURL(%q) = %v, %v, want %s", tt.in, u, err, tt.want)
		}
	}
}
