package accesslog

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/edgeward/edgeward/internal/edge"
	"github.com/edgeward/edgeward/internal/testkit"
	"github.com/google/go-cmp/cmp"
)

var testStart = time.Date(2019, 12, 4, 21, 2, 30, 950e6, time.UTC)

// testRequest is a plain cache hit over HTTP/1.1.
func testRequest() (*edge.Request, *edge.Record) {
	h := httptest.NewRequest(http.MethodGet, "/orders/42?verbose=1", nil)
	h.Host = "api.example.com:8080"
	h.Header.Set("User-Agent", "curl/8.5.0")
	r := &edge.Request{
		ID:     "SOX4xwn4XV6Q4rgb7XiVGOHms_BGlTAC4KyHmureZmBNrjGdRLiNIQ==",
		HTTP:   h,
		Client: netip.MustParseAddrPort("192.0.2.100:11040"),
		Peer:   netip.MustParseAddrPort("192.0.2.100:11040"),
		Scheme: "http",
		Host:   "api.example.com:8080",
		Start:  testStart,
		Result: edge.ResultHit,
	}
	rec := &edge.Record{
		Status:       200,
		BytesIn:      23,
		BytesOut:     392,
		TimeTaken:    82 * time.Millisecond,
		TimeToFirstB: 1400 * time.Microsecond,
	}
	return r, rec
}

// logOutput logs each request through a Log built from cfg and returns
// everything the log wrote, after Close.
func logOutput(t *testing.T, cfg LogConfig, reqs ...func() (*edge.Request, *edge.Record)) string {
	t.Helper()
	var buf testkit.Buffer
	l, err := New(cfg, Options{Writer: &buf})
	if err != nil {
		t.Fatalf("New(%+v) = %v", cfg, err)
	}
	for _, f := range reqs {
		l.Log(f())
	}
	if err := l.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	return buf.String()
}

// parseW3C checks the two header lines and splits the records into fields
// keyed by the names in the #Fields line.
func parseW3C(t *testing.T, out string) []map[string]string {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) < 2 || lines[0] != "#Version: 1.0" || !strings.HasPrefix(lines[1], "#Fields: ") {
		t.Fatalf("log does not start with the W3C header lines:\n%s", out)
	}
	names := strings.Fields(strings.TrimPrefix(lines[1], "#Fields: "))
	if len(names) != 33 {
		t.Fatalf("#Fields names %d fields, want 33", len(names))
	}
	var recs []map[string]string
	for _, line := range lines[2:] {
		vals := strings.Split(line, "\t")
		if len(vals) != len(names) {
			t.Fatalf("record has %d fields, want %d: %q", len(vals), len(names), line)
		}
		m := make(map[string]string, len(names))
		for i, n := range names {
			m[n] = vals[i]
		}
		recs = append(recs, m)
	}
	return recs
}

func TestFieldNames_AreCloudFrontsThirtyThreeInOrder(t *testing.T) {
	t.Parallel()
	// From CloudFront's "Standard log file fields" list, in order.
	want := []string{"date", "time", "x-edge-location", "sc-bytes", "c-ip", "cs-method", "cs(Host)",
		"cs-uri-stem", "sc-status", "cs(Referer)", "cs(User-Agent)", "cs-uri-query", "cs(Cookie)",
		"x-edge-result-type", "x-edge-request-id", "x-host-header", "cs-protocol", "cs-bytes",
		"time-taken", "x-forwarded-for", "ssl-protocol", "ssl-cipher", "x-edge-response-result-type",
		"cs-protocol-version", "fle-status", "fle-encrypted-fields", "c-port", "time-to-first-byte",
		"x-edge-detailed-result-type", "sc-content-type", "sc-content-len", "sc-range-start", "sc-range-end"}
	if diff := cmp.Diff(want, FieldNames()); diff != "" {
		t.Errorf("FieldNames() mismatch (-want +got):\n%s", diff)
	}
}

