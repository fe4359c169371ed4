package edge

import (
	"crypto/tls"
	"errors"
	"fmt"

	"github.com/edgeward/edgeward/internal/transport"
)

// SetLimits replaces the viewer limits without a restart, for a
// configuration reload (unset limits get their defaults). What applies
// when:
//
//   - max_body_bytes and max_uri_bytes: every request that starts from now
//     on, on every connection;
//   - read_header_timeout, read_timeout, write_timeout, idle_timeout and
//     max_header_bytes: connections accepted from now on; an open
//     connection keeps the limits it was accepted under until it closes
//     (at the latest after idle_timeout between requests);
//   - max_connections: at once; with a lower bound, new connections wait
//     until enough open ones have closed.
//
// On error (a limit out of range, named by its key) nothing changes.
func (s *Server) SetLimits(l Limits) error {
	l.Defaults()
	var errs []error
	l.validate(func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	})
	if err := errors.Join(errs...); err != nil {
		return err
	}
	s.limits.Store(&l)
	s.tr.SetLimits(l.transport())
	return nil
}

// SetTLS loads the certificate and key of t and serves them to TLS
// handshakes from now on; open connections keep the certificate they
// were established with. Turning TLS on or off needs a new listener, and
// is an error here; so is a pair that does not load (the current one
// stays).
func (s *Server) SetTLS(t TLSConfig) error {
	if t.Enabled() != s.tr.TLS() {
		return errors.New("tls: switching between HTTP and HTTPS needs a restart")
	}
	if !t.Enabled() {
		return nil
	}
	cert, err := loadCertificate(t)
	if err != nil {
		return err
	}
	return s.tr.SetCertificate(cert)
}

func loadCertificate(t TLSConfig) (*tls.Certificate, error) {
	cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("tls: %w", err)
	}
	return &cert, nil
}

// transport returns the limits the transport enforces.
func (l Limits) transport() transport.Limits {
	return transport.Limits{
		ReadHeaderTimeout: l.ReadHeaderTimeout,
		ReadTimeout:       l.ReadTimeout,
		WriteTimeout:      l.WriteTimeout,
		IdleTimeout:       l.IdleTimeout,
		MaxHeaderBytes:    int(l.MaxHeaderBytes),
		MaxConnections:    l.MaxConnections,
	}
}
