package origin

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestEndpoints_HostHeaderOmitsDefaultPorts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url                 string
		httpPort, httpsPort int
		wantPlain, wantTLS  endpoint
	}{
		{"https://API.example.com/prod", 0, 0,
			endpoint{"http", "api.example.com:80", "api.example.com"}, endpoint{"https", "api.example.com:443", "api.example.com"}},
		{"https://api.example.com:8443", 0, 0,
			endpoint{"http", "api.example.com:80", "api.example.com"}, endpoint{"https", "api.example.com:8443", "api.example.com:8443"}},
		{"http://api.example.com:8080", 0, 0,
			endpoint{"http", "api.example.com:8080", "api.example.com:8080"}, endpoint{"https", "api.example.com:443", "api.example.com"}},
		{"http://api.example.com:8080", 81, 444,
			endpoint{"http", "api.example.com:81", "api.example.com:81"}, endpoint{"https", "api.example.com:444", "api.example.com:444"}},
		{"http://[::1]", 0, 0,
			endpoint{"http", "[::1]:80", "[::1]"}, endpoint{"https", "[::1]:443", "[::1]"}},
		{"http://[::1]:8080", 0, 0,
			endpoint{"http", "[::1]:8080", "[::1]:8080"}, endpoint{"https", "[::1]:443", "[::1]"}},
	}
	for _, tc := range tests {
		u, err := url.Parse(tc.url)
		if err != nil {
			t.Fatal(err)
		}
		c := Config{HTTPPort: tc.httpPort, HTTPSPort: tc.httpsPort}
		plain, secure := c.endpoints(u)
		if diff := cmp.Diff([]endpoint{tc.wantPlain, tc.wantTLS}, []endpoint{plain, secure}, cmp.AllowUnexported(endpoint{})); diff != "" {
			t.Errorf("endpoints(%q, %d, %d) (-want +got):\n%s", tc.url, tc.httpPort, tc.httpsPort, diff)
		}
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "net/http: timeout awaiting response headers" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestClassify_MapsCausesTo502And504(t *testing.T) {
	t.Parallel()
	live := context.Background()
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	tests := []struct {
		name     string
		err      error
		viewer   context.Context
		timedOut bool
		want     kind
		status   int
	}{
		{"refused", refused, live, false, kindConnect, 502},
		{"dns", fmt.Errorf("x: %w", &net.DNSError{Err: "no such host", Name: "nope"}), live, false, kindConnect, 502},
		{"dial timeout", &net.OpError{Op: "dial", Err: timeoutErr{}}, live, false, kindTimeout, 504},
		{"response header timeout", timeoutErr{}, live, false, kindTimeout, 504},
		{"context deadline", context.DeadlineExceeded, live, false, kindTimeout, 504},
		{"our timer", context.Canceled, live, true, kindTimeout, 504},
		{"viewer gone", context.Canceled, gone, false, kindCanceled, 499},
		{"plain http answer to TLS", tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}, live, false, kindTLS, 502},
		{"unknown CA", &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}, live, false, kindTLS, 502},
		{"remote alert", &net.OpError{Op: "remote error", Err: errors.New("tls: bad certificate")}, live, false, kindTLS, 502},
		{"connection reset", &net.OpError{Op: "read", Err: os.NewSyscallError("read", syscall.ECONNRESET)}, live, false, kindResponse, 502},
		{"EOF before answer", io.EOF, live, false, kindResponse, 502},
		{"malformed", errors.New(`malformed HTTP status code "2OO"`), live, false, kindResponse, 502},
	}
	for _, tc := range tests {
		k, status, _ := classify(tc.err, tc.viewer, tc.timedOut)
		if k != tc.want || status != tc.status {
			t.Errorf("classify(%v) = %s %d, want %s %d", tc.err, kindNames[k], status, kindNames[tc.want], tc.status)
		}
	}
}
