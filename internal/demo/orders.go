package demo

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Limits of the Orders API: it is a demo, but nothing in edgeward grows
// without a bound.
const (
	// MaxOrders is how many orders the API keeps; creating more is refused
	// with 507 until some are deleted.
	MaxOrders = 1000
	// maxOrderBody bounds a POST /orders body.
	maxOrderBody = 16 << 10
	maxItemLen   = 200
	maxQuantity  = 1000
)

// OrdersCacheControl is what the Orders API sends with every successful
// GET: shared caches may keep the answer for 30 seconds, which the demo's
// cache policy honours.
const OrdersCacheControl = "public, max-age=30"

// Order is one order of the Orders API.
type Order struct {
	ID       int    `json:"id"`
	Item     string `json:"item"`
	Quantity int    `json:"quantity"`
	// CreatedBy is the X-User-Id header of the request that created the
	// order: the token's subject, set by the decision service's statement
	// (a client cannot set it: the edge owns the header).
	CreatedBy string    `json:"created_by,omitempty"`
	Created   time.Time `json:"created"`
}

// Orders is the demo origin: a small JSON Orders API kept in memory and
// served under a stage path (GET /orders, GET /orders/{id}, POST /orders,
// DELETE /orders/{id}). It is safe for concurrent use.
type Orders struct {
	stage string
	now   func() time.Time

	mu     sync.Mutex
	next   int
	orders map[int]Order
}

// NewOrders returns the Orders API served under stage ("/prod"; "" for the
// root), with two orders in it.
func NewOrders(stage string) *Orders {
	o := &Orders{stage: strings.TrimSuffix(stage, "/"), now: time.Now, next: 1, orders: map[int]Order{}}
	o.add(Order{Item: "espresso beans, 1 kg", Quantity: 2, CreatedBy: "seed"})
	o.add(Order{Item: "milk frother", Quantity: 1, CreatedBy: "seed"})
	return o
}

// add stores a new order under the next id and returns it. The caller
// holds mu, or o is not shared yet.
func (o *Orders) add(ord Order) Order {
	ord.ID = o.next
	ord.Created = o.now().UTC().Truncate(time.Second)
	o.next++
	o.orders[ord.ID] = ord
	return ord
}

// ServeHTTP routes the Orders API. Every answer is JSON, errors included.
func (o *Orders) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, o.stage)
	if !ok || (rest != "/orders" && !strings.HasPrefix(rest, "/orders/")) {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no resource at %s (the Orders API serves %s/orders)", r.URL.Path, o.stage))
		return
	}
	if rest == "/orders" {
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			o.list(w, r)
		case http.MethodPost:
			o.create(w, r)
		default:
			methodNotAllowed(w, r.Method, "GET, HEAD, POST")
		}
		return
	}
	id, err := strconv.Atoi(strings.TrimPrefix(rest, "/orders/"))
	if err != nil || id <= 0 {
		writeError(w, http.StatusNotFound, "not_found", "order ids are positive integers: /orders/1")
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		o.get(w, r, id)
	case http.MethodDelete:
		o.delete(w, id)
	default:
		methodNotAllowed(w, r.Method, "GET, HEAD, DELETE")
	}
}

func (o *Orders) list(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	list := make([]Order, 0, len(o.orders))
	for _, ord := range o.orders {
		list = append(list, ord)
	}
	o.mu.Unlock()
	slices.SortFunc(list, func(a, b Order) int { return a.ID - b.ID })
	writeCacheable(w, r, struct {
		Orders []Order `json:"orders"`
	}{list})
}

func (o *Orders) get(w http.ResponseWriter, r *http.Request, id int) {
	o.mu.Lock()
	ord, ok := o.orders[id]
	o.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no order %d", id))
		return
	}
	writeCacheable(w, r, ord)
}

func (o *Orders) create(w http.ResponseWriter, r *http.Request) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			writeError(w, http.StatusUnsupportedMediaType, "invalid_request", "send the order as application/json")
			return
		}
	}
	var in struct {
		Item     string `json:"item"`
		Quantity int    `json:"quantity"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxOrderBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, "invalid_request", fmt.Sprintf("an order is at most %d bytes of JSON", maxOrderBody))
			return
		}
		writeError(w, http.StatusBadRequest, "invalid_request", `want {"item": "...", "quantity": N}: `+err.Error())
		return
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		writeError(w, http.StatusBadRequest, "invalid_request", "want one JSON object and nothing after it")
		return
	}
	if problem := validOrder(in.Item, in.Quantity); problem != "" {
		writeError(w, http.StatusBadRequest, "invalid_request", problem)
		return
	}

	o.mu.Lock()
	if len(o.orders) >= MaxOrders {
		o.mu.Unlock()
		writeError(w, http.StatusInsufficientStorage, "too_many_orders", fmt.Sprintf("the demo keeps at most %d orders; delete some", MaxOrders))
		return
	}
	ord := o.add(Order{Item: in.Item, Quantity: in.Quantity, CreatedBy: r.Header.Get("X-User-Id")})
	o.mu.Unlock()

	// A relative reference: it resolves to /prod/orders/3 for a client of
	// the origin and to /orders/3 for a client of the edge, which strips
	// the stage path, so one Location is right on both sides.
	w.Header().Set("Location", "orders/"+strconv.Itoa(ord.ID))
	writeJSON(w, http.StatusCreated, ord)
}

func (o *Orders) delete(w http.ResponseWriter, id int) {
	o.mu.Lock()
	_, ok := o.orders[id]
	delete(o.orders, id)
	o.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no order %d", id))
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

// validOrder returns what is wrong with a new order, or "".
func validOrder(item string, quantity int) string {
	switch {
	case strings.TrimSpace(item) == "":
		return "item: required"
	case len(item) > maxItemLen:
		return fmt.Sprintf("item: at most %d bytes", maxItemLen)
	case strings.IndexFunc(item, func(r rune) bool { return r < ' ' || r == 0x7f }) >= 0:
		return "item: control characters are not allowed"
	case quantity < 1 || quantity > maxQuantity:
		return fmt.Sprintf("quantity: from 1 to %d, got %d", maxQuantity, quantity)
	}
	return ""
}

// writeCacheable writes v as a cacheable JSON answer with a strong ETag,
// and answers a matching If-None-Match with 304, so that a cache can
// revalidate a stale copy instead of fetching it again.
func writeCacheable(w http.ResponseWriter, r *http.Request, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "server_error", "cannot encode the answer")
		return
	}
	body = append(body, '\n')
	sum := sha256.Sum256(body)
	etag := `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`
	h := w.Header()
	h.Set("Cache-Control", OrdersCacheControl)
	h.Set("ETag", etag)
	if inm := r.Header.Get("If-None-Match"); inm != "" && etagMatches(inm, etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// etagMatches applies If-None-Match's weak comparison (RFC 9110 section
// 13.1.2) to a list of entity tags.
func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}

func methodNotAllowed(w http.ResponseWriter, method, allow string) {
	w.Header().Set("Allow", allow)
	writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", fmt.Sprintf("%s is not allowed here (allowed: %s)", method, allow))
}

// writeError writes the small JSON error body every part of the demo uses.
func writeError(w http.ResponseWriter, status int, code, description string) {
	if w.Header().Get("Cache-Control") == "" {
		w.Header().Set("Cache-Control", "no-store")
	}
	writeJSON(w, status, map[string]string{"error": code, "error_description": description})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		body = []byte(`{"error":"server_error"}`)
	}
	body = append(body, '\n')
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}
