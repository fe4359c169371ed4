package httpcache

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestManagedPolicies pins every managed cache policy to the settings AWS
// documents ("Use managed cache policies", Amazon CloudFront Developer
// Guide): ID, minimum, default and maximum TTL, cache key and the cache
// compressed objects setting.
func TestManagedPolicies(t *testing.T) {
	t.Parallel()
	year := 31536000 * time.Second
	type want struct {
		id             string
		min, def, max  time.Duration
		query, cookies string
		headers        []string
		compress       bool
	}
	useOrigin := []string{"Origin", "X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override"}
	wants := map[string]want{
		"CachingDisabled":                           {"4135ea2d-6df8-44a3-9df3-4b5a84be39ad", 0, 0, 0, ListNone, ListNone, nil, false},
		"CachingOptimized":                          {"658327ea-f89d-4fab-a63d-7e88639e58f6", time.Second, 24 * time.Hour, year, ListNone, ListNone, nil, true},
		"CachingOptimizedForUncompressedObjects":    {"b2884449-e4de-46a7-ac36-70bc7f1ddd6d", time.Second, 24 * time.Hour, year, ListNone, ListNone, nil, false},
		"UseOriginCacheControlHeaders":              {"83da9c7e-98b4-4e11-a168-04f0df8e2c65", 0, 0, year, ListNone, ListAll, useOrigin, true},
		"UseOriginCacheControlHeaders-QueryStrings": {"4cc15a8a-d715-48a4-82b8-cc0b614638fe", 0, 0, year, ListAll, ListAll, useOrigin, true},
	}
	got := ManagedPolicies()
	if len(got) != len(wants) {
		t.Fatalf("%d managed cache policies, want %d", len(got), len(wants))
	}
	for _, p := range got {
		w, ok := wants[p.Name]
		if !ok {
			t.Errorf("unexpected managed cache policy %q", p.Name)
			continue
		}
		c := p.Config
		if p.ID != w.id || c.MinTTL != w.min || *c.DefaultTTL != w.def || *c.MaxTTL != w.max ||
			c.Key.QueryStrings.Mode != w.query || c.Key.Cookies.Mode != w.cookies || c.Compress != w.compress ||
			!cmp.Equal(c.Key.Headers, w.headers) {
			t.Errorf("%s = %s min %v default %v max %v query %s cookies %s headers %v compress %v, want %+v",
				p.Name, p.ID, c.MinTTL, *c.DefaultTTL, *c.MaxTTL, c.Key.QueryStrings.Mode, c.Key.Cookies.Mode, c.Key.Headers, c.Compress, w)
		}
		c.Defaults()
		if err := c.Validate(); err != nil {
			t.Errorf("%s does not validate: %v", p.Name, err)
		}
		for _, name := range []string{p.Name, "Managed-" + p.Name, p.ID} {
			if q, ok := Managed(name); !ok || q.Name != p.Name {
				t.Errorf("Managed(%q) = %q, %v", name, q.Name, ok)
			}
		}
	}
}

// TestManagedOriginRequestPolicies pins the managed origin request
// policies ("Use managed origin request policies").
func TestManagedOriginRequestPolicies(t *testing.T) {
	t.Parallel()
	all := ForwardConfig{Headers: List{Mode: ListAll}, Cookies: List{Mode: ListAll}, QueryStrings: List{Mode: ListAll}}
	only := func(h ...string) ForwardConfig {
		return ForwardConfig{Headers: List{Mode: ListInclude, Include: h}, Cookies: List{Mode: ListNone}, QueryStrings: List{Mode: ListNone}}
	}
	wants := map[string]struct {
		id  string
		fwd ForwardConfig
	}{
		"AllViewer":                             {"216adef6-5c7f-47e4-b989-5492eafa07d3", all},
		"AllViewerAndCloudFrontHeaders-2022-06": {"33f36d7e-f396-46d9-90e0-52428a34d9dc", all},
		"AllViewerExceptHostHeader":             {"b689b0a8-53d0-40ab-baf2-68738e2966ac", all},
		"CORS-CustomOrigin":                     {"59781a5b-3903-41f3-afcb-af62929ccde1", only("Origin")},
		"CORS-S3Origin":                         {"88a5eaf4-2fd4-4709-b370-b4c650ea3fcf", only("Origin", "Access-Control-Request-Headers", "Access-Control-Request-Method")},
		"UserAgentRefererHeaders":               {"acba4595-bd28-49b8-b9fe-13317c0390fa", only("User-Agent", "Referer")},
	}
	got := ManagedOriginRequestPolicies()
	if len(got) != len(wants) {
		t.Fatalf("%d managed origin request policies, want %d", len(got), len(wants))
	}
	for _, p := range got {
		w, ok := wants[p.Name]
		if !ok {
			t.Errorf("unexpected managed origin request policy %q", p.Name)
			continue
		}
		if p.ID != w.id {
			t.Errorf("%s: ID %s, want %s", p.Name, p.ID, w.id)
		}
		if diff := cmp.Diff(w.fwd, p.Forward); diff != "" {
			t.Errorf("%s mismatch (-want +got):\n%s", p.Name, diff)
		}
		if q, ok := ManagedOriginRequest("Managed-" + p.Name); !ok || q.Name != p.Name {
			t.Errorf("ManagedOriginRequest(Managed-%s) = %q, %v", p.Name, q.Name, ok)
		}
	}
}
