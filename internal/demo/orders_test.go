package demo

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// do sends one request to h and returns the recorded answer.
func do(h http.Handler, method, target, body string, header ...string) *httptest.ResponseRecorder {
	var r *http.Request
	if body == "" {
		r = httptest.NewRequest(method, target, nil)
	} else {
		r = httptest.NewRequest(method, target, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestOrders_Routes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		method     string
		target     string
		body       string
		wantStatus int
		wantHeader map[string]string
		wantError  string // the JSON body's error, for error answers
	}{
		{name: "list", method: "GET", target: "/prod/orders", wantStatus: 200,
			wantHeader: map[string]string{"Cache-Control": OrdersCacheControl, "Content-Type": "application/json"}},
		{name: "get", method: "GET", target: "/prod/orders/1", wantStatus: 200,
			wantHeader: map[string]string{"Cache-Control": OrdersCacheControl}},
		{name: "head has the GET's headers", method: "HEAD", target: "/prod/orders/2", wantStatus: 200,
			wantHeader: map[string]string{"Cache-Control": OrdersCacheControl}},
		{name: "missing order", method: "GET", target: "/prod/orders/99", wantStatus: 404, wantError: "not_found",
			wantHeader: map[string]string{"Cache-Control": "no-store"}},
		{name: "id not a number", method: "GET", target: "/prod/orders/abc", wantStatus: 404, wantError: "not_found"},
		{name: "id zero", method: "GET", target: "/prod/orders/0", wantStatus: 404, wantError: "not_found"},
		{name: "nested path", method: "GET", target: "/prod/orders/1/items", wantStatus: 404, wantError: "not_found"},
		{name: "outside the stage", method: "GET", target: "/orders", wantStatus: 404, wantError: "not_found"},
		{name: "stage prefix of another word", method: "GET", target: "/production/orders", wantStatus: 404, wantError: "not_found"},
		{name: "create", method: "POST", target: "/prod/orders", body: `{"item":"tea","quantity":2}`, wantStatus: 201,
			wantHeader: map[string]string{"Location": "orders/3"}},
		{name: "create with unknown field", method: "POST", target: "/prod/orders", body: `{"item":"tea","quantity":2,"price":0}`, wantStatus: 400, wantError: "invalid_request"},
		{name: "create without item", method: "POST", target: "/prod/orders", body: `{"quantity":2}`, wantStatus: 400, wantError: "invalid_request"},
		{name: "create with quantity 0", method: "POST", target: "/prod/orders", body: `{"item":"tea","quantity":0}`, wantStatus: 400, wantError: "invalid_request"},
		{name: "create with trailing data", method: "POST", target: "/prod/orders", body: `{"item":"tea","quantity":1}{}`, wantStatus: 400, wantError: "invalid_request"},
		{name: "create with control characters", method: "POST", target: "/prod/orders", body: `{"item":"te\u0000a","quantity":1}`, wantStatus: 400, wantError: "invalid_request"},
		{name: "create with a huge body", method: "POST", target: "/prod/orders", body: `{"item":"` + strings.Repeat("a", maxOrderBody) + `"}`, wantStatus: 413, wantError: "invalid_request"},
		{name: "delete", method: "DELETE", target: "/prod/orders/2", wantStatus: 204},
		{name: "delete missing", method: "DELETE", target: "/prod/orders/42", wantStatus: 404, wantError: "not_found"},
		{name: "put is not allowed", method: "PUT", target: "/prod/orders/1", wantStatus: 405, wantError: "method_not_allowed",
			wantHeader: map[string]string{"Allow": "GET, HEAD, DELETE"}},
		{name: "delete the collection is not allowed", method: "DELETE", target: "/prod/orders", wantStatus: 405, wantError: "method_not_allowed",
			wantHeader: map[string]string{"Allow": "GET, HEAD, POST"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := do(NewOrders(Stage), tt.method, tt.target, tt.body)
			if w.Code != tt.wantStatus {
				t.Fatalf("%s %s = %d %s, want %d", tt.method, tt.target, w.Code, w.Body, tt.wantStatus)
			}
			for k, v := range tt.wantHeader {
				if got := w.Header().Get(k); got != v {
					t.Errorf("%s %s: %s = %q, want %q", tt.method, tt.target, k, got, v)
				}
			}
			if tt.method == "HEAD" && w.Body.Len() != 0 {
				t.Errorf("HEAD %s has a body of %d bytes, want none", tt.target, w.Body.Len())
			}
			if tt.wantError != "" {
				var e struct{ Error string }
				if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Error != tt.wantError {
					t.Errorf("%s %s body = %s, want a JSON error %q", tt.method, tt.target, w.Body, tt.wantError)
				}
			}
		})
	}
}

func TestOrders_CreateThenReadBack(t *testing.T) {
	t.Parallel()
	o := NewOrders(Stage)
	w := do(o, "POST", "/prod/orders", `{"item":"tea","quantity":2}`, "X-User-Id", "alice")
	if w.Code != http.StatusCreated {
		t.Fatalf("POST = %d %s, want 201", w.Code, w.Body)
	}
	var created Order
	if err := json.Unmarshal(w.Body.Bytes(), &created); err != nil {
		t.Fatal(err)
	}
	w = do(o, "GET", "/prod/"+w.Header().Get("Location"), "")
	var got Order
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatalf("GET Location = %d %s: %v", w.Code, w.Body, err)
	}
	want := Order{ID: 3, Item: "tea", Quantity: 2, CreatedBy: "alice", Created: created.Created}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("GET the created order (-want +got):\n%s", diff)
	}

	w = do(o, "GET", "/prod/orders", "")
	var list struct{ Orders []Order }
	if err := json.Unmarshal(w.Body.Bytes(), &list); err != nil {
		t.Fatal(err)
	}
	var ids []int
	for _, ord := range list.Orders {
		ids = append(ids, ord.ID)
	}
	if diff := cmp.Diff([]int{1, 2, 3}, ids); diff != "" {
		t.Errorf("GET /orders ids (-want +got):\n%s", diff)
	}
}

