package edge

import (
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"time"
)

// errAborted is the cause recorded when a response was cut after it began.
var errAborted = errors.New("response aborted after it began")

// finish is the log stage. It runs last, even after a panic: it answers
// what can still be answered, writes the access-log record and the
// metrics, and returns the exchange to the pool.
func (s *Server) finish(x *exchange) {
	if p := recover(); p != nil {
		s.recovered(x, p)
	}
	end := time.Now()
	r := &x.req
	rec := &x.rec
	status := x.vw.status
	if status == 0 && !x.abort {
		status = http.StatusOK // net/http sends 200 for a handler that wrote nothing
	}
	total := end.Sub(r.Start)
	s.logFailure(x, status)
	if x.tspan != nil {
		s.traceEnd(x, status)
	}
	sn := x.snap
	if sn.access != nil {
		rec.Status = status
		rec.BytesIn = x.bytesIn
		if x.body != nil {
			rec.BytesIn += x.body.n.Load()
		}
		rec.BytesOut = x.vw.bytes + headerBytes(x.vw.rw.Header(), status)
		rec.TimeTaken = total
		rec.TimeToFirstB = x.vw.ttfb
		rec.Header = x.vw.rw.Header()
		sn.access.Log(r, rec)
	}
	rm := x.snap.early
	if x.route != nil {
		rm = x.route.m
	}
	rm.observe(status, r, total)
	s.m.inFlight.Dec()
	abort := x.abort
	s.putExchange(x)
	sn.release()
	if abort {
		panic(http.ErrAbortHandler)
	}
}

// recovered handles a panic out of the cache or origin stage (a function's
// panic is handled where it is called). http.ErrAbortHandler is the
// Origin contract's way to cut a response that has begun; when nothing
// reached the viewer yet (a buffered response) it becomes a 502. Any other
// panic is an edge bug: logged with its stack, 500 if still possible.
func (s *Server) recovered(x *exchange, p any) {
	started := x.vw.wroteHeader || x.vw.hijacked
	if p == http.ErrAbortHandler {
		switch {
		case started:
			x.abort = true
			if x.rec.Err == nil {
				x.rec.Err = errAborted
			}
		case x.bw != nil && x.bw.over:
			s.renderError(x, &Error{Status: http.StatusBadGateway, Msg: "response too large", Err: errResponseTooLarge})
		default:
			s.renderError(x, &Error{Status: http.StatusBadGateway, Msg: "origin response aborted", Err: errAborted})
		}
		return
	}
	s.m.panics.WithLabelValues("pipeline").Inc()
	err := fmt.Errorf("panic: %v", p)
	s.log.Error("pipeline panicked", "request_id", x.req.ID, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
	if started {
		x.abort = true
		x.rec.Err = err
		return
	}
	s.renderError(x, &Error{Status: http.StatusInternalServerError, Msg: "internal error", Err: err})
}

// headBytes estimates the size of the request line and headers as they
// came on the wire (the access log's cs-bytes counts them).
func headBytes(r *http.Request) int64 {
	n := len(r.Method) + 1 + len(r.RequestURI) + 1 + len(r.Proto) + 2
	n += len("Host: ") + len(r.Host) + 2
	for k, vv := range r.Header {
		for _, v := range vv {
			n += len(k) + 2 + len(v) + 2
		}
	}
	return int64(n + 2)
}

// headerBytes estimates the size of a response's status line and headers
// (sc-bytes counts them).
func headerBytes(h http.Header, status int) int64 {
	if status == 0 {
		return 0
	}
	n := len("HTTP/1.1 200 ") + len(http.StatusText(status)) + 2
	for k, vv := range h {
		for _, v := range vv {
			n += len(k) + 2 + len(v) + 2
		}
	}
	return int64(n + 2)
}
