package authorizer

import (
	"context"
	"net/http"
	"testing"

	"golang.org/x/net/http/httpguts"

	"github.com/edgeward/edgeward/internal/edge"
	"github.com/edgeward/edgeward/internal/sideband"
)

// FuzzViewerRequestReply feeds arbitrary reply bytes through the decoder
// and the function: it never panics, never lets a request through without
// a well-formed allow, and what it forwards has a canonical path, valid
// headers, no credential header and no framing headers from the decision.
func FuzzViewerRequestReply(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"response":null}`, `{"response":{"response_code":"403","headers":[{"a":"b"}],"body":"no"}}`,
		`{"method":"GET","url":"https://api.example.com/orders/7?x=1","headers":[]}`,
		`{"method":"PUT","url":"https://api.example.com:443/v2/o?y","headers":[{"host":"other"},{"client-token":"x"},{"transfer-encoding":"chunked"}],"body":"{}"}`,
		`{"method":"GET","url":"http://api.example.com/a/../b","headers":[]}`,
		`{"method":"GET","url":"https://api.example.com/%2e%2e/x","headers":[]}`,
	} {
		f.Add([]byte(s))
	}
	zero := 0
	f.Fuzz(func(t *testing.T, reply []byte) {
		d := deciderFunc{request: func(context.Context, *sideband.Request) (*sideband.Reply, error) {
			return sideband.DecodeReply(reply)
		}}
		a, err := New("f", Config{ServiceURL: URLs{Embedded}, MaxRetries: &zero}, d, Options{})
		if err != nil {
			t.Fatal(err)
		}
		r := viewerRequest("POST", "https://api.example.com/orders/7?x=1", `{"a":1}`,
			"Content-Type", "application/json", "Client-Token", "smuggled")
		resp, err := a.ViewerRequest(context.Background(), r)
		if e := asEdgeError(err); e != nil && e.Status == http.StatusInternalServerError {
			t.Fatalf("ViewerRequest(%q) = 500: %v", reply, e.Err)
		}
		if resp != nil || err != nil {
			return
		}
		if rep, derr := sideband.DecodeReply(reply); derr != nil || rep.Response != nil {
			t.Fatalf("ViewerRequest(%q) allowed what is not an allow (%v)", reply, derr)
		}
		p := r.HTTP.URL.EscapedPath()
		if c, err := edge.Canonicalize(p, edge.PathOptions{}); err != nil || c != p {
			t.Fatalf("ViewerRequest(%q) forwards non-canonical path %q", reply, p)
		}
		for k, vs := range r.HTTP.Header {
			if k == "Client-Token" || k == "Transfer-Encoding" || k == "Connection" || !httpguts.ValidHeaderFieldName(k) {
				t.Fatalf("ViewerRequest(%q) forwards header %q", reply, k)
			}
			for _, v := range vs {
				if !httpguts.ValidHeaderFieldValue(v) {
					t.Fatalf("ViewerRequest(%q) forwards an invalid value of %q", reply, k)
				}
			}
		}
		if !httpguts.ValidHostHeader(r.HTTP.Host) {
			t.Fatalf("ViewerRequest(%q) forwards host %q", reply, r.HTTP.Host)
		}
	})
}
