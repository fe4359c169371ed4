package config

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

const diffBase = `
listen: 127.0.0.1:8080
trusted_proxies: [10.0.0.0/8]
limits: {max_body_bytes: 1MiB}
origins:
  a: {url: "http://127.0.0.1:9000", protocol_policy: http-only}
  b: {url: "http://127.0.0.1:9001", protocol_policy: http-only}
behaviors:
  - {path_pattern: "*", origin: a}
`

func TestChanges_NamesEveryChangedKeyAndNoOther(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, edit string
		want       []string
		restart    []string
	}{
		{"nothing", diffBase, nil, nil},
		{"listen", `
listen: 127.0.0.1:8081
trusted_proxies: [10.0.0.0/8]
limits: {max_body_bytes: 1MiB}
origins:
  a: {url: "http://127.0.0.1:9000", protocol_policy: http-only}
  b: {url: "http://127.0.0.1:9001", protocol_policy: http-only}
behaviors:
  - {path_pattern: "*", origin: a}
`, []string{"listen"}, []string{"listen"}},
		{"inline section, map entry removed, list", `
listen: 127.0.0.1:8080
trusted_proxies: [10.0.0.0/8, 192.0.2.1]
limits: {max_body_bytes: 2MiB}
origins:
  a: {url: "http://127.0.0.1:9002", protocol_policy: http-only}
behaviors:
  - {path_pattern: "*", origin: a}
`, []string{"trusted_proxies", "limits.max_body_bytes", "origins.a.url", "origins.b"}, nil},
	}
	old, err := ParseEdge("old.yaml", []byte(diffBase), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			nf, err := ParseEdge("new.yaml", []byte(tt.edit), env(nil))
			if err != nil {
				t.Fatal(err)
			}
			got := Changes(old, nf)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Changes() mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.restart, RestartRequired(got)); diff != "" {
				t.Errorf("RestartRequired() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRestartRequired_MatchesKeysBelowAnEntry(t *testing.T) {
	t.Parallel()
	got := RestartRequired([]string{"logging.format", "logging.level", "listen", "listener", "behaviors"})
	if diff := cmp.Diff([]string{"logging.format", "listen"}, got); diff != "" {
		t.Errorf("RestartRequired() mismatch (-want +got):\n%s", diff)
	}
}
