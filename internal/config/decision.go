package config

import "net"

// DefaultDecisionListen is the standalone decision service's default address.
const DefaultDecisionListen = "127.0.0.1:8081"

// LoadDecision reads, decodes, defaults and validates the file of
// `edgeward decision serve`.
func LoadDecision(path string, lookup LookupEnv) (*Decision, error) {
	name, data, err := readFile(path)
	if err != nil {
		return nil, err
	}
	return ParseDecision(name, data, lookup)
}

// ParseDecision is LoadDecision for a document already in memory.
func ParseDecision(name string, data []byte, lookup LookupEnv) (*Decision, error) {
	var f Decision
	s := decode(name, data, &f, lookup)
	if err := s.Err(); err != nil {
		return nil, err
	}
	if f.Listen == "" {
		f.Listen = DefaultDecisionListen
	}
	if f.Admin == "" {
		f.Admin = "off"
	}
	f.Decision.Defaults()
	f.Logging.defaults()

	if _, _, err := net.SplitHostPort(f.Listen); err != nil {
		s.Errorf("listen", "want host:port, got %q", f.Listen)
	}
	if f.Admin != "off" {
		if _, _, err := net.SplitHostPort(f.Admin); err != nil {
			s.Errorf("admin", "want host:port or off, got %q", f.Admin)
		}
	}
	checkTLS(s, "tls", f.TLS)
	if !s.Has("decision") {
		s.Errorf("decision", "required: the decision service's model (api_services, token_issuers, gateway_credentials)")
	}
	s.Check("decision", f.Decision.Validate())
	if len(f.Decision.GatewayCredentials) == 0 {
		s.Errorf("decision.gateway_credentials", "at least one gateway credential is required for a standalone decision service")
	}
	f.Logging.validate(s, "logging")
	if err := s.Err(); err != nil {
		return nil, err
	}
	return &f, nil
}
