package authorizer

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/edgeward/edgeward/internal/edge"
	"github.com/edgeward/edgeward/internal/sideband"
)

// ViewerResponse is the sideband response phase (response_phase: true): it
// sends the origin's response to /sideband/response, with the request
// phase's state byte for byte (or the whole request-phase body when there
// was no state), and returns what the service answers. With
// response_phase off, or for a request that was forwarded without a
// decision, resp goes out unchanged. No decision gives 502 (or resp
// unchanged, with a warning, when on_error is allow).
func (a *Authorizer) ViewerResponse(ctx context.Context, r *edge.Request, resp *edge.Response) (out *edge.Response, err error) {
	if !a.cfg.ResponsePhase || resp == nil {
		return resp, nil
	}
	defer a.recoverPanic(phaseResponse, &out, &err)
	ex, _ := r.State.(*exchange)
	if ex == nil || ex.failedOpen {
		return resp, nil
	}
	rr := &sideband.ResponseRequest{
		Method:         r.HTTP.Method,
		URL:            requestURL(r),
		HTTPVersion:    httpVersion(r.HTTP),
		ResponseCode:   sideband.Code(resp.Status),
		ResponseStatus: http.StatusText(resp.Status),
		Headers:        headerList("", resp.Header, a.credHeader),
		Body:           a.responseBody(resp),
	}
	if len(ex.state) > 0 {
		rr.State = ex.state
	} else {
		rr.Request = ex.request
	}

	start := time.Now()
	reply, err := a.decideResponse(ctx, rr)
	elapsed := time.Since(start)
	r.DecisionTime += elapsed
	a.m.latency[phaseResponse].Observe(elapsed.Seconds())
	if err != nil {
		a.m.decisions[phaseResponse][resultError].Inc()
		err = redactError(err, a.credential)
		if a.failOpen {
			a.m.failOpen.Inc()
			a.warnFailOpen(ctx, r, phaseResponse, err)
			return resp, nil
		}
		return nil, &edge.Error{Status: http.StatusBadGateway, Msg: "no authorization decision on the response", Err: err}
	}
	a.m.decisions[phaseResponse][resultAllow].Inc()
	out = &edge.Response{Status: int(reply.ResponseCode), Header: responseHeader(reply.Headers), Body: resp.Body}
	if reply.Body != nil {
		out.Body = []byte(*reply.Body)
	}
	// As Kong does, a few headers of the origin's response survive a reply
	// that does not mention them.
	for _, k := range []string{"Date", "Vary"} {
		if _, ok := out.Header[k]; !ok && len(resp.Header[k]) > 0 {
			out.Header[k] = resp.Header[k]
		}
	}
	return out, nil
}

// decideResponse makes the response-phase call: breaker, retries, timeout.
func (a *Authorizer) decideResponse(ctx context.Context, rr *sideband.ResponseRequest) (*sideband.Response, error) {
	bctx := newBudget(ctx, a.cfg.Timeout)
	defer bctx.stop()
	ctx = bctx
	var reply *sideband.Response
	info := callInfo{method: rr.Method, url: rr.URL, headers: rr.Headers}
	err := a.guarded(ctx, phaseResponse, info, func(ctx context.Context) (string, error) {
		rep, err := a.d.Response(ctx, rr)
		if err != nil {
			return "", err
		}
		if rep == nil || !validStatus(rep.ResponseCode) {
			return "", fmt.Errorf("%w: no usable response", sideband.ErrMalformedReply)
		}
		reply = rep
		return "response " + strconv.Itoa(int(rep.ResponseCode)), nil
	})
	return reply, err
}

// responseBody returns the origin's body to send, under the same rules as
// request bodies: configured type, within max_bytes, uncompressed text.
func (a *Authorizer) responseBody(resp *edge.Response) *string {
	if len(resp.Body) == 0 || int64(len(resp.Body)) > a.maxBody ||
		!a.matchType(resp.Header.Get("Content-Type")) || !utf8.Valid(resp.Body) {
		return nil
	}
	if ce := resp.Header.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
		return nil
	}
	s := string(resp.Body)
	return &s
}