func TestLog_CloudFrontFormatWritesEveryFieldInOrder(t *testing.T) {
	t.Parallel()
	cfg := LogConfig{}
	recs := parseW3C(t, logOutput(t, cfg, testRequest))
	if len(recs) != 1 {
		t.Fatalf("got %d records, want 1", len(recs))
	}
	want := map[string]string{
		"date": "2019-12-04", "time": "21:02:31", "x-edge-location": "edgeward",
		"sc-bytes": "392", "c-ip": "192.0.2.100", "cs-method": "GET", "cs(Host)": "api.example.com",
		"cs-uri-stem": "/orders/42", "sc-status": "200", "cs(Referer)": "-",
		"cs(User-Agent)": "curl/8.5.0", "cs-uri-query": "verbose=1", "cs(Cookie)": "-",
		"x-edge-result-type": "Hit", "x-edge-request-id": "SOX4xwn4XV6Q4rgb7XiVGOHms_BGlTAC4KyHmureZmBNrjGdRLiNIQ==",
		"x-host-header": "api.example.com:8080", "cs-protocol": "http", "cs-bytes": "23",
		"time-taken": "0.082", "x-forwarded-for": "-", "ssl-protocol": "-", "ssl-cipher": "-",
		"x-edge-response-result-type": "Hit", "cs-protocol-version": "HTTP/1.1", "fle-status": "-",
		"fle-encrypted-fields": "-", "c-port": "11040", "time-to-first-byte": "0.001",
		"x-edge-detailed-result-type": "Hit", "sc-content-type": "-", "sc-content-len": "-",
		"sc-range-start": "-", "sc-range-end": "-",
	}
	if diff := cmp.Diff(want, recs[0]); diff != "" {
		t.Errorf("record mismatch (-want +got):\n%s", diff)
	}
}

func TestLog_EncodesValuesAsCloudFrontDoes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		edit   func(r *edge.Request)
		field  string
		want   string
		verify func(t *testing.T, rec map[string]string)
	}{
		{
			name:  "spaces in the user agent",
			edit:  func(r *edge.Request) { r.HTTP.Header.Set("User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64)") },
			field: "cs(User-Agent)", want: "Mozilla/5.0%20(Windows%20NT%2010.0;%20Win64;%20x64)",
		},
		{
			name:  "tab and newline",
			edit:  func(r *edge.Request) { r.HTTP.Header["User-Agent"] = []string{"a\tb\nc\rd"} },
			field: "cs(User-Agent)", want: "a%09b%0Ac%0Dd",
		},
		{
			name:  "control bytes and DEL",
			edit:  func(r *edge.Request) { r.HTTP.Header["User-Agent"] = []string{"x\x00\x01\x1f\x7fy"} },
			field: "cs(User-Agent)", want: "x%00%01%1F%7Fy",
		},
		{
			name:  "non-ASCII bytes one by one",
			edit:  func(r *edge.Request) { r.HTTP.Header["User-Agent"] = []string{"café ☕ \xff"} },
			field: "cs(User-Agent)", want: "caf%C3%A9%20%E2%98%95%20%FF",
		},
		{
			name:  "the characters of CloudFront's table",
			edit:  func(r *edge.Request) { r.HTTP.Header["Referer"] = []string{`<>"#%{}|\^~[]` + "`'"} },
			field: "cs(Referer)", want: "%3C%3E%22%23%25%7B%7D%7C%5C%5E%7E%5B%5D%60%27",
		},
		{
			name:  "characters CloudFront leaves alone",
			edit:  func(r *edge.Request) { r.HTTP.Header["Referer"] = []string{"https://x.example/a-b_c.d!$&()*+,;=:@?/"} },
			field: "cs(Referer)", want: "https://x.example/a-b_c.d!$&()*+,;=:@?/",
		},
		{
			name:  "empty header is a hyphen",
			edit:  func(r *edge.Request) { r.HTTP.Header["User-Agent"] = []string{""} },
			field: "cs(User-Agent)", want: "-",
		},
		{
			name: "escaped path keeps its escapes, percent-encoded again",
			edit: func(r *edge.Request) {
				r.HTTP = httptest.NewRequest(http.MethodGet, "/a%20b/%E2%82%AC?q=x%3Dy", nil)
			},
			field: "cs-uri-stem", want: "/a%2520b/%25E2%2582%25AC",
		},
		{
			name:  "query encoded, without its question mark",
			edit:  func(r *edge.Request) { r.HTTP = httptest.NewRequest(http.MethodGet, "/p?a=%22x%22&b=c", nil) },
			field: "cs-uri-query", want: "a=%2522x%2522&b=c",
		},
		{
			name:  "no query is a hyphen",
			edit:  func(r *edge.Request) { r.HTTP = httptest.NewRequest(http.MethodGet, "/p", nil) },
			field: "cs-uri-query", want: "-",
		},
		{
			name: "absolute-form target logs its path",
			edit: func(r *edge.Request) {
				r.HTTP = httptest.NewRequest(http.MethodGet, "/p", nil)
				r.HTTP.RequestURI = "http://api.example.com/abs/path?x=1"
			},
			verify: func(t *testing.T, rec map[string]string) {
				if rec["cs-uri-stem"] != "/abs/path" || rec["cs-uri-query"] != "x=1" {
					t.Errorf("stem, query = %q, %q, want /abs/path, x=1", rec["cs-uri-stem"], rec["cs-uri-query"])
				}
			},
		},
		{
			name: "without RequestURI the URL is logged",
			edit: func(r *edge.Request) {
				r.HTTP.RequestURI = ""
				r.HTTP.URL.Path, r.HTTP.URL.RawPath, r.HTTP.URL.RawQuery = "/a b", "", "k=v"
			},
			verify: func(t *testing.T, rec map[string]string) {
				if rec["cs-uri-stem"] != "/a%2520b" || rec["cs-uri-query"] != "k=v" {
					t.Errorf("stem, query = %q, %q, want /a%%2520b, k=v", rec["cs-uri-stem"], rec["cs-uri-query"])
				}
			},
		},
		{
			name:  "request id with spaces stays one field",
			edit:  func(r *edge.Request) { r.ID = "a b\tc" },
			field: "x-edge-request-id", want: "a%20b%09c",
		},
		{
			name:  "empty request id is a hyphen",
			edit:  func(r *edge.Request) { r.ID = "" },
			field: "x-edge-request-id", want: "-",
		},
		{
			name:  "IPv6 viewer",
			edit:  func(r *edge.Request) { r.Peer = netip.MustParseAddrPort("[2001:db8::7%eth0]:443"); r.Client = r.Peer },
			field: "c-ip", want: "2001:db8::7",
		},
		{
			name:  "IPv4-mapped IPv6 viewer logs the IPv4 address",
			edit:  func(r *edge.Request) { r.Peer = netip.MustParseAddrPort("[::ffff:192.0.2.9]:1"); r.Client = r.Peer },
			field: "c-ip", want: "192.0.2.9",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			recs := parseW3C(t, logOutput(t, LogConfig{}, func() (*edge.Request, *edge.Record) {
				r, rec := testRequest()
				tc.edit(r)
				return r, rec
			}))
			if tc.verify != nil {
				tc.verify(t, recs[0])
				return
			}
			if got := recs[0][tc.field]; got != tc.want {
				t.Errorf("%s = %q, want %q", tc.field, got, tc.want)
			}
		})
	}
}

