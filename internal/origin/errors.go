package origin

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"

	"github.com/edgeward/edgeward/internal/edge"
)

// StatusClientClosed is the status of the error Forward returns when the
// viewer went away before the origin answered (nginx's 499, "client closed
// request"). It is for logs: there is nobody left to answer.
const StatusClientClosed = 499

// Viewer-facing messages.
const (
	msgUnreachable = "origin unreachable"
	msgBadResponse = "bad origin response"
	msgTimeout     = "origin timeout"
	msgClosed      = "client closed request"
)

// max1xx is how many informational answers are relayed before the final
// one, as net/http's Transport allows.
const max1xx = 5

var (
	errBadStatus  = errors.New("origin status code outside 100-599")
	errTooMany1xx = errors.New("too many 1xx informational responses from the origin")
)

// classify maps a failed origin round trip to its kind and the error the
// edge renders. viewer is the viewer request's context; timedOut reports
// that one of the origin's own timers cancelled the request.
func (o *Origin) classify(err error, viewer context.Context, timedOut bool) (kind, *edge.Error) {
	k, status, msg := classify(err, viewer, timedOut)
	cause := fmt.Errorf("origin %q: %w", o.id, err)
	if k == kindCanceled && !errors.Is(err, context.Canceled) {
		cause = fmt.Errorf("origin %q: %w: %w", o.id, context.Canceled, err)
	}
	return k, &edge.Error{Status: status, Msg: msg, Err: cause}
}

func classify(err error, viewer context.Context, timedOut bool) (k kind, status int, msg string) {
	switch {
	case timedOut:
		return kindTimeout, http.StatusGatewayTimeout, msgTimeout
	case errors.Is(viewer.Err(), context.Canceled):
		return kindCanceled, StatusClientClosed, msgClosed
	case isTimeout(err):
		return kindTimeout, http.StatusGatewayTimeout, msgTimeout
	case isTLS(err):
		return kindTLS, http.StatusBadGateway, msgUnreachable
	case isConnect(err):
		return kindConnect, http.StatusBadGateway, msgUnreachable
	}
	return kindResponse, http.StatusBadGateway, msgBadResponse
}

// isTimeout reports a connect, TLS handshake or response-header timeout, or
// a deadline on the request's context.
func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// isConnect reports a failure to establish the connection: DNS, refused,
// unreachable.
func isConnect(err error) bool {
	var dns *net.DNSError
	var op *net.OpError
	return errors.As(err, &dns) || errors.As(err, &op) && op.Op == "dial"
}

// isTLS reports a failed TLS handshake: a non-TLS answer, a certificate
// the origin's roots do not trust, or an alert from the origin.
func isTLS(err error) bool {
	var (
		rh   tls.RecordHeaderError
		cv   *tls.CertificateVerificationError
		ae   tls.AlertError
		ua   x509.UnknownAuthorityError
		he   x509.HostnameError
		ci   x509.CertificateInvalidError
		op   *net.OpError
		ech  *tls.ECHRejectionError
		tlsE = errors.As(err, &rh) || errors.As(err, &cv) || errors.As(err, &ae) ||
			errors.As(err, &ua) || errors.As(err, &he) || errors.As(err, &ci) || errors.As(err, &ech)
	)
	return tlsE || errors.As(err, &op) && op.Op == "remote error"
}
