package config

import (
	"crypto/tls"
	"encoding/pem"
	"os"

	"github.com/edgeward/edgeward/internal/edge"
)

// checkTLS loads a listener's certificate and key exactly as the listener
// will (tls.LoadX509KeyPair), so that `edgeward validate` fails on a file
// that `serve` would fail on, with the key and line of the culprit.
func checkTLS(s *Source, base string, t *edge.TLSConfig) {
	if t == nil || t.CertFile == "" || t.KeyFile == "" {
		return // a missing half is reported by the package's Validate
	}
	certOK := checkPEM(s, base+".cert_file", t.CertFile, "CERTIFICATE")
	keyOK := checkPEM(s, base+".key_file", t.KeyFile, "PRIVATE KEY")
	if !certOK || !keyOK {
		return
	}
	if _, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile); err != nil {
		s.Errorf(base+".cert_file", "%s and %s do not load as a certificate and its key: %v", t.CertFile, t.KeyFile, err)
	}
}

// checkPEM reports a file that cannot be read or holds no PEM block whose
// type ends with want ("CERTIFICATE", "PRIVATE KEY").
func checkPEM(s *Source, path, file, want string) bool {
	data, err := os.ReadFile(file)
	if err != nil {
		s.Errorf(path, "%v", err)
		return false
	}
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if len(b.Type) >= len(want) && b.Type[len(b.Type)-len(want):] == want {
			return true
		}
	}
	s.Errorf(path, "%s holds no PEM %s block", file, want)
	return false
}

// checkCA reports a CA bundle that cannot be read or holds no certificate.
func checkCA(s *Source, path, file string) {
	if file == "" {
		return
	}
	checkPEM(s, path, file, "CERTIFICATE")
}
