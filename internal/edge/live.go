package edge

import (
	"crypto/tls"
	"errors"
	"fmt"

	"github.com/edgeward/edgeward/internal/transport"
)

// The listener's part of a reload. Reload applies a generation's limits
// and certificate to the transport as well as its request rules:
//
//   - max_body_bytes and max_uri_bytes: every request that starts from now
//     on (they are request rules of the generation);
//   - read_header_timeout, read_timeout, write_timeout, idle_timeout and
//     max_header_bytes: connections accepted from now on; an open
//     connection keeps the limits it was accepted under until it closes
//     (at the latest idle_timeout after its last request);
//   - max_connections: at once; with a lower bound, new connections wait
//     until enough open ones have closed;
//   - tls.cert_file and tls.key_file: read again on every reload (a renewed
//     certificate at the same path is picked up) and served to handshakes
//     from now on; open connections keep theirs. Switching between HTTP
//     and HTTPS needs a new listener: such a reload is refused.

// listenerCert loads the certificate a generation's config names, for a
// listener that serves TLS; nil for a plain one.
func (s *Server) listenerCert(cfg *Config) (*tls.Certificate, error) {
	if cfg.TLS.Enabled() != s.tr.TLS() {
		if s.tr.TLS() {
			return nil, errors.New("tls: the listener serves HTTPS; serving plain HTTP needs a restart")
		}
		return nil, errors.New("tls: the listener serves plain HTTP; serving HTTPS needs a restart")
	}
	if !cfg.TLS.Enabled() {
		return nil, nil
	}
	return loadCertificate(cfg.TLS)
}

// applyListener hands the transport what a new generation says about the
// listener.
func (s *Server) applyListener(sn *snapshot) {
	s.tr.SetLimits(sn.cfg.Limits.transport())
	if sn.cert != nil {
		_ = s.tr.SetCertificate(sn.cert) // cannot fail: listenerCert checked the mode
	}
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
