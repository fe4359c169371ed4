package httpcache

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/edgeward/edgeward/internal/size"
)

func TestPolicyConfig_DefaultsKeepExplicitZeros(t *testing.T) {
	t.Parallel()
	var c PolicyConfig
	if err := yaml.Unmarshal([]byte("default_ttl: 0s\nerror_caching_min_ttl: 0s\nkeep_stale: 0s\nsurrogate_control: false\n"), &c); err != nil {
		t.Fatal(err)
	}
	c.Defaults()
	if *c.DefaultTTL != 0 || *c.ErrorCachingMinTTL != 0 || *c.KeepStale != 0 || *c.SurrogateControl {
		t.Errorf("explicit zeros lost: default_ttl %v error_caching_min_ttl %v keep_stale %v surrogate_control %v",
			*c.DefaultTTL, *c.ErrorCachingMinTTL, *c.KeepStale, *c.SurrogateControl)
	}
	if !c.Enabled() {
		t.Errorf("Enabled() = false, want true when the block is present")
	}

	var d PolicyConfig
	d.Defaults()
	want := PolicyConfig{
		Enable: ptr(true), DefaultTTL: ptr(24 * time.Hour), MaxTTL: ptr(365 * 24 * time.Hour),
		CachedMethods:      []string{"GET", "HEAD"},
		Key:                KeyConfig{QueryStrings: List{Mode: ListAll}, Cookies: List{Mode: ListNone}},
		Forward:            ForwardConfig{Headers: List{Mode: ListNone}, Cookies: List{Mode: ListNone}, QueryStrings: List{Mode: ListNone}},
		ErrorCachingMinTTL: ptr(10 * time.Second), KeepStale: ptr(10 * time.Minute), SurrogateControl: ptr(true),
		StaleIfUnreachable: ptr(time.Hour),
	}
	if diff := cmp.Diff(want, d); diff != "" {
		t.Errorf("Defaults() mismatch (-want +got):\n%s", diff)
	}
	if err := d.Validate(); err != nil {
		t.Errorf("Validate() of the defaults = %v", err)
	}
}

func TestList_UnmarshalYAML(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    List
		wantErr string
	}{
		{"none", List{Mode: ListNone}, ""},
		{"ALL", List{Mode: ListAll}, ""},
		{"[a, b]", List{Mode: ListInclude, Include: []string{"a", "b"}}, ""},
		{"[]", List{Mode: ListNone}, ""},
		{"{include: [a]}", List{Mode: ListInclude, Include: []string{"a"}}, ""},
		{"{exclude: [utm_source]}", List{Mode: ListExclude, Exclude: []string{"utm_source"}}, ""},
		{"{include: [a], exclude: [b]}", List{}, "include and exclude cannot both be set"},
		{"{only: [a]}", List{}, `unknown key "only"`},
		{"some", List{}, `got "some"`},
	}
	for _, tt := range tests {
		var got List
		err := yaml.Unmarshal([]byte(tt.in), &got)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Unmarshal(%q) error = %v, want one containing %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("Unmarshal(%q) = %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Unmarshal(%q) mismatch (-want +got):\n%s", tt.in, diff)
		}
		out, _ := yaml.Marshal(got)
		var back List
		if err := yaml.Unmarshal(out, &back); err != nil || !cmp.Equal(got, back) {
			t.Errorf("round trip of %q = %+v (%v), want %+v", tt.in, back, err, got)
		}
	}
}

func TestPolicyConfig_ValidateReportsEveryProblem(t *testing.T) {
	t.Parallel()
	c := PolicyConfig{
		MinTTL:        2 * time.Hour,
		MaxTTL:        ptr(time.Hour),
		DefaultTTL:    ptr(-time.Second),
		CachedMethods: []string{"GET", "POST"},
		Key: KeyConfig{
			QueryStrings: List{Mode: "some"},
			Headers:      []string{"ok", "bad header", "Connection", "cookie"},
			Cookies:      List{Mode: ListAll, Include: []string{"x"}},
		},
		Forward:      ForwardConfig{Headers: List{Mode: ListInclude, Include: []string{"te"}}},
		ErrorTTLs:    map[int]time.Duration{200: time.Second, 404: -time.Second},
		StaleIfError: -1,
	}
	c.Defaults()
	err := c.Validate()
	want := []string{
		"min_ttl: 2h0m0s is larger than max_ttl 1h0m0s",
		"default_ttl: must be >= 0",
		`cached_methods[1]: "POST" cannot be cached (want GET, HEAD and optionally OPTIONS)`,
		`key.query_strings: unknown mode "some" (want none, all, include or exclude)`,
		"key.cookies: all takes no names",
		`key.headers[1]: invalid header name "bad header"`,
		"key.headers[2]: Connection is hop-by-hop and never forwarded",
		"key.headers[3]: use key.cookies for cookies",
		"forward.headers.include[0]: te is hop-by-hop and never forwarded",
		"error_ttls.200: not an error status (want 400-599)",
		"error_ttls.404: must be >= 0",
		"stale_if_error: must be >= 0",
	}
	if err == nil {
		t.Fatal("Validate() = nil, want errors")
	}
	if diff := cmp.Diff(want, strings.Split(err.Error(), "\n")); diff != "" {
		t.Errorf("Validate() mismatch (-want +got):\n%s", diff)
	}
}

func TestStoreConfig(t *testing.T) {
	t.Parallel()
	var c StoreConfig
	c.Defaults()
	if c.MaxSize != 256*size.MiB || c.MaxObjectSize != 10*size.MiB {
		t.Errorf("Defaults() = %+v, want 256MiB and 10MiB", c)
	}
	bad := StoreConfig{MaxSize: size.MiB, MaxObjectSize: 2 * size.MiB}
	if err := bad.Validate(); err == nil || err.Error() != "max_object_size: 2MiB is larger than max_size 1MiB" {
		t.Errorf("Validate() = %v, want max_object_size larger than max_size", err)
	}
	if _, err := NewStore(bad, Options{}); err == nil {
		t.Errorf("NewStore accepted %+v", bad)
	}
}

func TestPolicyConfig_DecodesTheDesignExample(t *testing.T) {
	t.Parallel()
	var c PolicyConfig
	src := "{min_ttl: 0s, default_ttl: 60s, max_ttl: 1h, key: {query_strings: all, headers: [], cookies: []}, " +
		"forward: {headers: {include: [accept]}}, error_ttls: {404: 5s}, cached_methods: [GET, HEAD, OPTIONS]}"
	if err := yaml.Unmarshal([]byte(src), &c); err != nil {
		t.Fatal(err)
	}
	c.Defaults()
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate() = %v", err)
	}
	if *c.DefaultTTL != time.Minute || *c.MaxTTL != time.Hour || c.Key.Cookies.Mode != ListNone ||
		c.Forward.Headers.Mode != ListInclude || c.ErrorTTLs[404] != 5*time.Second {
		t.Errorf("decoded %+v", c)
	}
}
