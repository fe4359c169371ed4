package sideband

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/*.json from the decoders' output")

// fixtures maps each wire fixture (SIDEBAND.md's shapes, with the quirks real
// gateways send) to the decoder the receiving side uses and the encoder the
// sending side uses.
var fixtures = []struct {
	file   string
	decode func([]byte) (any, error)
	encode func(any) ([]byte, error)
}{
	{"request.json", decodeRequestBytes, marshal},
	{"request-kong.json", decodeRequestBytes, marshal},
	{"allow.json", func(b []byte) (any, error) { return DecodeReply(b) }, marshal},
	{"deny.json", func(b []byte) (any, error) { return DecodeReply(b) }, marshal},
	{"deny-numeric-code.json", func(b []byte) (any, error) { return DecodeReply(b) }, marshal},
	{"response-request.json", decodeResponseRequestBytes, encodeResponseRequest},
	{"response-request-kong.json", decodeResponseRequestBytes, encodeResponseRequest},
	{"response-reply.json", func(b []byte) (any, error) { return DecodeResponse(b) }, marshal},
}

func decodeRequestBytes(b []byte) (any, error) { return DecodeRequest(bytes.NewReader(b), 0) }
func decodeResponseRequestBytes(b []byte) (any, error) {
	return DecodeResponseRequest(bytes.NewReader(b), 0)
}
func marshal(v any) ([]byte, error) { return json.Marshal(v) }
func encodeResponseRequest(v any) ([]byte, error) {
	return EncodeResponseRequest(v.(*ResponseRequest))
}

// TestGolden_DecodeThenEncode decodes every fixture as the receiving side
// does, encodes it again as the sending side does, and compares with
// testdata/golden (run with -update to rewrite). The encoded form must
// decode to the same value: nothing is lost on the way through.
func TestGolden_DecodeThenEncode(t *testing.T) {
	t.Parallel()
	for _, f := range fixtures {
		t.Run(f.file, func(t *testing.T) {
			t.Parallel()
			in, err := os.ReadFile(filepath.Join("testdata", f.file))
			if err != nil {
				t.Fatal(err)
			}
			v, err := f.decode(in)
			if err != nil {
				t.Fatalf("decode(%s) error: %v", f.file, err)
			}
			out, err := f.encode(v)
			if err != nil {
				t.Fatalf("encode error: %v", err)
			}
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, out, "", "  "); err != nil {
				t.Fatalf("encoded JSON is invalid: %v\n%s", err, out)
			}
			pretty.WriteByte('\n')
			golden := filepath.Join("testdata", "golden", f.file)
			if *update {
				if err := os.WriteFile(golden, pretty.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if diff := cmp.Diff(string(want), pretty.String()); diff != "" {
				t.Errorf("encode(decode(%s)) mismatch (-golden +got):\n%s", f.file, diff)
			}
			again, err := f.decode(out)
			if err != nil {
				t.Fatalf("decode(encode(%s)) error: %v", f.file, err)
			}
			if diff := cmp.Diff(normalise(v), normalise(again)); diff != "" {
				t.Errorf("decode(encode(%s)) lost something (-first +second):\n%s", f.file, diff)
			}
		})
	}
}

// normalise compacts raw JSON fields so that a re-encoded state compares
// equal to the original.
func normalise(v any) any {
	compact := func(m json.RawMessage) string {
		var b bytes.Buffer
		_ = json.Compact(&b, m)
		return b.String()
	}
	switch x := v.(type) {
	case *Reply:
		c := *x
		s := compact(c.State)
		c.State = nil
		return struct {
			R     Reply
			State string
		}{c, s}
	case *ResponseRequest:
		c := *x
		s := compact(c.State)
		c.State = nil
		return struct {
			R     ResponseRequest
			State string
		}{c, s}
	}
	return v
}

func TestGolden_KongQuirksDecode(t *testing.T) {
	t.Parallel()
	in, err := os.ReadFile("testdata/request-kong.json")
	if err != nil {
		t.Fatal(err)
	}
	req, err := DecodeRequest(bytes.NewReader(in), 0)
	if err != nil {
		t.Fatal(err)
	}
	if req.SourcePort != 51234 {
		t.Errorf("source_port = %d, want 51234 from the string \"51234\"", req.SourcePort)
	}
	u, err := ParseURL(req.URL)
	if err != nil {
		t.Fatal(err)
	}
	if u.RawQuery != "" || strings.HasSuffix(u.String(), "?") {
		t.Errorf("ParseURL(%q) kept the bare ?: %q", req.URL, u.String())
	}
	if got := req.Headers.Values("X-Tag"); !cmp.Equal(got, []string{"one", "two"}) {
		t.Errorf("Values(x-tag) = %q, want [one two]", got)
	}
	if req.Body != nil {
		t.Errorf("body = %q, want absent", *req.Body)
	}
}
