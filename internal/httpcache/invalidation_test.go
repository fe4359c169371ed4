package httpcache

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/edgeward/edgeward/internal/edge"
)

func cachedPaths(t *testing.T, c *Cache, o edge.Origin, paths []string) map[string]bool {
	t.Helper()
	got := map[string]bool{}
	for _, p := range paths {
		_, r := serve(t, c, o, "GET", p)
		got[p] = r.Result == edge.ResultHit
	}
	return got
}

func TestInvalidate_ExactAndWildcard(t *testing.T) {
	t.Parallel()
	paths := []string{"/orders/1", "/orders/1?x=2", "/orders/12", "/orders/2", "/images/a.png", "/images/b/c.png", "/imagesX", "/a%20b"}
	tests := []struct {
		name  string
		paths []string
		gone  []string
	}{
		{"exact path with every query", []string{"/orders/1"}, []string{"/orders/1", "/orders/1?x=2"}},
		{"prefix", []string{"/images/*"}, []string{"/images/a.png", "/images/b/c.png"}},
		{"prefix without slash", []string{"/orders/1*"}, []string{"/orders/1", "/orders/1?x=2", "/orders/12"}},
		{"escaped and plain spellings", []string{"/a b"}, []string{"/a%20b"}},
		{"everything", []string{"/*"}, paths},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, c, clock := newCache(t, honest(), StoreConfig{})
			o := newOrigin(t, clock, fixed(200, "x", "Cache-Control: max-age=600"))
			cachedPaths(t, c, o, paths) // fill
			inv, err := s.Invalidate(tt.paths)
			if err != nil {
				t.Fatalf("Invalidate(%q) = %v", tt.paths, err)
			}
			if inv.Paths != len(tt.paths) || inv.Status != InvalidationCompleted || len(inv.ID) != 14 {
				t.Errorf("Invalidate = %+v, want %d paths, Completed, a 14-character id", inv, len(tt.paths))
			}
			want := map[string]bool{}
			for _, p := range paths {
				want[p] = true
			}
			for _, p := range tt.gone {
				want[p] = false
			}
			if diff := cmp.Diff(want, cachedPaths(t, c, o, paths)); diff != "" {
				t.Errorf("hits after Invalidate(%q) (-want +got):\n%s", tt.paths, diff)
			}
		})
	}
}

