package decisionapi

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/edgeward/edgeward/internal/decision"
	"github.com/edgeward/edgeward/internal/requestid"
	"github.com/edgeward/edgeward/internal/sideband"
)

// Handler serves the sideband API over HTTP: POST .../sideband/request and
// POST .../sideband/response (under any prefix, as a service_url may carry
// a path). Every answer has a Correlation-Id header. Calls without a valid
// gateway credential get 401, malformed ones 400 naming the field,
// oversized ones 413; a decision is always a 200.
type Handler struct {
	s *Service
}

// Handler returns the Service's HTTP door.
func (s *Service) Handler() *Handler { return &Handler{s: s} }

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	cid := correlationID(r.Header.Get("Correlation-Id"))
	w.Header().Set("Correlation-Id", cid)
	var phase string
	switch {
	case strings.HasSuffix(r.URL.Path, sideband.RequestPath):
		phase = sideband.RequestPath
	case strings.HasSuffix(r.URL.Path, sideband.ResponsePath):
		phase = sideband.ResponsePath
	default:
		h.fail(w, cid, http.StatusNotFound, codeNotFound, "Not found: the sideband API is POST /sideband/request and POST /sideband/response")
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.fail(w, cid, http.StatusMethodNotAllowed, codeMethod, "Use POST")
		return
	}
	sn := h.s.snap.Load()
	gateway := -1
	if vs := r.Header.Values(sn.header); len(vs) == 1 {
		gateway = sn.credential(vs[0])
	}
	if gateway < 0 {
		h.fail(w, cid, http.StatusUnauthorized, codeUnauthorized, "The Gateway Token is invalid")
		return
	}
	if phase == sideband.ResponsePath {
		h.response(w, r, sn, cid)
		return
	}
	req, ok := h.readRequest(w, r, sn, cid)
	if !ok {
		return
	}
	d := h.s.pool.Get().(*decision.Decision)
	defer h.s.pool.Put(d)
	rep, serr := h.s.decide(traceContextOf(r), sn, req, gateway, d, false)
	if serr != nil {
		h.fail(w, cid, serr.Status, serr.Body.Code, serr.Body.Message)
		return
	}
	h.write(w, http.StatusOK, rep)
}

func (h *Handler) response(w http.ResponseWriter, r *http.Request, sn *snapshot, cid string) {
	data, ok := h.readBody(w, r, sn, cid)
	if !ok {
		return
	}
	rr, err := sideband.ParseResponseRequest(data)
	if err != nil {
		h.fail(w, cid, http.StatusBadRequest, codeInvalid, err.Error())
		return
	}
	h.write(w, http.StatusOK, h.s.respond(sn, rr))
}

// readRequest reads and decodes a request-phase body. When ok is false
// the error answer has been written.
func (h *Handler) readRequest(w http.ResponseWriter, r *http.Request, sn *snapshot, cid string) (req *sideband.Request, ok bool) {
	data, ok := h.readBody(w, r, sn, cid)
	if !ok {
		return nil, false
	}
	req, err := sideband.ParseRequest(data)
	if err != nil {
		h.fail(w, cid, http.StatusBadRequest, codeInvalid, err.Error())
		return nil, false
	}
	return req, true
}

// readBody reads at most the body limit: more is a 413. When ok is false
// the error answer has been written.
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request, sn *snapshot, cid string) ([]byte, bool) {
	var data []byte
	err := sideband.ErrTooLarge
	switch {
	case r.ContentLength > sn.maxBody:
	case r.ContentLength > 0:
		// The usual case: one buffer of the declared length, read once
		// (net/http's body ends there, and reports a shorter one).
		data = make([]byte, r.ContentLength)
		_, err = io.ReadFull(r.Body, data)
	default:
		data, err = io.ReadAll(io.LimitReader(r.Body, sn.maxBody+1))
		if err == nil && int64(len(data)) > sn.maxBody {
			err = sideband.ErrTooLarge
		}
	}
	switch {
	case errors.Is(err, sideband.ErrTooLarge):
		h.fail(w, cid, http.StatusRequestEntityTooLarge, codeTooLarge, "body: over "+strconv.FormatInt(sn.maxBody, 10)+" bytes")
		return nil, false
	case err != nil:
		h.fail(w, cid, http.StatusBadRequest, codeInvalid, "body: could not be read")
		return nil, false
	}
	return data, true
}

// fail writes a sideband error body {"id", "code", "message"}; Kong reads
// id and message.
func (h *Handler) fail(w http.ResponseWriter, cid string, status int, code, msg string) {
	h.s.met.failed(status)
	h.write(w, status, sideband.Error{ID: cid, Code: code, Message: msg})
}

func (h *Handler) write(w http.ResponseWriter, status int, v any) {
	var b []byte
	var err error
	if rep, ok := v.(*sideband.Reply); ok {
		b, err = sideband.EncodeReply(rep) // one per decision: no reflection
	} else {
		b, err = json.Marshal(v)
	}
	if err != nil {
		h.s.logger.Error("sideband: encoding a reply failed", "err", err)
		status, b = http.StatusInternalServerError, []byte(`{"id":"","code":"INTERNAL_ERROR","message":"Internal error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// correlationID keeps a caller's Correlation-Id when it is a sensible one,
// and makes one otherwise.
func correlationID(v string) string {
	if requestid.Valid(v) {
		return v
	}
	return requestid.UUID()
}

var _ http.Handler = (*Handler)(nil)
