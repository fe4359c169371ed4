package config

import (
	"strings"
	"testing"
)

// TestParseEdge_BehaviorErrorsFromTheEdgeWithLines pins that behavior
// patterns and methods are checked by the edge's own rules at validation
// time, each error with its YAML line.
func TestParseEdge_BehaviorErrorsFromTheEdgeWithLines(t *testing.T) {
	t.Parallel()
	const head = "listen: 127.0.0.1:0\norigins:\n  a:\n    url: http://127.0.0.1:1\nbehaviors:\n"
	tests := []struct {
		name      string
		behaviors string
		want      []string
	}{
		{
			name:      "pattern the edge refuses",
			behaviors: "  - path_pattern: /a%2Fb\n    origin: a\n  - path_pattern: '*'\n    origin: a\n",
			want:      []string{`e.yaml:6: behaviors[0].path_pattern: "/a%2Fb"`},
		},
		{
			name:      "same pattern twice",
			behaviors: "  - path_pattern: /x\n    origin: a\n  - path_pattern: x\n    origin: a\n  - path_pattern: '*'\n    origin: a\n",
			want:      []string{`e.yaml:8: behaviors[1].path_pattern: "x" is the same pattern as behaviors[0]`},
		},
		{
			name:      "last is not the default",
			behaviors: "  - path_pattern: /x\n    origin: a\n",
			want:      []string{`e.yaml:6: behaviors[0].path_pattern: the last behavior is the default one`},
		},
		{
			name:      "method that is not a token, and CONNECT",
			behaviors: "  - path_pattern: '*'\n    origin: a\n    allowed_methods: [GET, 'GE T', CONNECT]\n",
			want:      []string{`e.yaml:8: behaviors[0].allowed_methods: "GE T" is not an HTTP method`, `CONNECT is never served`},
		},
		{
			name:      "unknown origin stays the file's check",
			behaviors: "  - path_pattern: '*'\n    origin: b\n",
			want:      []string{`e.yaml:7: behaviors[0].origin: unknown origin "b" (known: a)`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseEdge("e.yaml", []byte(head+tt.behaviors), env(nil))
			if err == nil {
				t.Fatalf("ParseEdge = nil error, want %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("ParseEdge error = %q, want it to contain %q", err, w)
				}
			}
		})
	}
}

func TestParseEdge_ExtensionMethodAccepted(t *testing.T) {
	t.Parallel()
	y := "listen: 127.0.0.1:0\norigins:\n  a:\n    url: http://127.0.0.1:1\nbehaviors:\n  - path_pattern: '*'\n    origin: a\n    allowed_methods: [get, propfind]\n"
	f, err := ParseEdge("e.yaml", []byte(y), env(nil))
	if err != nil {
		t.Fatalf("ParseEdge = %v", err)
	}
	if got := strings.Join(f.Behaviors[0].AllowedMethods, ","); got != "GET,PROPFIND" {
		t.Errorf("allowed_methods = %s, want GET,PROPFIND", got)
	}
}
