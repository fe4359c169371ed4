package sideband

// UseTransport sends every call of c through http.Transport, so that tests
// and benchmarks can compare the lean HTTP/1.1 hop with it.
func UseTransport(c *Client) {
	for _, e := range c.endpoints {
		e.h1 = nil
	}
}

// Lean reports whether the first endpoint of c is called on the lean hop.
func Lean(c *Client) bool { return c.endpoints[0].h1 != nil }
