package config

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParseEdge: any input either loads or fails with Problems, each
// naming the file, and none leaking a Go type name; it never panics.
func FuzzParseEdge(f *testing.F) {
	f.Add([]byte(minimalEdge))
	f.Add([]byte("- listen: x\n"))
	f.Add([]byte("origins:\n  - a\nbehaviors: x\n"))
	f.Add([]byte("listen: a\n---\nlisten: b\n"))
	f.Add([]byte(minimalEdge + "    cache: {max_ttl: -1s, key: {query_strings: {include: [a], exclude: [b]}}}\n"))
	f.Add([]byte("limits: {max_body_bytes: -5, max_connections: abc}\ntls: {cert_file: /nonexistent, key_file: /nonexistent}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := ParseEdge("f.yaml", data, env(map[string]string{"X": "1"}))
		if err == nil {
			return
		}
		var ps Problems
		if !errors.As(err, &ps) {
			t.Fatalf("ParseEdge error %T %v, want Problems", err, err)
		}
		for _, p := range ps {
			if p.File != "f.yaml" {
				t.Errorf("problem %q names file %q", p, p.File)
			}
			for _, leak := range []string{"config.Edge", "origin.Config", "httpcache.", "authorizer.Config", "map[string]"} {
				if strings.Contains(p.Msg, leak) {
					t.Errorf("problem %q leaks %q", p, leak)
				}
			}
		}
	})
}

// FuzzDetectKind never panics and answers one of the two kinds.
func FuzzDetectKind(f *testing.F) {
	f.Add([]byte(minimalEdge))
	f.Add([]byte("decision: {}\n"))
	f.Add([]byte("[1, 2"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if k := detectKind(data); k != KindEdge && k != KindDecision {
			t.Fatalf("detectKind = %q", k)
		}
	})
}