func TestOrders_IfNoneMatchGets304(t *testing.T) {
	t.Parallel()
	o := NewOrders(Stage)
	etag := do(o, "GET", "/prod/orders/1", "").Header().Get("ETag")
	if etag == "" {
		t.Fatal("GET /prod/orders/1 has no ETag")
	}
	if w := do(o, "GET", "/prod/orders/1", "", "If-None-Match", `"other", `+etag); w.Code != http.StatusNotModified || w.Body.Len() != 0 {
		t.Errorf("GET with If-None-Match %s = %d with %d bytes, want 304 without a body", etag, w.Code, w.Body.Len())
	}
	if w := do(o, "GET", "/prod/orders/1", "", "If-None-Match", `"other"`); w.Code != http.StatusOK {
		t.Errorf(`GET with If-None-Match "other" = %d, want 200`, w.Code)
	}
}

func TestOrders_ConcurrentCreatesGetDistinctIDs(t *testing.T) {
	t.Parallel()
	o := NewOrders("")
	const n = 40
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			w := do(o, "POST", "/orders", fmt.Sprintf(`{"item":"item %d","quantity":1}`, i))
			ids[i] = w.Header().Get("Location")
			do(o, "GET", "/orders", "")
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, id := range ids {
		if id == "" || seen[id] {
			t.Fatalf("Locations = %v, want %d distinct ones", ids, n)
		}
		seen[id] = true
	}
}

func TestOrders_RefusesPastMaxOrders(t *testing.T) {
	t.Parallel()
	o := NewOrders(Stage)
	for range MaxOrders - 2 {
		if w := do(o, "POST", "/prod/orders", `{"item":"x","quantity":1}`); w.Code != http.StatusCreated {
			t.Fatalf("POST = %d %s before the limit, want 201", w.Code, w.Body)
		}
	}
	if w := do(o, "POST", "/prod/orders", `{"item":"x","quantity":1}`); w.Code != http.StatusInsufficientStorage {
		t.Fatalf("POST past %d orders = %d, want 507", MaxOrders, w.Code)
	}
	do(o, "DELETE", "/prod/orders/1", "")
	if w := do(o, "POST", "/prod/orders", `{"item":"x","quantity":1}`); w.Code != http.StatusCreated {
		t.Fatalf("POST after a delete = %d, want 201", w.Code)
	}
}

func FuzzOrders(f *testing.F) {
	f.Add("GET", "/prod/orders/1", "")
	f.Add("POST", "/prod/orders", `{"item":"tea","quantity":2}`)
	f.Add("DELETE", "/prod/orders/2", "")
	f.Add("POST", "/prod/orders", `{"item":"","quantity":-1}`)
	f.Fuzz(func(t *testing.T, method, path, body string) {
		if !validMethod(method) || path == "" || path[0] != '/' || strings.ContainsAny(path, " \t\r\n?#") {
			return
		}
		r, err := http.NewRequest(method, "http://demo"+path, strings.NewReader(body))
		if err != nil {
			return
		}
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		NewOrders(Stage).ServeHTTP(w, r)
		if w.Code >= 500 && w.Code != http.StatusInsufficientStorage {
			t.Fatalf("%s %s %q = %d %s, want no server error", method, path, body, w.Code, w.Body)
		}
		if w.Code != http.StatusNoContent && method != "HEAD" && !json.Valid(w.Body.Bytes()) {
			t.Fatalf("%s %s = %d with a body that is not JSON: %q", method, path, w.Code, w.Body)
		}
	})
}

func validMethod(m string) bool {
	if m == "" {
		return false
	}
	for _, c := range m {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}
