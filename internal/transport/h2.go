package transport

import "net/http"

// http2Config is the HTTP/2 server's configuration. MaxReadFrameSize is
// the RFC 9113 default (16KiB) rather than net/http's 1MiB: a peer that
// sends a larger frame anyway gets a FRAME_SIZE_ERROR, as section 4.2
// requires (h2spec http2/4.2/3); clients send no larger frames unless the
// server offers them, so nothing that conforms is refused.
func http2Config() *http.HTTP2Config {
	return &http.HTTP2Config{MaxReadFrameSize: 16 << 10}
}
