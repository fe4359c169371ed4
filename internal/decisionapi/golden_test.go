package decisionapi

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/edgeward/edgeward/internal/sideband"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/*.json from the handler's answers")

// TestGolden_Replies sends each testdata/requests/NAME.json (with its
// {{token}} placeholders filled in) to the sideband handler and compares
// the status and body with testdata/golden/NAME.json (go test -update
// rewrites them). The replies are the exact wire shapes of SIDEBAND.md;
// each must also decode with our own client's strict decoder.
func TestGolden_Replies(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	h := f.svc.Handler()
	fill := strings.NewReplacer(
		"{{token}}", f.token(nil),
		"{{token-profile}}", f.token(map[string]any{"scope": "profile"}),
		"{{issuer}}", f.iss.URL(),
	)
	files, err := filepath.Glob(filepath.Join("testdata", "requests", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no request fixtures: %v", err)
	}
	for _, file := range files {
		name := filepath.Base(file)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			in, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			path := sideband.RequestPath
			if strings.HasPrefix(name, "response-") {
				path = sideband.ResponsePath
			}
			w := post(h, path, fill.Replace(string(in)), "CLIENT-TOKEN", cred1, "Correlation-Id", "test-correlation-id")
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, w.Body.Bytes(), "", "  "); err != nil {
				t.Fatalf("answer is not JSON: %v\n%s", err, w.Body)
			}
			got := struct {
				Status int             `json:"status"`
				Body   json.RawMessage `json:"body"`
			}{w.Code, pretty.Bytes()}
			out, _ := json.MarshalIndent(got, "", "  ")
			out = append(out, '\n')
			golden := filepath.Join("testdata", "golden", name)
			if *update {
				if err := os.WriteFile(golden, out, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if diff := cmp.Diff(string(want), string(out)); diff != "" {
				t.Errorf("%s answer (-golden +got):\n%s", name, diff)
			}
			switch {
			case w.Code != 200:
			case path == sideband.ResponsePath:
				if _, err := sideband.DecodeResponse(w.Body.Bytes()); err != nil {
					t.Errorf("DecodeResponse(%s) = %v", name, err)
				}
			default:
				if _, err := sideband.DecodeReply(w.Body.Bytes()); err != nil {
					t.Errorf("DecodeReply(%s) = %v", name, err)
				}
			}
		})
	}
}
