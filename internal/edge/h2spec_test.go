package edge

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// h2specUpstream are the h2spec cases only Go's HTTP/2 server can change
// (docs/security.md, "HTTP/2 conformance", says why for each).
var h2specUpstream = []string{
	"http2/6.5.3/1",   // duplicate settings in one frame: net/http hangs up (golang/go#56760)
	"http2/8.1.2.2/1", // connection-specific header: net/http answers 400 (golang/go#26321)
	"http2/8.1.2.2/2", // TE other than trailers: net/http answers 400 (golang/go#26321)
}

// readingOrigin reads the whole request body before it answers, as the
// reverse proxy in front of a real origin does: h2spec's flow-control and
// content-length cases expect the server to read what it is sent.
type readingOrigin struct{}

func (readingOrigin) Forward(w http.ResponseWriter, r *Request) error {
	if _, err := io.Copy(io.Discard, r.HTTP.Body); err != nil {
		return err
	}
	_, err := io.WriteString(w, "ok")
	return err
}

// TestH2Spec runs the h2spec HTTP/2 conformance suite against a real edge
// on loopback, over TLS and over h2c. Every case passes except those in
// h2specUpstream. It needs h2spec on PATH (`make h2spec` installs it; CI
// does).
func TestH2Spec(t *testing.T) {
	bin, err := exec.LookPath("h2spec")
	if err != nil {
		if os.Getenv("EDGEWARD_REQUIRE_TOOLS") == "1" {
			t.Fatal("h2spec not on PATH: go install github.com/summerwind/h2spec/cmd/h2spec@v2.2.1+incompatible")
		}
		t.Skip("h2spec not on PATH: go install github.com/summerwind/h2spec/cmd/h2spec@v2.2.1+incompatible (or make h2spec)")
	}
	certFile, keyFile, _ := writeTestCert(t)
	tests := []struct {
		name string
		cfg  Config
		args []string
	}{
		{"tls", Config{TLS: TLSConfig{CertFile: certFile, KeyFile: keyFile}}, []string{"-t", "-k"}},
		{"h2c", Config{H2C: true}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := startEdge(t, tt.cfg, []Behavior{{PathPattern: "*", Origin: readingOrigin{}, AllowedMethods: []string{"GET", "HEAD", "POST"}}}, Options{})
			_, port, _ := net.SplitHostPort(e.addr)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			report := filepath.Join(t.TempDir(), "h2spec.xml")
			args := append([]string{"-h", "127.0.0.1", "-p", port, "-o", "3", "-j", report}, tt.args...)
			out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
			cases, rerr := readH2SpecReport(report)
			if rerr != nil {
				t.Fatalf("h2spec %s: %v; report: %v; output:\n%s", strings.Join(args, " "), err, rerr, out)
			}
			var passed, failed []string
			for _, c := range cases {
				switch {
				case c.failed && slices.Contains(h2specUpstream, c.id):
				case c.failed:
					failed = append(failed, c.id+" "+c.desc+": "+c.why)
				case slices.Contains(h2specUpstream, c.id):
					passed = append(passed, c.id)
				}
			}
			t.Logf("h2spec over %s: %d cases; %d fail as documented for Go's HTTP/2 server", tt.name, len(cases), len(h2specUpstream)-len(passed))
			if len(cases) < 145 {
				t.Errorf("h2spec ran %d cases, want 145", len(cases))
			}
			if len(failed) > 0 {
				t.Errorf("h2spec over %s: %d cases fail:\n%s", tt.name, len(failed), strings.Join(failed, "\n"))
			}
			if len(passed) > 0 {
				t.Errorf("h2spec over %s: %v pass now: remove them from h2specUpstream and docs/security.md", tt.name, passed)
			}
		})
	}
}

// h2specCase is one case of an h2spec JUnit report.
type h2specCase struct {
	id, desc, why string // id: "http2/6.5.3/1"
	failed        bool
}

func readH2SpecReport(path string) ([]h2specCase, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r struct {
		Suites []struct {
			Package string `xml:"package,attr"`
			Cases   []struct {
				Desc    string  `xml:"classname,attr"`
				Error   *string `xml:"error"`
				Failure *string `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var cases []h2specCase
	for _, s := range r.Suites {
		for i, c := range s.Cases {
			hc := h2specCase{id: fmt.Sprintf("%s/%d", s.Package, i+1), desc: c.Desc}
			for _, e := range []*string{c.Error, c.Failure} {
				if e != nil {
					hc.failed, hc.why = true, strings.ReplaceAll(*e, "\n", "; ")
				}
			}
			cases = append(cases, hc)
		}
	}
	return cases, nil
}
