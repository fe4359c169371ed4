package authorizer

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/edgeward/edgeward/internal/sideband"
)

// headersOf reads "name: value" lines into a header list.
func headersOf(s string) sideband.Headers {
	var hs sideband.Headers
	for line := range strings.SplitSeq(s, "\n") {
		if name, value, ok := strings.Cut(line, ":"); ok {
			hs = append(hs, sideband.Header{Name: name, Value: strings.TrimSpace(value)})
		}
	}
	return hs
}

// FuzzHeaderChanges pins that the scanning comparison of headerChanges
// (short lists, no maps) gives exactly what grouping by name gives.
func FuzzHeaderChanges(f *testing.F) {
	for _, seed := range [][2]string{
		{"host: a\naccept: x\nauthorization: Bearer t", "host: a\naccept: x\nx-user-id: alice"},
		{"a: 1\na: 2\nB: 3", "A: 1\nb: 3\na: 2"},
		{"a: 1\na: 2", "a: 2\na: 1"},
		{"connection: x\nclient-token: c", "te: y"},
		{"a: 1", "a: 1\na: 1"},
		{"", "x: \\x01"},
		{"Host: a\nHOST: b", "host: c"},
	} {
		f.Add(seed[0], seed[1])
	}
	a := &Authorizer{credHeader: "Client-Token"}
	f.Fuzz(func(t *testing.T, sentText, gotText string) {
		sent, got := headersOf(sentText), headersOf(gotText)
		if len(sent)+len(got) > maxScanHeaders {
			t.Skip("long lists take the grouped path anyway")
		}
		c1, d1, err1 := a.headerChanges(sent, got)
		c2, d2, err2 := a.headerChangesGrouped(sent, got)
		if sameHeaders(sent, got) {
			c2, d2, err2 = nil, nil, nil
		}
		if (err1 == nil) != (err2 == nil) {
			t.Fatalf("errors differ: scan %v, grouped %v", err1, err2)
		}
		if err1 != nil {
			return
		}
		opt := cmp.AllowUnexported(change{})
		if diff := cmp.Diff(c2, c1, opt); diff != "" {
			t.Errorf("changes differ (-grouped +scan):\n%s", diff)
		}
		if diff := cmp.Diff(d2, d1); diff != "" {
			t.Errorf("dropped differ (-grouped +scan):\n%s", diff)
		}
	})
}