func TestLog_ResultTypes(t *testing.T) {
	t.Parallel()
	type results struct{ Final, Response, Detailed, Status string }
	tests := []struct {
		name   string
		result edge.Result
		status int
		err    error
		want   results
	}{
		{"hit", edge.ResultHit, 200, nil, results{"Hit", "Hit", "Hit", "200"}},
		{"refresh hit", edge.ResultRefreshHit, 304, nil, results{"RefreshHit", "RefreshHit", "RefreshHit", "304"}},
		{"miss", edge.ResultMiss, 201, nil, results{"Miss", "Miss", "Miss", "201"}},
		{"unset means miss", "", 200, nil, results{"Miss", "Miss", "Miss", "200"}},
		{"deny by the authorize function", edge.ResultFunctionGeneratedResponse, 403, nil,
			results{"FunctionGeneratedResponse", "FunctionGeneratedResponse", "FunctionGeneratedResponse", "403"}},
		{"no decision (fail closed)", edge.ResultError, 502, &edge.Error{Status: 502, Msg: "no decision"},
			results{"Error", "Error", "Error", "502"}},
		{"origin 404 on a miss", edge.ResultMiss, 404, nil, results{"Error", "Error", "Error", "404"}},
		{"cached 404", edge.ResultHit, 404, nil, results{"Error", "Error", "Error", "404"}},
		{"origin timeout", "", 504, &edge.Error{Status: 504}, results{"Error", "Error", "Error", "504"}},
		{"bad request from the edge", edge.ResultError, 400, &edge.Error{Status: 400}, results{"Error", "Error", "InvalidRequest", "400"}},
		{"method not allowed", edge.ResultError, 405, &edge.Error{Status: 405}, results{"Error", "Error", "InvalidRequestMethod", "405"}},
		{"rate limited", edge.ResultLimitExceeded, 429, nil, results{"LimitExceeded", "LimitExceeded", "LimitExceeded", "429"}},
		{"viewer gone before the response", edge.ResultHit, 0, nil, results{"Error", "Hit", "ClientCommError", "000"}},
		{"response cut off after the header", edge.ResultMiss, 200, errors.New("origin body: unexpected EOF"),
			results{"Error", "Miss", "ClientCommError", "200"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			recs := parseW3C(t, logOutput(t, LogConfig{}, func() (*edge.Request, *edge.Record) {
				r, rec := testRequest()
				r.Result, rec.Status, rec.Err = tc.result, tc.status, tc.err
				return r, rec
			}))
			got := results{recs[0]["x-edge-result-type"], recs[0]["x-edge-response-result-type"],
				recs[0]["x-edge-detailed-result-type"], recs[0]["sc-status"]}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Log(result %q, status %d) mismatch (-want +got):\n%s", tc.result, tc.status, diff)
			}
		})
	}
}

