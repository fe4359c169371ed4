package authorizer

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/edgeward/edgeward/internal/edge"
	"github.com/edgeward/edgeward/internal/sideband"
)

// buildRequest turns the viewer request (already canonical, owned headers
// stripped) into the request-phase body. It may buffer the request body;
// the buffered bytes still reach the origin.
func (a *Authorizer) buildRequest(r *edge.Request) (*sideband.Request, error) {
	h := r.HTTP
	if !validAuthority(hostOf(r)) {
		// The service would refuse the URL as malformed, which is no
		// decision (502); but the fault is the viewer's.
		return nil, &edge.Error{Status: http.StatusBadRequest, Msg: "the request names no valid host"}
	}
	sreq := &sideband.Request{
		Method:      h.Method,
		URL:         requestURL(r),
		HTTPVersion: httpVersion(h),
		Headers:     headerList(hostOf(r), h.Header, a.credHeader),
	}
	if r.Client.IsValid() {
		sreq.SourceIP = r.Client.Addr().Unmap().String()
		sreq.SourcePort = sideband.Port(r.Client.Port())
	}
	body, err := a.readBody(h)
	if err != nil {
		return nil, err
	}
	sreq.Body = body
	return sreq, nil
}

func hostOf(r *edge.Request) string {
	if r.Host != "" {
		return r.Host
	}
	return r.HTTP.Host
}

// validAuthority reports whether host (a Host header or the authority of
// an absolute-form target, already vetted by net/http) makes the authority
// of a URL the decision service accepts: a non-empty host name or bracketed
// IP literal, and an optional port from 1 to 65535. An empty port, as in
// "api.example:", is the default one.
func validAuthority(host string) bool {
	name, port := host, ""
	if strings.HasPrefix(host, "[") {
		end := strings.IndexByte(host, ']')
		if end < 0 {
			return false
		}
		name, port = host[1:end], host[end+1:]
		if port != "" && port[0] != ':' {
			return false
		}
	} else if i := strings.LastIndexByte(host, ':'); i >= 0 {
		name, port = host[:i], host[i:]
	}
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		switch c := name[i]; {
		case c <= ' ' || c == 0x7f, c == '/', c == '\\', c == '@', c == '?', c == '#', c == '[', c == ']':
			return false
		case c == ':' && host[0] != '[':
			return false
		}
	}
	if port == "" || port == ":" {
		return true
	}
	n := 0
	for _, c := range port[1:] {
		if c < '0' || c > '9' {
			return false
		}
		if n = n*10 + int(c-'0'); n > 65535 {
			return false
		}
	}
	return n >= 1
}

// requestURL is the absolute URL as the client addressed it: scheme, the
// host (with a port only when the client wrote one), the canonical escaped
// path and the query. Kong always writes the port (":443"); servers treat a
// default port as absent, so both spellings match the same API service.
func requestURL(r *edge.Request) string {
	scheme := r.Scheme
	if scheme == "" {
		scheme = "http"
	}
	path := r.HTTP.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	q := r.HTTP.URL.RawQuery
	var b strings.Builder
	b.Grow(len(scheme) + 3 + len(hostOf(r)) + len(path) + 1 + len(q))
	b.WriteString(scheme)
	b.WriteString("://")
	b.WriteString(hostOf(r))
	b.WriteString(path)
	if q != "" {
		b.WriteByte('?')
		b.WriteString(q)
	}
	return b.String()
}

// httpVersion is "1.1", "2.0", ... as Kong writes ngx.req.http_version().
func httpVersion(h *http.Request) string {
	switch {
	case h.ProtoMajor == 1 && h.ProtoMinor == 1, h.ProtoMajor == 0:
		return "1.1"
	case h.ProtoMajor == 2:
		return "2.0"
	case h.ProtoMajor == 1 && h.ProtoMinor == 0:
		return "1.0"
	}
	return strconv.Itoa(h.ProtoMajor) + "." + strconv.Itoa(h.ProtoMinor)
}

// headerList is the sideband header array: host first (when not empty),
// then every header, one entry per value, lower-case names in sorted order
// (the order between names carries no meaning), values in order. skip is a
// canonical header name left out (the credential header).
func headerList(host string, h http.Header, skip string) sideband.Headers {
	n := 1
	names := make([]string, 0, len(h))
	for k, vs := range h {
		if k == skip || len(vs) == 0 {
			continue
		}
		names = append(names, k)
		n += len(vs)
	}
	slices.Sort(names)
	out := make(sideband.Headers, 0, n)
	if host != "" {
		out = append(out, sideband.Header{Name: "host", Value: host})
	}
	for _, k := range names {
		lk := lowerName(k)
		if lk == "host" {
			continue // Go keeps Host out of the map; a stray entry must not shadow it
		}
		for _, v := range h[k] {
			out = append(out, sideband.Header{Name: lk, Value: v})
		}
	}
	return out
}

