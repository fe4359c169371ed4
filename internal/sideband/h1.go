package sideband

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/propagation"

	"github.com/edgeward/edgeward/internal/connpool"
)

// The lean HTTP/1.1 hop: for a plain-http service spoken to in HTTP/1.1
// (protocol auto or http1, no proxy from the environment), a call writes
// its POST straight from the caller's goroutine onto a pooled keep-alive
// connection and reads the answer on the same goroutine with
// connpool.ReadResponse, the origin fast path's way (internal/origin/fast.go,
// the pool shared through internal/connpool). http.Transport spends much
// of a small exchange in its per-connection read and write loop goroutines
// and the context plumbing between them; the sideband hop pays that once
// per decision, on the same two cores as the decision service. HTTPS,
// h2c and proxied services keep http.Transport.
//
// What it keeps of http.Transport's behaviour: one deadline per call (the
// sooner of the caller's deadline and the client timeout) covering dial,
// write and the whole answer, cancellation by the caller's context, a
// bounded answer header (maxErrorBody) and body (MaxReplyBytes), no reuse
// of a connection after "Connection: close", an HTTP/1.0 answer without
// keep-alive, a body not read to its end or bytes after it, and one
// transparent retry on a new connection when a reused one fails before any
// byte of the answer arrived (the service closed it while it sat idle; the
// decision was never made). That retry is not an attempt in the
// integration kit's max_retries sense, as it is not for http.Transport;
// any other failure, and a failure on a new connection, is returned for
// the caller's retries.

// h1IOBufferSize is the size of a lean connection's read and write
// buffers: a request-phase body of a few headers and its reply fit.
const h1IOBufferSize = 8 << 10

// max1xx bounds the informational answers skipped before the final one.
const max1xx = 5

var (
	errReplyHeaderTooLarge = fmt.Errorf("reply header larger than %d bytes", maxErrorBody)
	errTooMany1xx          = errors.New("too many informational answers")
)

// h1Hop is the lean client of one endpoint.
type h1Hop struct {
	pool connpool.Pool[*h1Conn]
	// heads are the request heads up to the Content-Length value, for
	// the request phase and the response phase.
	requestHead, responseHead []byte
	// post is what ReadResponse is told the request was (it only
	// reads the method); shared, never written.
	post *http.Request
}

// h1Conn is a lean connection: the reader under its BR, so that the
// answer's header is read within a byte budget.
type h1Conn struct{ connpool.Conn }

func (hc *h1Conn) Read(p []byte) (int, error) {
	if hc.Budget >= 0 {
		return hc.ReadBudget(p, errReplyHeaderTooLarge)
	}
	return hc.C.Read(p)
}

// newH1Hop returns the lean client for an endpoint, or nil where the
// service is to be reached through http.Transport.
func (c *Client) newH1Hop(e *endpoint, protocol string, maxIdle int) *h1Hop {
	if protocol != "" && protocol != ProtocolAuto && protocol != ProtocolHTTP1 {
		return nil
	}
	reqURL, err := url.Parse(e.requestURL)
	if err != nil || reqURL.Scheme != "http" {
		return nil
	}
	respURL, err := url.Parse(e.responseURL)
	if err != nil {
		return nil
	}
	if p, err := http.ProxyFromEnvironment(&http.Request{URL: reqURL}); err != nil || p != nil {
		return nil
	}
	host := strings.TrimSuffix(reqURL.Host, ":")
	for i := range len(host) {
		if host[i] >= 0x80 { // IDNA: http.Transport's business
			return nil
		}
	}
	addr := host
	if reqURL.Port() == "" {
		addr = net.JoinHostPort(reqURL.Hostname(), "80")
	}
	head := func(target string) []byte {
		var b strings.Builder
		b.WriteString("POST " + target + " HTTP/1.1\r\nHost: " + host + "\r\n")
		b.WriteString("User-Agent: Go-http-client/1.1\r\nContent-Type: application/json\r\nAccept: application/json\r\n")
		b.WriteString(c.credHeader + ": " + c.credential + "\r\n") // verbatim spelling, as Ping's plugins send it
		b.WriteString("Content-Length: ")
		return []byte(b.String())
	}
	h := &h1Hop{
		requestHead:  head(reqURL.RequestURI()),
		responseHead: head(respURL.RequestURI()),
		post:         &http.Request{Method: http.MethodPost, URL: reqURL},
	}
	dialer := &net.Dialer{Timeout: c.timeout, KeepAlive: 30 * time.Second}
	h.pool = connpool.Pool[*h1Conn]{
		MaxIdle:     maxIdle,
		IdleTimeout: 90 * time.Second,
		Dial: func(ctx context.Context) (*h1Conn, error) {
			nc, err := dialer.DialContext(ctx, "tcp", addr)
			if err != nil {
				return nil, err
			}
			hc := &h1Conn{}
			hc.C = nc
			hc.Budget = -1
			hc.BR = bufio.NewReaderSize(hc, h1IOBufferSize)
			hc.BW = bufio.NewWriterSize(nc, h1IOBufferSize)
			return hc, nil
		},
	}
	return h
}

