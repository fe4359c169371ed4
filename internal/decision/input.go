package decision

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/edgeward/edgeward/internal/pct"
	"github.com/edgeward/edgeward/internal/token"
)

// Input is what a decision is made from: the request as the gateway will
// forward it.
type Input struct {
	// Method is the request method, upper-case.
	Method string
	// Scheme is http or https (lower-case).
	Scheme string
	// Host is the host name or IP address, without port or brackets.
	Host string
	// Port is the port; 0 or the scheme's default port mean the default.
	Port int
	// Path is the escaped path as the client sent it, starting with "/".
	Path string
	// Query is the raw query, without "?".
	Query string
	// Headers are the request headers. Nil means none.
	Headers Headers
	// SourceIP is the client address.
	SourceIP string
	// Claims are an access token's claims that the gateway validated itself
	// (the sideband access_token object). When set, the engine uses them
	// instead of the Authorization header, and still checks the audience
	// and expiry.
	Claims *token.Claims
	// ClaimsInactive reports that the gateway marked those claims inactive:
	// the token is invalid.
	ClaimsInactive bool
	// Trace asks for the trace of every step (explain). It costs
	// allocations: leave it off on the request path.
	Trace bool
}

// Headers is read access to a request's headers: one name/value pair per
// value, names compared case-insensitively.
type Headers interface {
	Len() int
	At(i int) (name, value string)
}

// Header is one header value.
type Header struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// HeaderList is a Headers held in a slice.
type HeaderList []Header

// Len implements Headers.
func (h HeaderList) Len() int { return len(h) }

// At implements Headers.
func (h HeaderList) At(i int) (string, string) { return h[i].Name, h[i].Value }

// headerValue returns the first value of the header named name, and how
// many values it has.
func headerValue(h Headers, name string) (string, int) {
	if h == nil {
		return "", 0
	}
	var first string
	n := 0
	for i := range h.Len() {
		k, v := h.At(i)
		if strings.EqualFold(k, name) {
			if n == 0 {
				first = v
			}
			n++
		}
	}
	return first, n
}

// Errors of SetURL. Each names the field the URL came from.
var (
	errURLScheme    = errors.New("url: want an absolute http or https URL")
	errURLHost      = errors.New("url: missing or invalid host")
	errURLPort      = errors.New("url: invalid port")
	errURLUserinfo  = errors.New("url: user information is not allowed")
	errURLCharacter = errors.New("url: control characters or spaces are not allowed")
)

// SetURL splits an absolute URL (scheme://host[:port]/path[?query]) into
// in's Scheme, Host, Port, Path and Query without allocating for the common
// case. A bare "?" is no query (Kong 1.0 writes one); a fragment is
// ignored. Errors start with "url: ".
func (in *Input) SetURL(raw string) error {
	for i := 0; i < len(raw); i++ {
		if c := raw[i]; c <= ' ' || c == 0x7f {
			return errURLCharacter
		}
	}
	i := strings.Index(raw, "://")
	if i <= 0 {
		return errURLScheme
	}
	scheme := raw[:i]
	switch {
	case scheme == "http" || scheme == "https":
	case strings.EqualFold(scheme, "http"):
		scheme = "http"
	case strings.EqualFold(scheme, "https"):
		scheme = "https"
	default:
		return errURLScheme
	}
	rest := raw[i+3:]
	if j := strings.IndexByte(rest, '#'); j >= 0 {
		rest = rest[:j]
	}
	end := strings.IndexAny(rest, "/?")
	if end < 0 {
		end = len(rest)
	}
	authority := rest[:end]
	rest = rest[end:]
	if strings.IndexByte(authority, '@') >= 0 {
		return errURLUserinfo
	}
	host, port, err := splitHostPort(authority)
	if err != nil {
		return err
	}
	path, query := rest, ""
	if q := strings.IndexByte(rest, '?'); q >= 0 {
		path, query = rest[:q], rest[q+1:]
	}
	if path == "" {
		path = "/"
	}
	in.Scheme, in.Host, in.Port, in.Path, in.Query = scheme, host, port, path, query
	return nil
}

// splitHostPort splits an authority; an empty port is the default.
func splitHostPort(a string) (string, int, error) {
	host, port := a, ""
	if strings.HasPrefix(a, "[") {
		j := strings.IndexByte(a, ']')
		if j < 0 {
			return "", 0, errURLHost
		}
		host, port = a[1:j], a[j+1:]
		if port != "" && port[0] != ':' {
			return "", 0, errURLHost
		}
		if port != "" {
			port = port[1:]
		}
	} else if j := strings.LastIndexByte(a, ':'); j >= 0 {
		host, port = a[:j], a[j+1:]
	}
	if host == "" {
		return "", 0, errURLHost
	}
	for k := 0; k < len(host); k++ {
		if c := host[k]; c == '/' || c == '\\' || c == '[' || c == ']' || (c == ':' && !strings.HasPrefix(a, "[")) {
			return "", 0, errURLHost
		}
	}
	if port == "" {
		return host, 0, nil
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 || port[0] == '+' {
		return "", 0, errURLPort
	}
	return host, n, nil
}

// canonicalPath percent-decodes p and checks that it is canonical: an
// absolute path, valid UTF-8 without control characters, no dot segments
// (also with ;parameters), no empty segments except a trailing slash, and
// no encoded "/" or "\" (whose meaning origins disagree on). It allocates
// only when p holds percent-escapes. The reason is safe to show.
func canonicalPath(p string) (string, string) {
	if p == "" || p[0] != '/' {
		return "", "the path must start with /"
	}
	dec := p
	if strings.IndexByte(p, '%') >= 0 {
		b := make([]byte, 0, len(p))
		for i := 0; i < len(p); i++ {
			c := p[i]
			if c == '%' {
				d, ok := pct.At(p, i)
				if !ok {
					return "", "invalid percent-encoding in the path"
				}
				c = d
				if c == '/' || c == '\\' {
					return "", "encoded / or \\ in the path"
				}
				i += 2
			}
			b = append(b, c)
		}
		dec = string(b)
	}
	for i := 0; i < len(dec); i++ {
		if c := dec[i]; c < 0x20 || c == 0x7f || c == '\\' {
			return "", "control character or \\ in the path"
		}
	}
	if !utf8.ValidString(dec) {
		return "", "the path is not valid UTF-8"
	}
	s := dec[1:]
	for {
		i := strings.IndexByte(s, '/')
		seg := s
		if i >= 0 {
			seg = s[:i]
		}
		if i >= 0 && seg == "" {
			return "", "empty segment (//) in the path"
		}
		if isDotSegment(seg) {
			return "", "dot segment in the path"
		}
		if i < 0 {
			return dec, ""
		}
		s = s[i+1:]
	}
}

// isDotSegment reports whether seg is "." or "..", also with ;parameters
// (which some origins strip).
func isDotSegment(seg string) bool {
	if i := strings.IndexByte(seg, ';'); i >= 0 {
		seg = seg[:i]
	}
	return seg == "." || seg == ".."
}
