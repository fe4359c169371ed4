package edge

import (
	"context"
	"net/http"
	"net/netip"
	"slices"
	"time"
)

// Request is one viewer request on its way through the pipeline. It is
// created by the edge after the request line and headers are accepted, the
// path is made canonical and owned headers are stripped; later stages read
// it and the viewer-request function may change HTTP (headers, method, path,
// query, body). Stages never keep it after the response is written.
type Request struct {
	// ID is the request id (x-edge-request-id, X-Request-Id), generated or
	// taken from a trusted inbound X-Request-Id.
	ID string
	// HTTP is the request that will be forwarded. Its URL.Path is the
	// canonical path (see Canonicalize) and URL.RawPath is empty or its
	// canonical escaped form; its Header has no owned or hop-by-hop headers.
	HTTP *http.Request
	// Behavior is the behavior whose path pattern matched the canonical path.
	Behavior *Behavior
	// Client is the viewer's address as the edge saw it (or as a trusted
	// proxy reported it).
	Client netip.AddrPort
	// Scheme is "http" or "https": what the viewer used to reach the edge.
	Scheme string
	// Host is the host (and port, if not the default) the viewer addressed.
	Host string
	// TraceID is the request's trace id (32 hex digits) when tracing is
	// on, for the access log; empty otherwise.
	TraceID string
	// ForwardedFor is the X-Forwarded-For chain received from a trusted
	// proxy (empty when the peer is not trusted); the origin stage appends
	// the peer's address to it.
	ForwardedFor string
	// Peer is the address of the TCP peer (the client, or the trusted proxy
	// in front of the edge).
	Peer netip.AddrPort
	// Start is when the edge accepted the request.
	Start time.Time

	// Result is the x-edge-result-type of the answer: set by the cache
	// (Hit, RefreshHit, Miss) or by the edge (Error,
	// FunctionGeneratedResponse, ...). Empty means Miss.
	Result Result
	// State is opaque per-request state a Function keeps between its
	// viewer-request and viewer-response calls (the sideband "state").
	State any

	// Timings for logs and metrics.
	DecisionTime time.Duration
	OriginTime   time.Duration

	owned func(name string) bool
	set   []string // headers the viewer-request function set (SetByFunction)
}

// Owned reports whether the edge owns the header with the canonical name
// name: inbound copies were stripped, so any value present now was set by
// the edge or its viewer-request function.
func (r *Request) Owned(name string) bool {
	return (r.owned != nil && r.owned(name)) || slices.Contains(r.set, name)
}

// SetByFunction records that the viewer-request function set the header
// with canonical name name from its decision. Later stages treat it as
// owned: the cache forwards it and counts it as identifying the viewer.
// (A remote decision service's statements are not known to the edge in
// advance, so their headers cannot be in the owned set; declare them in
// owned_headers so that inbound copies are stripped too.)
func (r *Request) SetByFunction(name string) {
	if !r.Owned(name) {
		r.set = append(r.set, name)
	}
}

// Result is an x-edge-result-type value, as CloudFront writes it in its logs.
type Result string

// Result types.
const (
	ResultHit                       Result = "Hit"
	ResultRefreshHit                Result = "RefreshHit"
	ResultMiss                      Result = "Miss"
	ResultError                     Result = "Error"
	ResultFunctionGeneratedResponse Result = "FunctionGeneratedResponse"
	ResultLimitExceeded             Result = "LimitExceeded"
)

// Response is a complete answer produced by a stage instead of the origin:
// a deny from a viewer-request function, or a response rewritten by the
// viewer-response phase. Hop-by-hop headers in Header are dropped when it is
// written.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Function is a viewer-request function (the Lambda@Edge viewer-request
// trigger). ViewerRequest returns (nil, nil) to let the request continue,
// possibly after changing r.HTTP; a non-nil Response to answer the viewer
// with it (never cached); or an error, which the edge renders (an *Error
// keeps its status; any other error is a 500).
type Function interface {
	ViewerRequest(ctx context.Context, r *Request) (*Response, error)
}

// ResponseFunction sees the complete response before it goes to the viewer
// (the sideband response phase) and returns the response to send instead.
// The edge buffers the response, up to its configured limit, to call it.
type ResponseFunction interface {
	ViewerResponse(ctx context.Context, r *Request, resp *Response) (*Response, error)
}

// Origin forwards an allowed request to the behavior's origin and writes the
// origin's answer to w. It returns an error only when it wrote nothing to w,
// so that the caller can render it or serve a stale object; the error is an
// *Error with status 502 (origin unreachable or broken answer) or 504
// (origin timeout). A failure after the header was written aborts the
// response (panic(http.ErrAbortHandler)), as httputil.ReverseProxy does.
type Origin interface {
	Forward(w http.ResponseWriter, r *Request) error
}

// Cache answers a request from the cache or through o, storing what may be
// stored, and sets r.Result. It runs after the viewer-request function
// allowed the request. Its error contract is Origin's: an error means
// nothing was written to w.
type Cache interface {
	Serve(w http.ResponseWriter, r *Request, o Origin) error
}

// Logger receives one record per finished request (the access log). It must
// not block, and must not keep r or rec after Log returns: the edge reuses
// them for later requests (copy what is needed).
type Logger interface {
	Log(r *Request, rec *Record)
}

// Record is what the edge knows about a finished request besides Request.
type Record struct {
	Status       int
	BytesIn      int64
	BytesOut     int64
	TimeTaken    time.Duration
	TimeToFirstB time.Duration
	// Header is the response header as sent to the viewer (read-only; for
	// the log's content type, length and range fields).
	Header http.Header
	// Err is the internal cause of an error response, if any (never shown
	// to the viewer).
	Err error
}

// Behavior is one cache behavior (CloudFront's term): requests whose
// canonical path matches PathPattern go through Function, then Cache (if
// any), then Origin. Behaviors are built from configuration by the caller
// and matched in order, first match wins.
type Behavior struct {
	// PathPattern uses CloudFront's syntax: * matches any run of
	// characters (including /), ? exactly one; case-sensitive.
	PathPattern string
	// AllowedMethods lists the methods served; others get 405 with Allow.
	// Empty means GET and HEAD.
	AllowedMethods []string
	// OriginID names Origin in logs and metrics.
	OriginID string
	Origin   Origin
	// FunctionName names Function in logs and metrics.
	FunctionName string
	// Function is the viewer-request function, or nil.
	Function Function
	// ResponseFunction is the viewer-response function, or nil.
	ResponseFunction ResponseFunction
	// Cache is the behavior's cache, or nil when caching is disabled.
	Cache Cache
	// ResponseHeaders is the behavior's response headers policy, or nil.
	ResponseHeaders *ResponseHeaders
	// Protection is the behavior's security protections, or nil.
	Protection Protection
}