// postH1 is postTo on the lean hop.
func (c *Client) postH1(ctx context.Context, h *h1Hop, response bool, body []byte) ([]byte, http.Header, error) {
	deadline := time.Now().Add(c.timeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	head := h.requestHead
	if response {
		head = h.responseHead
	}
	for attempt := 0; ; attempt++ {
		hc, err := h.pool.Get(ctx, attempt > 0)
		if err != nil {
			return nil, nil, transportError(ctx, err)
		}
		data, hdr, reuse, err := c.exchange(ctx, h, hc, deadline, head, body)
		if reuse {
			h.pool.Put(hc)
		} else {
			hc.C.Close()
		}
		var nr connpool.NothingRead
		if err != nil && attempt == 0 && hc.Reused && errors.As(err, &nr) && ctx.Err() == nil && time.Now().Before(deadline) {
			continue
		}
		return data, hdr, err
	}
}

// exchange makes one request on hc and reads its answer. reuse reports
// whether hc may carry another request.
func (c *Client) exchange(ctx context.Context, h *h1Hop, hc *h1Conn, deadline time.Time, head, body []byte) (data []byte, hdr http.Header, reuse bool, err error) {
	if err := hc.C.SetDeadline(deadline); err != nil {
		return nil, nil, false, transportError(ctx, err)
	}
	if ctx.Done() != nil {
		stop := context.AfterFunc(ctx, func() { _ = hc.C.SetDeadline(time.Unix(1, 0)) })
		defer func() {
			if !stop() { // the deadline was poisoned
				reuse = false
			}
		}()
	}
	bw := hc.BW
	bw.Write(head)
	var num [20]byte
	bw.Write(strconv.AppendInt(num[:0], int64(len(body)), 10))
	bw.WriteString("\r\n")
	// The caller's trace, if any, goes along (W3C traceparent); without a
	// span in ctx this adds nothing.
	propagation.TraceContext{}.Inject(ctx, fieldWriter{bw})
	bw.WriteString("\r\n")
	bw.Write(body)
	if err := bw.Flush(); err != nil {
		return nil, nil, false, connpool.NothingRead{Err: transportError(ctx, err)}
	}
	hc.Budget = maxErrorBody
	if _, err := hc.BR.Peek(1); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, nil, false, connpool.NothingRead{Err: transportError(ctx, err)}
	}
	var resp *http.Response
	for informational := 0; ; informational++ {
		if resp, err = connpool.ReadResponse(hc.BR, h.post); err != nil {
			return nil, nil, false, transportError(ctx, err)
		}
		if resp.StatusCode < 100 || resp.StatusCode >= 200 {
			break
		}
		if resp.StatusCode == http.StatusSwitchingProtocols {
			return nil, nil, false, fmt.Errorf("%w: 101 Switching Protocols to a POST", ErrTransport)
		}
		if informational >= max1xx {
			return nil, nil, false, fmt.Errorf("%w: %w", ErrTransport, errTooMany1xx)
		}
	}
	hc.Budget = -1
	if resp.StatusCode != http.StatusOK {
		se := statusError(resp)
		return nil, nil, !resp.Close && atEOF(resp.Body), se
	}
	data, err = c.readOK(resp)
	if err != nil {
		return nil, nil, false, transportError(ctx, err)
	}
	return data, resp.Header, !resp.Close && atEOF(resp.Body), nil
}

// atEOF reports whether body has nothing left: only then may its
// connection carry another request. (Closing an http.ReadResponse body
// that is not at its end would read the rest, without bound.)
func atEOF(body io.Reader) bool {
	var b [1]byte
	n, err := body.Read(b[:])
	return n == 0 && err == io.EOF
}

// transportError wraps an I/O error of a call: the caller's cancellation
// or deadline where that is what ended it, so that errors.Is finds
// context.Canceled or context.DeadlineExceeded as it does for
// http.Transport's errors. An error that already wraps ErrTransport or
// ErrMalformedReply is returned as it is.
func transportError(ctx context.Context, err error) error {
	if errors.Is(err, ErrTransport) || errors.Is(err, ErrMalformedReply) {
		return err
	}
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("%w: %w (%w)", ErrTransport, cerr, err)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("%w: %w (%w)", ErrTransport, context.DeadlineExceeded, err)
	}
	return fmt.Errorf("%w: %w", ErrTransport, err)
}

// fieldWriter writes the header fields a propagator sets.
type fieldWriter struct{ w *bufio.Writer }

func (f fieldWriter) Get(string) string { return "" }
func (f fieldWriter) Keys() []string    { return nil }
func (f fieldWriter) Set(k, v string) {
	f.w.WriteString(k)
	f.w.WriteString(": ")
	f.w.WriteString(v)
	f.w.WriteString("\r\n")
}

var _ propagation.TextMapCarrier = fieldWriter{}
