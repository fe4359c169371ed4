package origin

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgeward/edgeward/internal/promreg"
)

// kind is why an origin request failed, the "kind" label of the error
// counter.
type kind int

const (
	kindConnect  kind = iota // refused, unreachable, DNS: 502 origin unreachable
	kindTLS                  // handshake or certificate failure: 502 origin unreachable
	kindTimeout              // connect, response-header or body read timeout: 504
	kindResponse             // malformed or truncated answer before the header: 502
	kindBody                 // the body broke off after the header was sent: aborted
	kindCanceled             // the viewer went away: not the origin's fault
	numKinds
)

var kindNames = [numKinds]string{"connect", "tls", "timeout", "response", "body", "canceled"}

// Clients, the "client" label of the request counter.
const (
	clientFast  = 0
	clientProxy = 1
)

// metrics are one origin's resolved metric children: label lookups happen
// once, in New, not per request.
type metrics struct {
	requests  [2]prometheus.Counter // by client: fast, proxy
	responses [6]prometheus.Counter // by status class, index status/100 (0 = out of range)
	errors    [numKinds]prometheus.Counter
	latency   prometheus.Observer
}

// newMetrics registers the origin collectors on reg (shared by every
// origin; a second origin, or a reload, reuses the registered ones) and
// resolves the children for origin id. A nil reg gives working but
// unregistered metrics.
func newMetrics(reg prometheus.Registerer, id string) (*metrics, error) {
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "edgeward", Subsystem: "origin", Name: "requests_total",
		Help: "Requests forwarded to the origin, by client: fast (the lean HTTP/1.1 path) or proxy (httputil.ReverseProxy).",
	}, []string{"origin", "client"})
	responses := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "edgeward", Subsystem: "origin", Name: "responses_total",
		Help: "Origin responses received, by status class (1xx..5xx).",
	}, []string{"origin", "class"})
	errs := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "edgeward", Subsystem: "origin", Name: "errors_total",
		Help: "Origin requests that failed, by kind: connect, tls, timeout, response (502/504 before a header), body (aborted after the header), canceled (the viewer went away).",
	}, []string{"origin", "kind"})
	latency := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "edgeward", Subsystem: "origin", Name: "response_seconds",
		Help:    "Time from sending the origin request to receiving its response header (origin first-byte latency).",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	}, []string{"origin"})
	if reg != nil {
		var err error
		if requests, err = promreg.Register(reg, requests); err != nil {
			return nil, err
		}
		if responses, err = promreg.Register(reg, responses); err != nil {
			return nil, err
		}
		if errs, err = promreg.Register(reg, errs); err != nil {
			return nil, err
		}
		if latency, err = promreg.Register(reg, latency); err != nil {
			return nil, err
		}
	}
	m := &metrics{
		requests: [2]prometheus.Counter{requests.WithLabelValues(id, "fast"), requests.WithLabelValues(id, "proxy")},
		latency:  latency.WithLabelValues(id),
	}
	for i := range m.responses {
		class := "other"
		if i > 0 {
			class = string(rune('0'+i)) + "xx"
		}
		m.responses[i] = responses.WithLabelValues(id, class)
	}
	for k := range numKinds {
		m.errors[k] = errs.WithLabelValues(id, kindNames[k])
	}
	return m, nil
}

// response counts a response with status code.
func (m *metrics) response(code int) {
	i := code / 100
	if i < 1 || i >= len(m.responses) {
		i = 0
	}
	m.responses[i].Inc()
}
