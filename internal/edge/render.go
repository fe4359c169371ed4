package edge

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/edgeward/edgeward/internal/hop"
	"github.com/edgeward/edgeward/internal/jsonstring"
)

// httpError maps any error a stage returned to the *Error the viewer sees.
// A body over the limit is 413 whichever stage noticed it; an error that is
// not an *Error is an edge bug: 500, the cause kept for the log only.
func httpError(err error) *Error {
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		return &Error{Status: http.StatusRequestEntityTooLarge, Msg: "request body too large", Err: err}
	}
	var e *Error
	if errors.As(err, &e) && e.Status >= 400 && e.Status <= 599 {
		return e
	}
	var pe *PathError
	if errors.As(err, &pe) {
		return &Error{Status: http.StatusBadRequest, Msg: "bad request path: " + pe.Reason, Err: err}
	}
	return &Error{Status: http.StatusInternalServerError, Msg: "internal error", Err: err}
}

// renderError writes err to the viewer in the edge's one error format:
// {"error": msg, "request_id": id}, not cacheable, plus the error's own
// headers (Allow, Retry-After ...). Nothing is written when the response
// has already started; the record keeps the cause either way.
func (s *Server) renderError(x *exchange, err error) {
	e := httpError(err)
	if x.rec.Err == nil {
		x.rec.Err = err
	}
	if x.req.Result != ResultLimitExceeded {
		x.req.Result = ResultError
	}
	w := &x.vw
	if w.wroteHeader || w.hijacked {
		return
	}
	h := w.Header()
	for k := range h {
		delete(h, k)
	}
	for k, vv := range e.Header {
		h[http.CanonicalHeaderKey(k)] = vv
	}
	if x.vw.xcache != nil {
		x.vw.xcache = xCacheError
	}
	msg := e.Msg
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	body := appendErrorBody(make([]byte, 0, 48+len(msg)+len(x.req.ID)), msg, x.req.ID)
	h["Content-Type"] = []string{"application/json"}
	h["Cache-Control"] = []string{"no-store"}
	h["X-Content-Type-Options"] = []string{"nosniff"}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	if x.closeConn {
		h["Connection"] = []string{"close"}
	}
	w.WriteHeader(e.Status)
	_, _ = w.Write(body)
}

// appendErrorBody appends {"error":msg,"request_id":id} to b.
func appendErrorBody(b []byte, msg, id string) []byte {
	b = append(b, `{"error":`...)
	b = jsonstring.Append(b, msg)
	b = append(b, `,"request_id":`...)
	b = jsonstring.Append(b, id)
	return append(b, "}\n"...)
}

// writeResponse sends a complete Response (a function's answer) verbatim,
// minus hop-by-hop headers, the headers its Connection nominates, framing
// headers (recomputed here) and X-Request-Id (the edge's own).
func (s *Server) writeResponse(x *exchange, resp *Response) error {
	status := resp.Status
	if status == 0 {
		status = http.StatusOK
	}
	if status < 200 || status > 599 {
		return &Error{Status: http.StatusInternalServerError, Msg: "internal error",
			Err: fmt.Errorf("function answered with status %d", status)}
	}
	w := &x.vw
	h := w.Header()
	for k := range h {
		delete(h, k)
	}
	var nominated []string
	for k, vv := range resp.Header {
		if strings.EqualFold(k, "Connection") {
			for tok := range hop.Nominated(vv) {
				nominated = append(nominated, http.CanonicalHeaderKey(tok))
			}
		}
	}
	for k, vv := range resp.Header {
		ck := http.CanonicalHeaderKey(k)
		if hop.Header(ck) || slices.Contains(nominated, ck) {
			continue
		}
		switch ck {
		case "Content-Length", "X-Request-Id":
			continue
		}
		h[ck] = append(h[ck], vv...)
	}
	noBody := status == http.StatusNoContent || status == http.StatusNotModified
	if !noBody {
		h["Content-Length"] = []string{strconv.Itoa(len(resp.Body))}
	}
	w.WriteHeader(status)
	if !noBody && len(resp.Body) > 0 {
		_, _ = w.Write(resp.Body)
	}
	return nil
}
