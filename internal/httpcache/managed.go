package httpcache

import (
	"strings"
	"time"
)

// ManagedPolicy is one of CloudFront's managed cache policies, by the name
// and ID AWS publishes ("Use managed cache policies", Amazon CloudFront
// Developer Guide), with its documented settings as a PolicyConfig.
type ManagedPolicy struct {
	Name   string
	ID     string
	Config PolicyConfig
}

// ManagedOriginRequestPolicy is one of CloudFront's managed origin request
// policies ("Use managed origin request policies"): what reaches the
// origin besides the cache key.
type ManagedOriginRequestPolicy struct {
	Name    string
	ID      string
	Forward ForwardConfig
}

// oneYear is CloudFront's 31,536,000-second maximum TTL.
const oneYear = 31536000 * time.Second

// useOriginKeyHeaders are the headers of UseOriginCacheControlHeaders'
// cache key. AWS lists Host first; edgeward's key always holds the host
// the viewer addressed, so it is not repeated as a header.
var useOriginKeyHeaders = []string{"Origin", "X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override"}

func listNone() List { return List{Mode: ListNone} }
func listAll() List  { return List{Mode: ListAll} }

// ManagedPolicies lists the managed cache policies that apply outside
// AWS (Amplify and Elemental-MediaPackage key on AWS services' own
// parameters and are left out).
func ManagedPolicies() []ManagedPolicy {
	optimized := func(compress bool) PolicyConfig {
		return PolicyConfig{MinTTL: time.Second, DefaultTTL: ptr(24 * time.Hour), MaxTTL: ptr(oneYear),
			Key: KeyConfig{QueryStrings: listNone(), Cookies: listNone()}, Compress: compress}
	}
	useOrigin := func(qs List) PolicyConfig {
		return PolicyConfig{MinTTL: 0, DefaultTTL: ptr(time.Duration(0)), MaxTTL: ptr(oneYear),
			Key:      KeyConfig{QueryStrings: qs, Headers: useOriginKeyHeaders, Cookies: listAll()},
			Compress: true}
	}
	return []ManagedPolicy{
		{"CachingDisabled", "4135ea2d-6df8-44a3-9df3-4b5a84be39ad", PolicyConfig{
			MinTTL: 0, DefaultTTL: ptr(time.Duration(0)), MaxTTL: ptr(time.Duration(0)),
			Key: KeyConfig{QueryStrings: listNone(), Cookies: listNone()}}},
		{"CachingOptimized", "658327ea-f89d-4fab-a63d-7e88639e58f6", optimized(true)},
		{"CachingOptimizedForUncompressedObjects", "b2884449-e4de-46a7-ac36-70bc7f1ddd6d", optimized(false)},
		{"UseOriginCacheControlHeaders", "83da9c7e-98b4-4e11-a168-04f0df8e2c65", useOrigin(listNone())},
		{"UseOriginCacheControlHeaders-QueryStrings", "4cc15a8a-d715-48a4-82b8-cc0b614638fe", useOrigin(listAll())},
	}
}

// ManagedOriginRequestPolicies lists the managed origin request policies
// that apply outside AWS. The viewer's Host never replaces the origin's
// in edgeward (it reaches the origin as X-Forwarded-Host), so AllViewer
// and AllViewerExceptHostHeader forward the same; CloudFront-* headers
// are CloudFront's own and are not generated.
func ManagedOriginRequestPolicies() []ManagedOriginRequestPolicy {
	headers := func(names ...string) ForwardConfig {
		return ForwardConfig{Headers: List{Mode: ListInclude, Include: names}, Cookies: listNone(), QueryStrings: listNone()}
	}
	everything := ForwardConfig{Headers: listAll(), Cookies: listAll(), QueryStrings: listAll()}
	return []ManagedOriginRequestPolicy{
		{"AllViewer", "216adef6-5c7f-47e4-b989-5492eafa07d3", everything},
		{"AllViewerAndCloudFrontHeaders-2022-06", "33f36d7e-f396-46d9-90e0-52428a34d9dc", everything},
		{"AllViewerExceptHostHeader", "b689b0a8-53d0-40ab-baf2-68738e2966ac", everything},
		{"CORS-CustomOrigin", "59781a5b-3903-41f3-afcb-af62929ccde1", headers("Origin")},
		{"CORS-S3Origin", "88a5eaf4-2fd4-4709-b370-b4c650ea3fcf", headers("Origin", "Access-Control-Request-Headers", "Access-Control-Request-Method")},
		{"UserAgentRefererHeaders", "acba4595-bd28-49b8-b9fe-13317c0390fa", headers("User-Agent", "Referer")},
	}
}

// Managed returns the managed cache policy with name (with or without
// CloudFront's "Managed-" prefix, any case) or ID.
func Managed(name string) (ManagedPolicy, bool) {
	n := strings.TrimPrefix(name, "Managed-")
	for _, p := range ManagedPolicies() {
		if strings.EqualFold(p.Name, n) || p.ID == name {
			return p, true
		}
	}
	return ManagedPolicy{}, false
}

// ManagedOriginRequest returns the managed origin request policy with name
// (with or without "Managed-", any case) or ID.
func ManagedOriginRequest(name string) (ManagedOriginRequestPolicy, bool) {
	n := strings.TrimPrefix(name, "Managed-")
	for _, p := range ManagedOriginRequestPolicies() {
		if strings.EqualFold(p.Name, n) || p.ID == name {
			return p, true
		}
	}
	return ManagedOriginRequestPolicy{}, false
}