func TestLog_TimeToFirstByteEmptyWhenNothingWasWritten(t *testing.T) {
	t.Parallel()
	recs := parseW3C(t, logOutput(t, LogConfig{}, func() (*edge.Request, *edge.Record) {
		r, rec := testRequest()
		rec.Status, rec.BytesOut = 0, 0
		return r, rec
	}))
	if got := recs[0]["time-to-first-byte"]; got != "-" {
		t.Errorf("time-to-first-byte = %q, want -", got)
	}
}

func TestLog_CookiesOnlyWhenIncluded(t *testing.T) {
	t.Parallel()
	withCookies := func() (*edge.Request, *edge.Record) {
		r, rec := testRequest()
		r.HTTP.Header["Cookie"] = []string{"session=abc; theme=dark", "lang=fr"}
		return r, rec
	}
	tests := []struct {
		name    string
		include bool
		want    string
	}{
		{"off by default", false, "-"},
		{"included, HTTP/2 split lines joined", true, "session=abc;%20theme=dark;%20lang=fr"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			recs := parseW3C(t, logOutput(t, LogConfig{IncludeCookies: tc.include}, withCookies))
			if got := recs[0]["cs(Cookie)"]; got != tc.want {
				t.Errorf("cs(Cookie) = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestLog_NeverLogsAuthorization(t *testing.T) {
	t.Parallel()
	out := logOutput(t, LogConfig{IncludeCookies: true}, func() (*edge.Request, *edge.Record) {
		r, rec := testRequest()
		r.HTTP.Header.Set("Authorization", "Bearer eyJsecret")
		return r, rec
	})
	if strings.Contains(out, "eyJsecret") {
		t.Errorf("log contains the Authorization credential:\n%s", out)
	}
}

func TestLog_RedactsNamedQueryParameters(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		redact []string
		query  string
		want   string
	}{
		{"default redacts access_token", nil, "a=1&access_token=eyJx&b=2", "a=1&access_token=REDACTED&b=2"},
		{"encoded name is still redacted", nil, "access%5Ftoken=eyJx", "access%255Ftoken=REDACTED"},
		{"empty list logs the query as received", []string{}, "access_token=eyJx", "access_token=eyJx"},
		{"several names", []string{"code", "state"}, "code=c&state=s&x=y", "code=REDACTED&state=REDACTED&x=y"},
		{"name without value is kept", nil, "access_token&x", "access_token&x"},
		{"prefix of a name is not a match", nil, "access_tokens=1", "access_tokens=1"},
		{"empty parameters kept", nil, "&&access_token=1&", "&&access_token=REDACTED&"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			recs := parseW3C(t, logOutput(t, LogConfig{RedactQuery: tc.redact}, func() (*edge.Request, *edge.Record) {
				r, rec := testRequest()
				r.HTTP = httptest.NewRequest(http.MethodGet, "/p?"+tc.query, nil)
				return r, rec
			}))
			if got := recs[0]["cs-uri-query"]; got != tc.want {
				t.Errorf("cs-uri-query for %q = %q, want %q", tc.query, got, tc.want)
			}
		})
	}
}

func TestLog_ViewerBehindTrustedProxy(t *testing.T) {
	t.Parallel()
	recs := parseW3C(t, logOutput(t, LogConfig{}, func() (*edge.Request, *edge.Record) {
		r, rec := testRequest()
		r.Peer = netip.MustParseAddrPort("10.0.0.5:40000")
		r.Client = netip.MustParseAddrPort("198.51.100.7:0")
		r.ForwardedFor = "203.0.113.1, 198.51.100.7"
		return r, rec
	}))
	got := [3]string{recs[0]["c-ip"], recs[0]["c-port"], recs[0]["x-forwarded-for"]}
	want := [3]string{"10.0.0.5", "40000", "198.51.100.7"}
	if got != want {
		t.Errorf("c-ip, c-port, x-forwarded-for = %q, want %q", got, want)
	}
}

func TestLog_HTTPSFields(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name           string
		version, suite uint16
		proto          int
		want           [4]string
	}{
		{"TLS 1.3 over HTTP/2", tls.VersionTLS13, tls.TLS_AES_128_GCM_SHA256, 2,
			[4]string{"https", "TLSv1.3", "TLS_AES_128_GCM_SHA256", "HTTP/2.0"}},
		{"TLS 1.2 OpenSSL cipher name", tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, 1,
			[4]string{"https", "TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256", "HTTP/1.1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			recs := parseW3C(t, logOutput(t, LogConfig{}, func() (*edge.Request, *edge.Record) {
				r, rec := testRequest()
				r.Scheme = ""
				r.HTTP.TLS = &tls.ConnectionState{Version: tc.version, CipherSuite: tc.suite}
				if tc.proto == 2 {
					r.HTTP.Proto, r.HTTP.ProtoMajor, r.HTTP.ProtoMinor = "HTTP/2.0", 2, 0
				}
				return r, rec
			}))
			got := [4]string{recs[0]["cs-protocol"], recs[0]["ssl-protocol"], recs[0]["ssl-cipher"], recs[0]["cs-protocol-version"]}
			if got != tc.want {
				t.Errorf("cs-protocol, ssl-protocol, ssl-cipher, cs-protocol-version = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestLog_JSONFormatRoundTrips(t *testing.T) {
	t.Parallel()
	out := logOutput(t, LogConfig{Format: FormatJSON, IncludeCookies: true}, func() (*edge.Request, *edge.Record) {
		r, rec := testRequest()
		r.HTTP.Header["User-Agent"] = []string{"Mozilla/5.0 (X11)\t\"quoted\" <b> é \xff"}
		r.HTTP.Header["Cookie"] = []string{"a=1"}
		r.Result = edge.ResultFunctionGeneratedResponse
		rec.Status = 403
		return r, rec
	})
	if strings.HasPrefix(out, "#") {
		t.Fatalf("json log starts with a W3C header:\n%s", out)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 1 {
		t.Fatalf("got %d lines, want 1:\n%s", len(lines), out)
	}

	// Keys: the 33 field names, in order.
	dec := json.NewDecoder(strings.NewReader(lines[0]))
	dec.UseNumber()
	var keys []string
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatalf("invalid JSON %s: %v", lines[0], err)
		}
		keys = append(keys, k.(string))
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("invalid JSON %s: %v", lines[0], err)
		}
	}
	if diff := cmp.Diff(FieldNames(), keys); diff != "" {
		t.Errorf("json keys mismatch (-want +got):\n%s", diff)
	}

	var got map[string]any
	dec = json.NewDecoder(strings.NewReader(lines[0]))
	dec.UseNumber()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("invalid JSON %s: %v", lines[0], err)
	}
	want := map[string]any{
		"date": "2019-12-04", "time": "21:02:31", "x-edge-location": "edgeward",
		"sc-bytes": json.Number("392"), "c-ip": "192.0.2.100", "cs-method": "GET", "cs(Host)": "api.example.com",
		"cs-uri-stem": "/orders/42", "sc-status": json.Number("403"), "cs(Referer)": nil,
		"cs(User-Agent)": "Mozilla/5.0 (X11)\t\"quoted\" <b> é \uFFFD", "cs-uri-query": "verbose=1", "cs(Cookie)": "a=1",
		"x-edge-result-type": "FunctionGeneratedResponse", "x-edge-request-id": "SOX4xwn4XV6Q4rgb7XiVGOHms_BGlTAC4KyHmureZmBNrjGdRLiNIQ==",
		"x-host-header": "api.example.com:8080", "cs-protocol": "http", "cs-bytes": json.Number("23"),
		"time-taken": json.Number("0.082"), "x-forwarded-for": nil, "ssl-protocol": nil, "ssl-cipher": nil,
		"x-edge-response-result-type": "FunctionGeneratedResponse", "cs-protocol-version": "HTTP/1.1", "fle-status": nil,
		"fle-encrypted-fields": nil, "c-port": json.Number("11040"), "time-to-first-byte": json.Number("0.001"),
		"x-edge-detailed-result-type": "FunctionGeneratedResponse", "sc-content-type": nil, "sc-content-len": nil,
		"sc-range-start": nil, "sc-range-end": nil,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("json record mismatch (-want +got):\n%s", diff)
	}
}

