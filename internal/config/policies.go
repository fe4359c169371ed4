package config

import (
	"fmt"
	"strings"

	"github.com/edgeward/edgeward/internal/edge"
	"github.com/edgeward/edgeward/internal/httpcache"
)

// resolvePolicies turns a behavior's managed policies into the blocks they
// stand for, before defaults and validation, as CloudFront attaches them
// to a cache behavior:
//
//   - cache_policy: a managed cache policy by name (CachingOptimized,
//     CachingDisabled, ...); it replaces the cache: block, so the two
//     cannot both be set.
//   - origin_request_policy: a managed origin request policy (AllViewer,
//     CORS-CustomOrigin, ...); it sets what the cache forwards, so it
//     needs a cache (cache_policy or cache:) and a cache: block without
//     forward:.
//   - response_headers_policy: a managed response headers policy
//     (SimpleCORS, SecurityHeadersPolicy, ...), or response_headers: for
//     a custom one; not both.
//
// Names are CloudFront's, with or without "Managed-", or the policies'
// IDs. Problems are recorded in s with the behavior's key.
func (f *Edge) resolvePolicies(s *Source) {
	for i := range f.Behaviors {
		b := &f.Behaviors[i]
		p := fmt.Sprintf("behaviors[%d]", i)
		if b.CachePolicy != "" {
			mp, ok := httpcache.Managed(b.CachePolicy)
			switch {
			case !ok:
				s.Errorf(p+".cache_policy", "unknown managed cache policy %q (known: %s)", b.CachePolicy, managedCacheNames())
			case b.Cache != nil:
				s.Errorf(p+".cache_policy", "cache_policy and cache cannot both be set (a managed policy is complete: copy its values into cache: to change them)")
			default:
				cfg := mp.Config
				b.Cache = &cfg
			}
		}
		if b.OriginRequestPolicy != "" {
			mp, ok := httpcache.ManagedOriginRequest(b.OriginRequestPolicy)
			switch {
			case !ok:
				s.Errorf(p+".origin_request_policy", "unknown managed origin request policy %q (known: %s)", b.OriginRequestPolicy, managedOriginRequestNames())
			case b.Cache == nil:
				s.Errorf(p+".origin_request_policy", "needs cache_policy or cache: (a behavior without a cache forwards the whole request)")
			case b.Cache.Forward.Headers.Mode != "" || b.Cache.Forward.Cookies.Mode != "" || b.Cache.Forward.QueryStrings.Mode != "" ||
				b.Cache.Forward.Headers.Include != nil || b.Cache.Forward.Headers.Exclude != nil:
				s.Errorf(p+".origin_request_policy", "origin_request_policy and cache.forward cannot both be set")
			default:
				b.Cache.Forward = mp.Forward
			}
		}
		if b.ResponseHeadersPolicy != "" {
			mp, ok := edge.ManagedResponseHeaders(b.ResponseHeadersPolicy)
			switch {
			case !ok:
				s.Errorf(p+".response_headers_policy", "unknown managed response headers policy %q (known: %s)", b.ResponseHeadersPolicy, managedHeadersNames())
			case b.ResponseHeaders != nil:
				s.Errorf(p+".response_headers_policy", "response_headers_policy and response_headers cannot both be set")
			default:
				cfg := mp.Config
				b.ResponseHeaders = &cfg
			}
		}
		if b.ResponseHeaders != nil {
			s.Check(p+".response_headers", b.ResponseHeaders.Validate())
		}
	}
}

func managedCacheNames() string {
	var names []string
	for _, p := range httpcache.ManagedPolicies() {
		names = append(names, p.Name)
	}
	return strings.Join(names, ", ")
}

func managedOriginRequestNames() string {
	var names []string
	for _, p := range httpcache.ManagedOriginRequestPolicies() {
		names = append(names, p.Name)
	}
	return strings.Join(names, ", ")
}

func managedHeadersNames() string {
	var names []string
	for _, p := range edge.ManagedResponseHeadersPolicies() {
		names = append(names, p.Name)
	}
	return strings.Join(names, ", ")
}