// lowerName lower-cases a canonical header name, without allocating for
// the common ones.
func lowerName(k string) string {
	switch k {
	case "Accept":
		return "accept"
	case "Accept-Encoding":
		return "accept-encoding"
	case "Accept-Language":
		return "accept-language"
	case "Authorization":
		return "authorization"
	case "Cache-Control":
		return "cache-control"
	case "Connection":
		return "connection"
	case "Content-Length":
		return "content-length"
	case "Content-Type":
		return "content-type"
	case "Cookie":
		return "cookie"
	case "If-Match":
		return "if-match"
	case "If-Modified-Since":
		return "if-modified-since"
	case "If-None-Match":
		return "if-none-match"
	case "Origin":
		return "origin"
	case "Pragma":
		return "pragma"
	case "Range":
		return "range"
	case "Referer":
		return "referer"
	case "User-Agent":
		return "user-agent"
	case "X-Request-Id":
		return "x-request-id"
	case "X-Forwarded-For":
		return "x-forwarded-for"
	case "X-Forwarded-Proto":
		return "x-forwarded-proto"
	case "X-Forwarded-Host":
		return "x-forwarded-host"
	case "Sec-Fetch-Mode":
		return "sec-fetch-mode"
	case "Sec-Fetch-Site":
		return "sec-fetch-site"
	case "Sec-Fetch-Dest":
		return "sec-fetch-dest"
	case "Priority":
		return "priority"
	}
	return strings.ToLower(k)
}

// matchType reports whether the Content-Type ct is one whose bodies are
// sent: an exact media type or a "type/*" range, parameters ignored.
func (a *Authorizer) matchType(ct string) bool {
	if len(a.types) == 0 || ct == "" {
		return false
	}
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	ct = strings.TrimSpace(ct)
	for _, t := range a.types {
		if strings.EqualFold(ct, t) || t == "*/*" {
			return true
		}
		if prefix, ok := strings.CutSuffix(t, "/*"); ok && len(ct) > len(prefix) &&
			ct[len(prefix)] == '/' && strings.EqualFold(ct[:len(prefix)], prefix) {
			return true
		}
	}
	return false
}

// readBody returns the request body to send, when its type is configured
// and it fits in max_bytes and is text (the sideband body is a JSON
// string). Whatever it reads is put back in front of h.Body, so the origin
// receives the body untouched.
func (a *Authorizer) readBody(h *http.Request) (*string, error) {
	if h.Body == nil || h.Body == http.NoBody || h.ContentLength == 0 ||
		h.ContentLength > a.maxBody || !a.matchType(h.Header.Get("Content-Type")) {
		return nil, nil
	}
	buf, err := io.ReadAll(io.LimitReader(h.Body, a.maxBody+1))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, &edge.Error{Status: http.StatusRequestEntityTooLarge, Msg: "request body too large", Err: err}
		}
		return nil, &edge.Error{Status: http.StatusBadRequest, Msg: "request body could not be read", Err: err}
	}
	if int64(len(buf)) > a.maxBody {
		h.Body = &prefixedBody{Reader: io.MultiReader(bytes.NewReader(buf), h.Body), c: h.Body}
		return nil, nil
	}
	setBody(h, buf)
	if !utf8.Valid(buf) {
		return nil, nil // it would not survive the trip through a JSON string
	}
	s := string(buf)
	return &s, nil
}

// setBody makes buf the whole request body, with a known length.
func setBody(h *http.Request, buf []byte) {
	orig := h.Body
	h.Body = &prefixedBody{Reader: bytes.NewReader(buf), c: orig}
	h.ContentLength = int64(len(buf))
	h.TransferEncoding = nil
	if _, ok := h.Header["Content-Length"]; ok {
		h.Header["Content-Length"] = []string{strconv.Itoa(len(buf))}
	}
	h.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf)), nil }
	if len(buf) == 0 {
		h.Body = http.NoBody
		h.GetBody = func() (io.ReadCloser, error) { return http.NoBody, nil }
	}
}

// prefixedBody reads the buffered part of a body and then the rest, and
// closes the original.
type prefixedBody struct {
	io.Reader
	c io.Closer
}

func (b *prefixedBody) Close() error {
	if b.c == nil {
		return nil
	}
	return b.c.Close()
}
