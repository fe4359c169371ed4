package sidebandtest

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/edgeward/edgeward/internal/sideband"
)

func post(t *testing.T, ctx context.Context, url, body string) (*http.Response, string, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Client-Token", "c")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, string(b), err
}

func TestServer_AnswersFromScriptThenFallback(t *testing.T) {
	t.Parallel()
	srv := NewServer(Error(503, "UNAVAILABLE", "down"), Deny(403, nil, "no"))
	defer srv.Close()
	ctx := context.Background()
	const req = `{"source_ip":"::1","method":"GET","url":"http://a/","headers":[]}`

	resp, _, err := post(t, ctx, srv.URL+"/sideband/request", req)
	if err != nil || resp.StatusCode != 503 {
		t.Fatalf("call 1 = %v, %v, want 503", resp, err)
	}
	_, body, _ := post(t, ctx, srv.URL+"/sideband/request", req)
	if rep, err := sideband.DecodeReply([]byte(body)); err != nil || rep.Response == nil || rep.Response.ResponseCode != 403 {
		t.Fatalf("call 2 = %s (%v), want a 403 deny", body, err)
	}
	resp, _, _ = post(t, ctx, srv.URL+"/sideband/request", req)
	if resp.StatusCode != 500 {
		t.Errorf("call beyond the script = %d, want the default fallback 500", resp.StatusCode)
	}
	srv.SetFallback(Allow(func(r *sideband.Reply) { r.State = []byte(`{"k":1}`) }))
	_, body, _ = post(t, ctx, srv.URL+"/x/sideband/request", req)
	if rep, err := sideband.DecodeReply([]byte(body)); err != nil || rep.Response != nil || string(rep.State) != `{"k":1}` {
		t.Errorf("Allow fallback = %s (%v), want an echo with state", body, err)
	}
	calls := srv.Calls()
	if len(calls) != 4 || calls[3].Path != "/x/sideband/request" || string(calls[0].Body) != req || calls[0].Header.Get("Client-Token") != "c" {
		t.Errorf("recorded calls = %+v, want 4 with path, body and headers", calls)
	}
}

func TestServer_Faults(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	arrived := make(chan struct{})
	waiting := Reply{Func: func(Call) Reply {
		close(arrived)
		return Reply{Wait: release, Body: `{}`}
	}}
	srv := NewServer(Reply{Close: true}, waiting, Reply{Hang: true})
	defer srv.Close()

	if _, _, err := post(t, context.Background(), srv.URL, "{}"); err == nil {
		t.Error("Close: call succeeded, want a transport error")
	}

	done := make(chan string)
	go func() {
		_, body, _ := post(t, context.Background(), srv.URL, "{}")
		done <- body
	}()
	<-arrived
	select {
	case b := <-done:
		t.Fatalf("Wait: answered %q before the channel closed", b)
	default:
	}
	close(release)
	if b := <-done; b != "{}" {
		t.Errorf("Wait: body = %q, want {}", b)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, _, err := post(t, ctx, srv.URL, "{}"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Hang: error = %v, want the client's deadline", err)
	}
}
