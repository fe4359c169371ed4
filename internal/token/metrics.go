package token

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgeward/edgeward/internal/promreg"
)

// metrics are the token package's collectors on one Registerer. Verifiers
// of several issuers (and the Verifiers of a reloaded configuration) share
// them: a collector already registered is reused.
type metrics struct {
	verifications *prometheus.CounterVec
	cache         *prometheus.CounterVec
	refreshes     *prometheus.CounterVec
	failures      *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	if reg == nil {
		return nil
	}
	return &metrics{
		verifications: promreg.Reuse(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edgeward_token_verifications_total",
			Help: "Token verifications that were not answered from the cache, by issuer and result (valid or the reason the token was refused).",
		}, []string{"issuer", "result"})),
		cache: promreg.Reuse(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edgeward_token_cache_requests_total",
			Help: "Verified-token cache lookups by issuer and result (hit or miss); a hit on a remembered invalid token counts as a hit.",
		}, []string{"issuer", "result"})),
		refreshes: promreg.Reuse(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edgeward_token_jwks_fetches_total",
			Help: "HTTP fetches of an issuer's JWKS or OpenID configuration (background, start and unknown-kid refreshes).",
		}, []string{"issuer"})),
		failures: promreg.Reuse(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edgeward_token_jwks_fetch_failures_total",
			Help: "Failed JWKS or OpenID configuration fetches by issuer.",
		}, []string{"issuer"})),
	}
}

// issuerMetrics are one issuer's resolved children, so that the hot path
// never looks labels up. A nil *issuerMetrics counts nothing.
type issuerMetrics struct {
	valid     prometheus.Counter
	invalid   map[string]prometheus.Counter // by reason
	hit, miss prometheus.Counter
	refreshes prometheus.Counter
	failures  prometheus.Counter
}

func (m *metrics) issuer(name string) *issuerMetrics {
	if m == nil {
		return nil
	}
	im := &issuerMetrics{
		valid:     m.verifications.WithLabelValues(name, "valid"),
		invalid:   make(map[string]prometheus.Counter, len(reasons)),
		hit:       m.cache.WithLabelValues(name, "hit"),
		miss:      m.cache.WithLabelValues(name, "miss"),
		refreshes: m.refreshes.WithLabelValues(name),
		failures:  m.failures.WithLabelValues(name),
	}
	for _, reason := range reasons {
		im.invalid[reason] = m.verifications.WithLabelValues(name, reason)
	}
	im.invalid[reasonOversized] = m.verifications.WithLabelValues(name, reasonOversized)
	return im
}

func (m *issuerMetrics) verified(e *Error) {
	if m == nil {
		return
	}
	if e == nil {
		m.valid.Inc()
		return
	}
	reason := reasons[e.Description]
	if errors.Is(e.Err, errTooLarge) {
		reason = reasonOversized
	}
	if c, ok := m.invalid[reason]; ok {
		c.Inc()
	}
}

func (m *issuerMetrics) cacheHit() {
	if m != nil {
		m.hit.Inc()
	}
}

func (m *issuerMetrics) cacheMiss() {
	if m != nil {
		m.miss.Inc()
	}
}

func (m *issuerMetrics) refreshed() {
	if m != nil {
		m.refreshes.Inc()
	}
}

func (m *issuerMetrics) refreshFailed() {
	if m != nil {
		m.failures.Inc()
	}
}
