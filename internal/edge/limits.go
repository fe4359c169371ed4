package edge

import (
	"net/http"
	"strings"
)

// limitBody answers a declared body over the limit with 413, and bounds an
// undeclared (chunked) one while it is read.
func (s *Server) limitBody(x *exchange, w http.ResponseWriter, hr *http.Request) error {
	limit := int64(x.snap.cfg.Limits.MaxBodyBytes)
	if hr.ContentLength > limit {
		x.closeConn = true
		return &Error{Status: http.StatusRequestEntityTooLarge, Msg: "request body too large"}
	}
	if hr.Body == nil || hr.Body == http.NoBody {
		return nil
	}
	// MaxBytesReader gets net/http's own writer so that it can close the
	// connection once the limit is hit.
	x.body = &bodyCounter{rc: http.MaxBytesReader(w, hr.Body, limit)}
	x.out.Body = x.body
	return nil
}

// targetPath returns the escaped path of a request target in origin-form
// or absolute-form; asterisk-form and authority-form are refused.
func targetPath(uri string) (path string, absolute bool, err error) {
	switch {
	case uri == "*":
		return "", false, &Error{Status: http.StatusBadRequest, Msg: "asterisk-form request target is not served"}
	case strings.HasPrefix(uri, "/"):
		path = uri
	default:
		i := strings.Index(uri, "://")
		scheme := ""
		if i > 0 {
			scheme = uri[:i]
		}
		if !strings.EqualFold(scheme, "http") && !strings.EqualFold(scheme, "https") {
			return "", false, &Error{Status: http.StatusBadRequest, Msg: "request target must be origin-form or absolute-form"}
		}
		rest := uri[i+3:]
		j := strings.IndexAny(rest, "/?")
		if j < 0 || rest[j] == '?' {
			return "/", true, nil
		}
		path, absolute = rest[j:], true
	}
	if q := strings.IndexByte(path, '?'); q >= 0 {
		path = path[:q]
	}
	return path, absolute, nil
}
