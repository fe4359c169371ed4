package config

import (
	"strings"
	"testing"
)

const fleetBase = `
origins:
  api: {url: "http://127.0.0.1:9"}
behaviors:
  - path_pattern: "/cached/*"
    origin: api
    cache: {default_ttl: 60s}
  - path_pattern: "*"
    origin: api
`

func TestParseEdge_Fleet(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		yaml  string
		want  []string // substrings of the error, in order; none for a valid file
		check func(t *testing.T, f *Edge)
	}{
		{
			name: "absent: a single node",
			check: func(t *testing.T, f *Edge) {
				if f.Fleet != nil {
					t.Errorf("Fleet = %+v, want nil without a fleet section", f.Fleet)
				}
			},
		},
		{
			name: "password from the environment, defaults applied",
			yaml: "fleet:\n  redis: {url: \"rediss://edge:${REDIS_PASSWORD}@redis:6380\"}\n  node: a\n  shared_tier: {enabled: true, behaviors: [\"/cached/*\"]}\n",
			check: func(t *testing.T, f *Edge) {
				if !strings.Contains(f.Fleet.Redis.URL, ":s3cret@") || f.Fleet.Stream != "edgeward:invalidations" || f.Fleet.DisconnectBound == 0 {
					t.Errorf("fleet = %+v, want the password expanded and defaults", f.Fleet)
				}
			},
		},
		{
			name: "unknown key with its line",
			yaml: "fleet:\n  redis: {address: \"127.0.0.1:6379\"}\n  nodes: a\n",
			want: []string{"t.yaml:12: fleet.nodes: unknown key"},
		},
		{
			name: "no redis",
			yaml: "fleet:\n  node: a\n",
			want: []string{"fleet.redis: url or address is required"},
		},
		{
			name: "tier behavior must exist and cache",
			yaml: "fleet:\n  redis: {address: \"127.0.0.1:6379\"}\n  node: a\n  shared_tier: {enabled: true, behaviors: [\"/nope/*\", \"*\"]}\n",
			want: []string{`fleet.shared_tier.behaviors[0]: no behavior has path_pattern "/nope/*"`, `fleet.shared_tier.behaviors[1]: behavior "*" does not cache`},
		},
		{
			name: "tier objects no larger than the local cache's",
			yaml: "cache: {max_object_size: 1MiB}\nfleet:\n  redis: {address: \"127.0.0.1:6379\"}\n  node: a\n  shared_tier: {max_object_size: 2MiB}\n",
			want: []string{"fleet.shared_tier.max_object_size: 2MiB is larger than cache.max_object_size 1MiB"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, err := ParseEdge("t.yaml", []byte(fleetBase+tc.yaml), env(map[string]string{"REDIS_PASSWORD": "s3cret"}))
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("ParseEdge() = %v, want nil", err)
				}
				tc.check(t, f)
				return
			}
			if err == nil {
				t.Fatalf("ParseEdge() = nil, want %q", tc.want)
			}
			msg := err.Error()
			for _, w := range tc.want {
				i := strings.Index(msg, w)
				if i < 0 {
					t.Fatalf("ParseEdge() = %v\nwant it to contain %q", err, w)
				}
				msg = msg[i+len(w):]
			}
		})
	}
}
