package edge

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestManagedResponseHeadersPolicies pins every managed response headers
// policy to the values AWS documents ("Use managed response headers
// policies", Amazon CloudFront Developer Guide): the IDs, and for each
// header its value and whether it overrides the origin's.
func TestManagedResponseHeadersPolicies(t *testing.T) {
	t.Parallel()
	security := SecurityHeaders{
		ReferrerPolicy:          &HeaderValue{Value: "strict-origin-when-cross-origin"},
		StrictTransportSecurity: &HeaderValue{Value: "max-age=31536000"},
		ContentTypeOptions:      &HeaderValue{Value: "nosniff", Override: true},
		FrameOptions:            &HeaderValue{Value: "SAMEORIGIN"},
		XSSProtection:           &HeaderValue{Value: "1; mode=block"},
	}
	simple := &CORSConfig{AllowOrigins: []string{"*"}, Preflight: PreflightOrigin}
	withPreflight := &CORSConfig{AllowOrigins: []string{"*"},
		AllowMethods: []string{"DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"},
		AllowHeaders: []string{"*"}, Preflight: PreflightOrigin}
	want := map[string]struct {
		id  string
		cfg ResponseHeadersConfig
	}{
		"CORS-and-SecurityHeadersPolicy":                {"e61eb60c-9c35-4d20-a928-2b84e02af89c", ResponseHeadersConfig{CORS: simple, Security: security}},
		"CORS-With-Preflight":                           {"5cc3b908-e619-4b99-88e5-2cf7f45965bd", ResponseHeadersConfig{CORS: withPreflight}},
		"CORS-with-preflight-and-SecurityHeadersPolicy": {"eaab4381-ed33-4a86-88ca-d9558dc6cd63", ResponseHeadersConfig{CORS: withPreflight, Security: security}},
		"SecurityHeadersPolicy":                         {"67f7725c-6f97-4210-82d7-5512b31e9d03", ResponseHeadersConfig{Security: security}},
		"SimpleCORS":                                    {"60669652-455b-4ae9-85a4-c4c02393f86c", ResponseHeadersConfig{CORS: simple}},
	}
	got := ManagedResponseHeadersPolicies()
	if len(got) != len(want) {
		t.Fatalf("%d managed policies, want %d", len(got), len(want))
	}
	for _, p := range got {
		w, ok := want[p.Name]
		if !ok {
			t.Errorf("unexpected managed policy %q", p.Name)
			continue
		}
		if p.ID != w.id {
			t.Errorf("%s: ID %s, want %s", p.Name, p.ID, w.id)
		}
		if diff := cmp.Diff(w.cfg, p.Config); diff != "" {
			t.Errorf("%s mismatch (-want +got):\n%s", p.Name, diff)
		}
		if _, err := NewResponseHeaders(p.Config); err != nil {
			t.Errorf("%s does not compile: %v", p.Name, err)
		}
		for _, name := range []string{p.Name, "Managed-" + p.Name, p.ID} {
			if q, ok := ManagedResponseHeaders(name); !ok || q.Name != p.Name {
				t.Errorf("ManagedResponseHeaders(%q) = %q, %v", name, q.Name, ok)
			}
		}
	}
	if _, ok := ManagedResponseHeaders("CORS-Allow-All-Origins"); ok {
		t.Error("CORS-Allow-All-Origins is not an AWS managed policy (SimpleCORS allows all origins)")
	}
}
