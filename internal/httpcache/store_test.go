package httpcache

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/edgeward/edgeward/internal/edge"
	"github.com/edgeward/edgeward/internal/size"
)

func TestStore_StaysUnderMaxSize(t *testing.T) {
	t.Parallel()
	scfg := StoreConfig{MaxSize: size.MiB, MaxObjectSize: 64 * size.KiB}
	s, c, clock := newCache(t, honest(), scfg)
	body := strings.Repeat("x", 60<<10)
	o := newOrigin(t, clock, fixed(200, body, "Cache-Control: max-age=600"))
	written := 0
	for i := 0; written < 10*int(scfg.MaxSize); i++ {
		serve(t, c, o, "GET", fmt.Sprintf("/big/%d", i))
		written += len(body)
	}
	if got := s.Size(); got > int64(scfg.MaxSize) || got < int64(scfg.MaxSize)/4 {
		t.Errorf("Size after writing %d bytes = %d, want within (max_size/4, max_size %d]", written, got, scfg.MaxSize)
	}
}

func TestServe_BiggerThanMaxObjectSizeStreamsThrough(t *testing.T) {
	t.Parallel()
	for _, chunked := range []bool{false, true} {
		t.Run(fmt.Sprintf("chunked=%v", chunked), func(t *testing.T) {
			t.Parallel()
			_, c, clock := newCache(t, honest(), StoreConfig{MaxObjectSize: size.KiB})
			body := strings.Repeat("0123456789abcdef", 256) // 4KiB
			o := newOrigin(t, clock, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Cache-Control", "max-age=600")
				if chunked {
					for i := 0; i < len(body); i += 512 {
						w.Write([]byte(body[i : i+512]))
						w.(http.Flusher).Flush()
					}
					return
				}
				w.Write([]byte(body))
			})
			rec, _ := serve(t, c, o, "GET", "/big")
			if rec.Body.String() != body {
				t.Fatalf("body = %d bytes, want the whole %d", rec.Body.Len(), len(body))
			}
			if _, r := serve(t, c, o, "GET", "/big"); r.Result != edge.ResultMiss {
				t.Errorf("second Result = %s, want Miss (too big to store)", r.Result)
			}
		})
	}
}

func TestServe_TruncatedBodyNotStored(t *testing.T) {
	t.Parallel()
	_, c, clock := newCache(t, honest(), StoreConfig{})
	o := newOrigin(t, clock, func(w http.ResponseWriter, r *http.Request) {
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		fmt.Fprint(buf, "HTTP/1.1 200 OK\r\nCache-Control: max-age=600\r\nContent-Length: 10\r\n\r\n01234")
		buf.Flush()
	})
	serve(t, c, o, "GET", "/cut")
	o.setHandler(fixed(200, "0123456789", "Cache-Control: max-age=600"))
	if rec, r := serve(t, c, o, "GET", "/cut"); r.Result != edge.ResultMiss || rec.Body.String() != "0123456789" {
		t.Errorf("after a truncated answer = %s %q, want Miss and the full body", r.Result, rec.Body)
	}
}

func TestServe_ErrorCachingTTL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		cfg     PolicyConfig
		status  int
		headers []string
		hitAt   time.Duration // a hit this long after the miss (0: never)
		missAt  time.Duration
	}{
		{"404 for the default 10s", PolicyConfig{}, 404, nil, 9 * time.Second, 11 * time.Second},
		{"per-status override", PolicyConfig{ErrorTTLs: map[int]time.Duration{404: 5 * time.Second}}, 404, nil, 4 * time.Second, 6 * time.Second},
		{"503", PolicyConfig{}, 503, nil, 9 * time.Second, 11 * time.Second},
		{"origin says no-store", PolicyConfig{}, 404, []string{"Cache-Control: no-store"}, 0, time.Second},
		{"origin says max-age=0", PolicyConfig{}, 500, []string{"Cache-Control: max-age=0"}, 0, time.Second},
		{"origin's lifetime wins", PolicyConfig{}, 500, []string{"Cache-Control: max-age=30"}, 29 * time.Second, 31 * time.Second},
		{"error caching off", PolicyConfig{ErrorCachingMinTTL: ptr(time.Duration(0))}, 404, nil, 0, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, c, clock := newCache(t, tt.cfg, StoreConfig{})
			o := newOrigin(t, clock, fixed(tt.status, "err", tt.headers...))
			if rec, r := serve(t, c, o, "GET", "/e"); rec.Code != tt.status || r.Result != edge.ResultError {
				t.Fatalf("first = %d %s, want %d Error", rec.Code, r.Result, tt.status)
			}
			if tt.hitAt > 0 {
				clock.Advance(tt.hitAt)
				if rec, r := serve(t, c, o, "GET", "/e"); r.Result != edge.ResultHit || rec.Code != tt.status {
					t.Errorf("after %v = %d %s, want %d Hit", tt.hitAt, rec.Code, r.Result, tt.status)
				}
			}
			clock.Advance(tt.missAt - tt.hitAt)
			if _, r := serve(t, c, o, "GET", "/e"); r.Result == edge.ResultHit {
				t.Errorf("after %v Result = Hit, want from the origin", tt.missAt)
			}
		})
	}
}

