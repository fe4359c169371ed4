package httpcache

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/edgeward/edgeward/internal/edge"
)

// swapIdentity is a viewer-request function like a decision that swaps the
// viewer's token for an identity header: it denies "Bearer mallory" and
// sets X-User-Id for everyone else.
type swapIdentity struct{}

func (swapIdentity) ViewerRequest(_ context.Context, r *edge.Request) (*edge.Response, error) {
	token := strings.TrimPrefix(r.HTTP.Header.Get("Authorization"), "Bearer ")
	if token == "mallory" {
		return &edge.Response{Status: http.StatusForbidden, Body: []byte("denied")}, nil
	}
	r.HTTP.Header.Del("Authorization")
	r.HTTP.Header.Set("X-User-Id", token)
	return nil, nil
}

// startEdge serves one "*" behavior with f and c in front of o on a
// loopback listener and returns its base URL.
func startEdge(t *testing.T, c *Cache, o edge.Origin) string {
	t.Helper()
	srv, err := edge.New(edge.Config{}, []edge.Behavior{{
		PathPattern: "*", OriginID: "o", Origin: o, FunctionName: "swap", Function: swapIdentity{}, Cache: c,
	}}, edge.Options{OwnedHeaders: []string{"X-User-Id"}})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return "http://" + ln.Addr().String()
}

func get(t *testing.T, url, token string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func TestEdge_IdentityHeaderKeepsPerUserAnswersPrivate(t *testing.T) {
	t.Parallel()
	_, c, clock := newCache(t, PolicyConfig{}, StoreConfig{})
	// The origin forgets private: the identity the function set must
	// still keep alice's answer from bob.
	o := newOrigin(t, clock, func(w http.ResponseWriter, r *http.Request) {
		fixed(200, "profile of "+r.Header.Get("X-User-Id"), "Cache-Control: max-age=600")(w, r)
	})
	base := startEdge(t, c, o)
	if _, body := get(t, base+"/me", "alice"); body != "profile of alice" {
		t.Fatalf("alice got %q", body)
	}
	resp, body := get(t, base+"/me", "bob")
	if body != "profile of bob" || resp.Header.Get("X-Cache") != "Miss from edgeward" {
		t.Errorf("bob got %q (%s), want his own profile from the origin", body, resp.Header.Get("X-Cache"))
	}
}

func TestEdge_HitAfterMissAndDeniedNeverServedFromCache(t *testing.T) {
	t.Parallel()
	_, c, clock := newCache(t, PolicyConfig{}, StoreConfig{})
	o := newOrigin(t, clock, fixed(200, "catalog", "Cache-Control: public, max-age=600"))
	base := startEdge(t, c, o)
	if resp, _ := get(t, base+"/catalog", "alice"); resp.Header.Get("X-Cache") != "Miss from edgeward" {
		t.Errorf("first X-Cache = %q, want Miss", resp.Header.Get("X-Cache"))
	}
	if resp, body := get(t, base+"/catalog", "bob"); body != "catalog" || resp.Header.Get("X-Cache") != "Hit from edgeward" || resp.Header.Get("Age") == "" {
		t.Errorf("second = %q X-Cache %q Age %q, want a hit with Age", body, resp.Header.Get("X-Cache"), resp.Header.Get("Age"))
	}
	if resp, body := get(t, base+"/catalog", "mallory"); resp.StatusCode != http.StatusForbidden || body == "catalog" {
		t.Errorf("denied viewer got %d %q, want 403 and never the cached object", resp.StatusCode, body)
	}
	if n := o.count(); n != 1 {
		t.Errorf("origin requests = %d, want 1", n)
	}
}