func TestInvalidate_RejectsBadPaths(t *testing.T) {
	t.Parallel()
	s, _, _ := newCache(t, honest(), StoreConfig{})
	many := make([]string, MaxInvalidationPaths+1)
	for i := range many {
		many[i] = "/x"
	}
	tests := []struct {
		name  string
		paths []string
		want  string
	}{
		{"none", nil, "paths: at least one path is required"},
		{"relative", []string{"/ok", "orders"}, `paths[1]: "orders" must start with /`},
		{"star inside", []string{"/a*/b"}, `paths[0]: "/a*/b": * is only allowed at the end`},
		{"query", []string{"/a?b=1"}, "paths[0]: \"/a?b=1\": a path has no query or fragment"},
		{"bad escape", []string{"/a%zz"}, `paths[0]: "/a%zz": invalid URL escape "%zz"`},
		{"too many", many, "paths: 3001 paths, at most 3000 per invalidation"},
	}
	for _, tt := range tests {
		if _, err := s.Invalidate(tt.paths); err == nil || err.Error() != tt.want {
			t.Errorf("%s: Invalidate = %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestInvalidate_FillInFlightDoesNotStore(t *testing.T) {
	t.Parallel()
	s, c, clock := newCache(t, honest(), StoreConfig{})
	o := newOrigin(t, clock, nil)
	o.setHandler(func(w http.ResponseWriter, r *http.Request) {
		// The invalidation lands while the origin is answering.
		if _, err := s.Invalidate([]string{"/race/*"}); err != nil {
			t.Error(err)
		}
		fixed(200, "old", "Cache-Control: max-age=600")(w, r)
	})
	serve(t, c, o, "GET", "/race/1")
	if _, r := serve(t, c, o, "GET", "/race/1"); r.Result != edge.ResultMiss {
		t.Errorf("after an invalidation during the fill Result = %s, want Miss", r.Result)
	}
}

func TestServe_UnsafeMethodsInvalidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		method   string
		status   int
		headers  []string
		wantGone []string
	}{
		{"POST 200", "POST", 200, nil, []string{"/r"}},
		{"PUT 204", "PUT", 204, nil, []string{"/r"}},
		{"DELETE 200", "DELETE", 200, nil, []string{"/r"}},
		{"unknown method", "M-SEARCH", 200, nil, []string{"/r"}},
		{"failed POST keeps it", "POST", 500, nil, nil},
		{"Location and Content-Location", "POST", 201, []string{"Location: /r/new", "Content-Location: http://example.com/r/cl"}, []string{"/r", "/r/new", "/r/cl"}},
		{"relative Location", "POST", 303, []string{"Location: r/new"}, []string{"/r", "/r/new"}},
		{"other host's Location", "POST", 201, []string{"Location: http://elsewhere.example/r/new"}, []string{"/r"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, c, clock := newCache(t, honest(), StoreConfig{})
			o := newOrigin(t, clock, fixed(200, "x", "Cache-Control: max-age=600"))
			all := []string{"/r", "/r/new", "/r/cl"}
			cachedPaths(t, c, o, all)
			o.setHandler(fixed(tt.status, "", tt.headers...))
			if rec, r := serve(t, c, o, tt.method, "/r"); rec.Code != tt.status || r.Result == edge.ResultHit {
				t.Fatalf("%s = %d %s, want %d from the origin", tt.method, rec.Code, r.Result, tt.status)
			}
			o.setHandler(fixed(200, "x", "Cache-Control: max-age=600"))
			want := map[string]bool{}
			for _, p := range all {
				want[p] = true
			}
			for _, p := range tt.wantGone {
				want[p] = false
			}
			if diff := cmp.Diff(want, cachedPaths(t, c, o, all)); diff != "" {
				t.Errorf("hits after %s (-want +got):\n%s", tt.name, diff)
			}
		})
	}
}

func TestInvalidationHandler(t *testing.T) {
	t.Parallel()
	s, c, clock := newCache(t, honest(), StoreConfig{})
	o := newOrigin(t, clock, fixed(200, "x", "Cache-Control: max-age=600"))
	serve(t, c, o, "GET", "/orders/1")
	h := s.InvalidationHandler()

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/invalidations", strings.NewReader(`{"paths": ["/orders/1", "/images/*"]}`)))
	if rec.Code != http.StatusCreated {
		t.Fatalf("POST = %d %s, want 201", rec.Code, rec.Body)
	}
	var inv Invalidation
	if err := json.Unmarshal(rec.Body.Bytes(), &inv); err != nil {
		t.Fatal(err)
	}
	if inv.Paths != 2 || inv.Status != "Completed" || rec.Header().Get("Location") != "/invalidations/"+inv.ID {
		t.Errorf("POST = %+v Location %q, want 2 paths, Completed, its Location", inv, rec.Header().Get("Location"))
	}
	if _, r := serve(t, c, o, "GET", "/orders/1"); r.Result != edge.ResultMiss {
		t.Errorf("after POST /invalidations Result = %s, want Miss", r.Result)
	}

	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/invalidations/"+inv.ID, nil))
	var got Invalidation
	json.Unmarshal(rec.Body.Bytes(), &got)
	if rec.Code != 200 || got.ID != inv.ID {
		t.Errorf("GET = %d %s, want 200 and the invalidation", rec.Code, rec.Body)
	}

	for _, tt := range []struct {
		method, target, body string
		want                 int
	}{
		{"GET", "/invalidations/INOPE", "", 404},
		{"POST", "/invalidations", `{"paths": ["nope"]}`, 400},
		{"POST", "/invalidations", `{"path": ["/x"]}`, 400},
		{"POST", "/invalidations", `not json`, 400},
		{"DELETE", "/invalidations", "", 405},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.target, strings.NewReader(tt.body)))
		if rec.Code != tt.want {
			t.Errorf("%s %s %s = %d, want %d", tt.method, tt.target, tt.body, rec.Code, tt.want)
		}
	}
}