func TestServe_OnlyIfCached(t *testing.T) {
	t.Parallel()
	_, c, clock := newCache(t, honest(), StoreConfig{})
	o := newOrigin(t, clock, fixed(200, "x", "Cache-Control: max-age=60"))
	if rec, _ := serve(t, c, o, "GET", "/a", "Cache-Control: only-if-cached"); rec.Code != 504 || o.count() != 0 {
		t.Errorf("only-if-cached with nothing stored = %d, origin %d, want 504 and no origin request", rec.Code, o.count())
	}
	serve(t, c, o, "GET", "/a")
	if rec, r := serve(t, c, o, "GET", "/a", "Cache-Control: only-if-cached"); rec.Code != 200 || r.Result != edge.ResultHit {
		t.Errorf("only-if-cached with a fresh object = %d %s, want 200 Hit", rec.Code, r.Result)
	}
}

func TestServe_ViewerCannotForceOriginTraffic(t *testing.T) {
	t.Parallel()
	_, c, clock := newCache(t, honest(), StoreConfig{})
	o := newOrigin(t, clock, fixed(200, "x", "Cache-Control: max-age=60"))
	serve(t, c, o, "GET", "/a")
	for _, cc := range []string{"no-cache", "max-age=0", "min-fresh=3600"} {
		if _, r := serve(t, c, o, "GET", "/a", "Cache-Control: "+cc, "Pragma: no-cache"); r.Result != edge.ResultHit {
			t.Errorf("request Cache-Control %q Result = %s, want Hit", cc, r.Result)
		}
	}
	serve(t, c, o, "GET", "/b", "Cache-Control: no-store")
	if _, r := serve(t, c, o, "GET", "/b"); r.Result != edge.ResultMiss {
		t.Errorf("after a no-store request Result = %s, want Miss (not stored)", r.Result)
	}
}

func TestServe_ConditionalMissPassesThrough(t *testing.T) {
	t.Parallel()
	_, c, clock := newCache(t, honest(), StoreConfig{})
	o := newOrigin(t, clock, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"e"`)
		w.Header().Set("Cache-Control", "max-age=60")
		if r.Header.Get("If-None-Match") == `"e"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Write([]byte("full"))
	})
	if rec, _ := serve(t, c, o, "GET", "/a", `If-None-Match: "e"`); rec.Code != 304 {
		t.Errorf("conditional miss = %d, want the origin's 304", rec.Code)
	}
	if rec, r := serve(t, c, o, "GET", "/a"); r.Result != edge.ResultMiss || rec.Body.String() != "full" {
		t.Errorf("then = %s %q, want Miss full", r.Result, rec.Body)
	}
	if _, r := serve(t, c, o, "GET", "/a"); r.Result != edge.ResultHit {
		t.Errorf("then Result = %s, want Hit", r.Result)
	}
}

func TestServe_StoredHeadersOmitHopByHopAndListed(t *testing.T) {
	t.Parallel()
	_, c, clock := newCache(t, honest(), StoreConfig{})
	o := newOrigin(t, clock, fixed(200, "x", "Cache-Control: max-age=60, no-cache=\"x-secret\"", "X-Secret: s", "X-Kept: k", "Age: 3"))
	serve(t, c, o, "GET", "/a")
	rec, r := serve(t, c, o, "GET", "/a")
	if r.Result != edge.ResultHit {
		t.Fatalf("Result = %s, want Hit", r.Result)
	}
	if rec.Header().Get("X-Secret") != "" || rec.Header().Get("X-Kept") != "k" {
		t.Errorf("hit headers %v, want X-Kept and no X-Secret", rec.Header())
	}
	if rec.Header().Get("Age") != "3" {
		t.Errorf("Age = %q, want 3 (the origin's age carried on)", rec.Header().Get("Age"))
	}
}

func TestServe_SurrogateControl(t *testing.T) {
	t.Parallel()
	_, c, clock := newCache(t, honest(), StoreConfig{})
	o := newOrigin(t, clock, fixed(200, "x", "Cache-Control: no-store", "Surrogate-Control: max-age=60;edgeward"))
	serve(t, c, o, "GET", "/a")
	if _, r := serve(t, c, o, "GET", "/a"); r.Result != edge.ResultHit {
		t.Errorf("Surrogate-Control max-age over no-store Result = %s, want Hit", r.Result)
	}
	off := honest()
	off.SurrogateControl = ptr(false)
	_, c, _ = newCache(t, off, StoreConfig{})
	serve(t, c, o, "GET", "/a")
	if _, r := serve(t, c, o, "GET", "/a"); r.Result != edge.ResultMiss {
		t.Errorf("with surrogate_control off Result = %s, want Miss", r.Result)
	}
}

func TestStoredHeader_DropsHopByHopAndListedFields(t *testing.T) {
	t.Parallel()
	h := http.Header{
		"Connection": {"a, B"}, "A": {"1"}, "B": {"2"}, "C": {"3"},
		"Keep-Alive": {"x"}, "Te": {"x"}, "Transfer-Encoding": {"chunked"}, "Upgrade": {"x"},
		"Proxy-Authenticate": {"x"}, "Proxy-Authentication-Info": {"x"}, "Proxy-Authorization": {"x"}, "Proxy-Connection": {"x"},
		"Trailer": {"x"}, "Age": {"5"}, "X-Cache": {"Hit from elsewhere"},
		"Set-Cookie": {"s=1"}, "X-User": {"alice"}, "Cache-Control": {`no-cache="set-cookie", private="x-user", max-age=5`},
	}
	d := parseCacheControl(h["Cache-Control"])
	got := storedHeader(h, &d)
	want := http.Header{"C": {"3"}, "Cache-Control": h["Cache-Control"]}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("storedHeader mismatch (-want +got):\n%s", diff)
	}
	got["C"] = append(got["C"], "4")
	if len(h["C"]) != 1 {
		t.Errorf("storedHeader shares its slices with the response: %q", h["C"])
	}
}