func TestLog_OffWritesNothing(t *testing.T) {
	t.Parallel()
	l, err := New(LogConfig{SinkConfig: SinkConfig{Path: PathOff}}, Options{})
	if err != nil {
		t.Fatalf("New(off) = %v", err)
	}
	l.Log(testRequest())
	if err := l.Close(); err != nil {
		t.Errorf("Close() = %v", err)
	}
	if d := l.Dropped(); d != 0 {
		t.Errorf("Dropped() = %d, want 0", d)
	}
}

func TestLog_IgnoresNilRequestOrRecord(t *testing.T) {
	t.Parallel()
	out := logOutput(t, LogConfig{},
		func() (*edge.Request, *edge.Record) { return nil, &edge.Record{} },
		func() (*edge.Request, *edge.Record) { return &edge.Request{}, nil },
		func() (*edge.Request, *edge.Record) { return &edge.Request{}, &edge.Record{} },
	)
	recs := parseW3C(t, out)
	if len(recs) != 1 {
		t.Fatalf("got %d records, want 1 (for the empty request):\n%s", len(recs), out)
	}
}

func TestNew_RejectsInvalidConfig(t *testing.T) {
	t.Parallel()
	_, err := New(LogConfig{Format: "apache"}, Options{Writer: io.Discard})
	if err == nil || !strings.Contains(err.Error(), "format: ") {
		t.Errorf("New(format apache) = %v, want a format: error", err)
	}
}

