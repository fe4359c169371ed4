package authorizer

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/edgeward/edgeward/internal/sideband"
)

// Bounds of the remote service settings.
const (
	MaxServiceURLs        = 16
	MaxIdlePerServiceMax  = 4096
	MaxHealthProbeEvery   = 10 * time.Minute
	MaxUnhealthyAfterMax  = 100
	DefaultPoolProtocol   = sideband.ProtocolAuto
	DefaultMaxIdlePerHost = sideband.DefaultMaxIdleConns
)

// URLs is service_url: one URL (the integration kit's SERVICE_URL) or a
// list of them.
type URLs []string

// UnmarshalYAML accepts a string or a list of strings.
func (u *URLs) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		var s string
		if err := n.Decode(&s); err != nil {
			return err
		}
		*u = URLs{s}
		return nil
	case yaml.SequenceNode:
		var l []string
		if err := n.Decode(&l); err != nil {
			return err
		}
		*u = l
		return nil
	}
	return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: want a URL or a list of URLs", n.Line)}}
}

// String returns the URLs separated by commas.
func (u URLs) String() string { return strings.Join(u, ",") }

func (u URLs) remote() bool {
	return !(len(u) == 0 || len(u) == 1 && (u[0] == "" || u[0] == Embedded))
}

// validateURLs checks each remote service URL.
func (c *Config) validateURLs(add func(path, format string, args ...any)) {
	if len(c.ServiceURL) > MaxServiceURLs {
		add("service_url", "at most %d services, got %d", MaxServiceURLs, len(c.ServiceURL))
	}
	seen := map[string]bool{}
	for i, s := range c.ServiceURL {
		key := "service_url"
		if len(c.ServiceURL) > 1 {
			key = fmt.Sprintf("service_url[%d]", i)
		}
		u, err := url.Parse(s)
		switch {
		case s == Embedded || s == "":
			add(key, "%q cannot be one of several services", Embedded)
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			add(key, "want an http or https URL, or %q", Embedded)
		case u.User != nil:
			add(key, "must not carry credentials (use secret_header_value)")
		case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
			add(key, "must not have a query or fragment")
		case c.CAFile != "" && u.Scheme != "https":
			add("ca_file", "only used with an https service_url")
		case seen[strings.TrimRight(s, "/")]:
			add(key, "%q is listed twice", s)
		}
		seen[strings.TrimRight(s, "/")] = true
	}
}

// Pool tunes the connections to the decision services.
type Pool struct {
	// MaxIdlePerService is the keep-alive pool of each service: at least
	// the decisions in flight at peak (default 256).
	MaxIdlePerService int `yaml:"max_idle_per_service"`
	// Protocol is auto (HTTP/2 over TLS where the service offers it,
	// HTTP/1.1 otherwise), h2c (HTTP/2 without TLS, for a service that
	// speaks it) or http1.
	Protocol string `yaml:"protocol"`
}

func (p *Pool) defaults() {
	if p.MaxIdlePerService == 0 {
		p.MaxIdlePerService = DefaultMaxIdlePerHost
	}
	if p.Protocol == "" {
		p.Protocol = DefaultPoolProtocol
	}
}

func (p *Pool) validate(add func(path, format string, args ...any)) {
	if p.MaxIdlePerService < 1 || p.MaxIdlePerService > MaxIdlePerServiceMax {
		add("pool.max_idle_per_service", "want 1 to %d", MaxIdlePerServiceMax)
	}
	switch p.Protocol {
	case sideband.ProtocolAuto, sideband.ProtocolH2C, sideband.ProtocolHTTP1:
	default:
		add("pool.protocol", "want auto, h2c or http1, got %q", p.Protocol)
	}
}

// HealthCheck configures how several services are kept in rotation: a
// service leaves it after unhealthy_after consecutive calls without an
// answer (transport error or 5xx), and comes back when a probe (a GET of
// its sideband request URL, without the credential, answered below 500)
// succeeds; probes run every interval while it is out.
type HealthCheck struct {
	UnhealthyAfter int           `yaml:"unhealthy_after"`
	Interval       time.Duration `yaml:"interval"`
}

func (h *HealthCheck) defaults() {
	if h.UnhealthyAfter == 0 {
		h.UnhealthyAfter = sideband.DefaultUnhealthyAfter
	}
	if h.Interval == 0 {
		h.Interval = sideband.DefaultProbeInterval
	}
}

func (h *HealthCheck) validate(add func(path, format string, args ...any)) {
	if h.UnhealthyAfter < 1 || h.UnhealthyAfter > MaxUnhealthyAfterMax {
		add("health_check.unhealthy_after", "want 1 to %d", MaxUnhealthyAfterMax)
	}
	if h.Interval <= 0 || h.Interval > MaxHealthProbeEvery {
		add("health_check.interval", "want more than 0s and at most %s", MaxHealthProbeEvery)
	}
}
