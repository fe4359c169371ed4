package edge

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
)

// nopOrigin answers every request with 200 "ok".
type nopOrigin struct{}

func (nopOrigin) Forward(w http.ResponseWriter, r *Request) error {
	w.Header().Set("Content-Type", "text/plain")
	_, _ = io.WriteString(w, "ok")
	return nil
}

// seen is what an origin received.
type seen struct {
	Method string
	Path   string // escaped path
	Query  string
	Header http.Header
	Body   string
}

// fakeOrigin records what reaches the origin and answers with status (200
// when zero) and body; err makes it fail without writing.
type fakeOrigin struct {
	mu     sync.Mutex
	got    []seen
	status int
	body   string
	header http.Header
	err    error
	// hold, when set, blocks Forward until it is closed; entered is closed
	// once the first request arrived.
	hold    chan struct{}
	entered chan struct{}
	once    sync.Once
}

func (o *fakeOrigin) Forward(w http.ResponseWriter, r *Request) error {
	body := ""
	if r.HTTP.Body != nil {
		b, err := io.ReadAll(r.HTTP.Body)
		if err != nil {
			return &Error{Status: http.StatusBadGateway, Msg: "origin unreachable", Err: err}
		}
		body = string(b)
	}
	o.mu.Lock()
	o.got = append(o.got, seen{
		Method: r.HTTP.Method,
		Path:   r.HTTP.URL.EscapedPath(),
		Query:  r.HTTP.URL.RawQuery,
		Header: r.HTTP.Header.Clone(),
		Body:   body,
	})
	o.mu.Unlock()
	if o.entered != nil {
		o.once.Do(func() { close(o.entered) })
	}
	if o.hold != nil {
		<-o.hold
	}
	if o.err != nil {
		return o.err
	}
	for k, vv := range o.header {
		w.Header()[k] = vv
	}
	st := o.status
	if st == 0 {
		st = http.StatusOK
	}
	w.WriteHeader(st)
	_, _ = io.WriteString(w, o.body)
	return nil
}

func (o *fakeOrigin) requests() []seen {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]seen(nil), o.got...)
}

// fn adapts a function literal to Function.
type fn func(ctx context.Context, r *Request) (*Response, error)

func (f fn) ViewerRequest(ctx context.Context, r *Request) (*Response, error) { return f(ctx, r) }

// respFn adapts a function literal to ResponseFunction.
type respFn func(ctx context.Context, r *Request, resp *Response) (*Response, error)

func (f respFn) ViewerResponse(ctx context.Context, r *Request, resp *Response) (*Response, error) {
	return f(ctx, r, resp)
}

// memCache is an in-memory cache keyed by canonical path: enough to show
// the edge's side of the Cache contract.
type memCache struct {
	mu      sync.Mutex
	entries map[string]*cached
}

type cached struct {
	status int
	header http.Header
	body   []byte
}

func newMemCache() *memCache { return &memCache{entries: make(map[string]*cached)} }

func (c *memCache) Serve(w http.ResponseWriter, r *Request, o Origin) error {
	key := r.HTTP.URL.EscapedPath()
	c.mu.Lock()
	e := c.entries[key]
	c.mu.Unlock()
	if e != nil {
		r.Result = ResultHit
		h := w.Header()
		for k, vv := range e.header {
			h[k] = vv
		}
		w.WriteHeader(e.status)
		_, _ = w.Write(e.body)
		return nil
	}
	r.Result = ResultMiss
	rec := newBufferWriter(1 << 20)
	if err := o.Forward(rec, r); err != nil {
		return err
	}
	resp := rec.response()
	c.mu.Lock()
	c.entries[key] = &cached{status: resp.Status, header: resp.Header, body: resp.Body}
	c.mu.Unlock()
	for k, vv := range resp.Header {
		w.Header()[k] = vv
	}
	w.WriteHeader(resp.Status)
	_, _ = w.Write(resp.Body)
	return nil
}

// logged is a copy of one access-log call.
type logged struct {
	ID       string
	Behavior string
	Result   Result
	Rec      Record
}

// recLog records access-log calls.
type recLog struct {
	mu  sync.Mutex
	got []logged
}

func (l *recLog) Log(r *Request, rec *Record) {
	b := ""
	if r.Behavior != nil {
		b = r.Behavior.PathPattern
	}
	l.mu.Lock()
	l.got = append(l.got, logged{ID: r.ID, Behavior: b, Result: r.Result, Rec: *rec})
	l.mu.Unlock()
}

func (l *recLog) records() []logged {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]logged(nil), l.got...)
}

// headerNames lists the names in h, lower-cased, for messages.
func headerNames(h http.Header) string {
	var names []string
	for k := range h {
		names = append(names, strings.ToLower(k))
	}
	return strings.Join(names, ",")
}
