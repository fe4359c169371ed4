package origin

import dto "github.com/prometheus/client_model/go"

// DisableFastPath makes o send every request through httputil.ReverseProxy,
// so that tests can run the same table against both paths.
func DisableFastPath(o *Origin) { o.fastOff = true }

// ClientCounts returns how many requests o sent by the fast path and by
// the proxy.
func ClientCounts(o *Origin) (fast, proxy float64) {
	var m dto.Metric
	_ = o.m.requests[clientFast].Write(&m)
	fast = m.GetCounter().GetValue()
	_ = o.m.requests[clientProxy].Write(&m)
	return fast, m.GetCounter().GetValue()
}

// DisableKeepAlives gives every request of o a new connection, so that a
// test's requests cannot see each other through the pool.
func DisableKeepAlives(o *Origin) {
	o.transport.DisableKeepAlives = true
	if o.fast != nil {
		o.fast.pool.MaxIdle = 0
	}
}