func TestFillResponse_ContentFieldsFromTheResponseHeader(t *testing.T) {
	t.Parallel()
	type fields struct {
		Type            string
		Len, From, Upto int64
	}
	tests := []struct {
		name   string
		header http.Header
		want   fields
	}{
		{"no header", nil, fields{"", -1, -1, -1}},
		{"type and length", http.Header{"Content-Type": {"application/json"}, "Content-Length": {"78"}},
			fields{"application/json", 78, -1, -1}},
		{"partial content", http.Header{"Content-Length": {"100"}, "Content-Range": {"bytes 0-99/1234"}},
			fields{"", 100, 0, 99}},
		{"unsatisfied range", http.Header{"Content-Range": {"bytes */1234"}}, fields{"", -1, -1, -1}},
		{"other unit", http.Header{"Content-Range": {"items 0-9/20"}}, fields{"", -1, -1, -1}},
		{"inverted range", http.Header{"Content-Range": {"bytes 9-1/20"}}, fields{"", -1, -1, -1}},
		{"bad length", http.Header{"Content-Length": {"-5"}}, fields{"", -1, -1, -1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var e entry
			fillResponse(&e, tc.header)
			got := fields{e.contentType, e.contentLen, e.rangeStart, e.rangeEnd}
			if got != tc.want {
				t.Errorf("fillResponse(%v) = %+v, want %+v", tc.header, got, tc.want)
			}
			line := string(e.appendW3C(nil))
			if n := strings.Count(line, "\t"); n != 32 {
				t.Errorf("line has %d tabs, want 32", n)
			}
		})
	}
}

func TestLog_FormatsALineWithoutAllocating(t *testing.T) {
	for _, format := range []string{FormatCloudFront, FormatJSON} {
		l := &Log{location: DefaultLocation, json: format == FormatJSON, redact: []string{"access_token"}}
		r, rec := testRequest()
		r.HTTP = httptest.NewRequest(http.MethodGet, "/orders?access_token=x&b=1", nil)
		r.HTTP.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64)")
		rec.Err = errors.New("cut off")
		buf := make([]byte, 0, 2048)
		if n := testing.AllocsPerRun(100, func() { buf = l.appendLine(buf[:0], r, rec) }); n != 0 {
			t.Errorf("%s: appendLine allocates %v times per line, want 0", format, n)
		}
	}
}
