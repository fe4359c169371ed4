package edge

import "strings"

// ManagedResponseHeadersPolicy is one of CloudFront's managed response
// headers policies, by the name and ID AWS publishes ("Use managed
// response headers policies", Amazon CloudFront Developer Guide).
type ManagedResponseHeadersPolicy struct {
	Name string
	ID   string
	// Config is the policy's documented values. CORS preflights go on to
	// the origin and get the headers added, as in CloudFront.
	Config ResponseHeadersConfig
}

// managedCORSMethods are the methods of CORS-With-Preflight, as AWS lists
// them.
var managedCORSMethods = []string{"DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"}

func simpleCORS() *CORSConfig {
	return &CORSConfig{AllowOrigins: []string{"*"}, Preflight: PreflightOrigin}
}

func preflightCORS() *CORSConfig {
	return &CORSConfig{AllowOrigins: []string{"*"}, AllowMethods: managedCORSMethods,
		AllowHeaders: []string{"*"}, Preflight: PreflightOrigin}
}

// managedSecurity is SecurityHeadersPolicy: only X-Content-Type-Options
// overrides the origin's value.
func managedSecurity() SecurityHeaders {
	return SecurityHeaders{
		ReferrerPolicy:          &HeaderValue{Value: "strict-origin-when-cross-origin"},
		StrictTransportSecurity: &HeaderValue{Value: "max-age=31536000"},
		ContentTypeOptions:      &HeaderValue{Value: "nosniff", Override: true},
		FrameOptions:            &HeaderValue{Value: "SAMEORIGIN"},
		XSSProtection:           &HeaderValue{Value: "1; mode=block"},
	}
}

// ManagedResponseHeadersPolicies lists the managed response headers
// policies, in AWS's order.
func ManagedResponseHeadersPolicies() []ManagedResponseHeadersPolicy {
	return []ManagedResponseHeadersPolicy{
		{"CORS-and-SecurityHeadersPolicy", "e61eb60c-9c35-4d20-a928-2b84e02af89c",
			ResponseHeadersConfig{CORS: simpleCORS(), Security: managedSecurity()}},
		{"CORS-With-Preflight", "5cc3b908-e619-4b99-88e5-2cf7f45965bd",
			ResponseHeadersConfig{CORS: preflightCORS()}},
		{"CORS-with-preflight-and-SecurityHeadersPolicy", "eaab4381-ed33-4a86-88ca-d9558dc6cd63",
			ResponseHeadersConfig{CORS: preflightCORS(), Security: managedSecurity()}},
		{"SecurityHeadersPolicy", "67f7725c-6f97-4210-82d7-5512b31e9d03",
			ResponseHeadersConfig{Security: managedSecurity()}},
		{"SimpleCORS", "60669652-455b-4ae9-85a4-c4c02393f86c",
			ResponseHeadersConfig{CORS: simpleCORS()}},
	}
}

// ManagedResponseHeaders returns the managed policy with name (with or
// without CloudFront's "Managed-" prefix, any case) or ID.
func ManagedResponseHeaders(name string) (ManagedResponseHeadersPolicy, bool) {
	n := strings.TrimPrefix(name, "Managed-")
	for _, p := range ManagedResponseHeadersPolicies() {
		if strings.EqualFold(p.Name, n) || p.ID == name {
			return p, true
		}
	}
	return ManagedResponseHeadersPolicy{}, false
}
