package transport

import "net/http"

// http2Config is the HTTP/2 server's configuration.
func http2Config() *http.HTTP2Config { return nil }
