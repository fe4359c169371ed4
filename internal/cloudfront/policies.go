package cloudfront

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/edgeward/edgeward/internal/edge"
	"github.com/edgeward/edgeward/internal/httpcache"
)

// Policies are the custom (not managed) policies a distribution refers to
// by ID, read from the AWS CLI's get-*-policy outputs.
type Policies struct {
	Cache           map[string]*CachePolicy
	OriginRequest   map[string]*OriginRequestPolicy
	ResponseHeaders map[string]*ResponseHeadersPolicy
}

// AddPolicy reads one get-cache-policy, get-origin-request-policy or
// get-response-headers-policy output (or the bare policy object) into p.
func (p *Policies) AddPolicy(data []byte) error {
	var f struct {
		CachePolicy           *CachePolicy           `json:"CachePolicy"`
		OriginRequestPolicy   *OriginRequestPolicy   `json:"OriginRequestPolicy"`
		ResponseHeadersPolicy *ResponseHeadersPolicy `json:"ResponseHeadersPolicy"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	switch {
	case f.CachePolicy != nil && f.CachePolicy.ID != "":
		if p.Cache == nil {
			p.Cache = map[string]*CachePolicy{}
		}
		p.Cache[f.CachePolicy.ID] = f.CachePolicy
	case f.OriginRequestPolicy != nil && f.OriginRequestPolicy.ID != "":
		if p.OriginRequest == nil {
			p.OriginRequest = map[string]*OriginRequestPolicy{}
		}
		p.OriginRequest[f.OriginRequestPolicy.ID] = f.OriginRequestPolicy
	case f.ResponseHeadersPolicy != nil && f.ResponseHeadersPolicy.ID != "":
		if p.ResponseHeaders == nil {
			p.ResponseHeaders = map[string]*ResponseHeadersPolicy{}
		}
		p.ResponseHeaders[f.ResponseHeadersPolicy.ID] = f.ResponseHeadersPolicy
	default:
		return errors.New("not the output of aws cloudfront get-cache-policy, get-origin-request-policy or get-response-headers-policy (no CachePolicy, OriginRequestPolicy or ResponseHeadersPolicy with an Id)")
	}
	return nil
}

// cacheBlock converts a custom cache policy.
func cacheBlock(cp *CachePolicy, notes *notes, key string) *cacheOut {
	c := cp.Config
	k := c.ParametersInCacheKeyAndForwardedToOrigin
	out := &cacheOut{MinTTL: secondsDuration(c.MinTTL)}
	if c.DefaultTTL != nil {
		out.DefaultTTL = secondsDuration(*c.DefaultTTL)
	}
	if c.MaxTTL != nil {
		out.MaxTTL = secondsDuration(*c.MaxTTL)
	}
	out.Key.QueryStrings = selector(k.QueryStringsConfig, notes, key+".QueryStringsConfig")
	out.Key.Cookies = selector(k.CookiesConfig, notes, key+".CookiesConfig")
	switch k.HeadersConfig.HeaderBehavior {
	case "", "none":
	case "whitelist":
		for _, h := range k.HeadersConfig.Headers.Items {
			if strings.EqualFold(h, "Host") {
				notes.add(key+".HeadersConfig", "Host", "the key always holds the host the viewer addressed; not repeated as a header")
				continue
			}
			out.Key.Headers = append(out.Key.Headers, h)
		}
	default:
		notes.add(key+".HeadersConfig.HeaderBehavior", k.HeadersConfig.HeaderBehavior, "not a cache key header behavior edgeward knows; no header in the key")
	}
	out.Compress = k.EnableAcceptEncodingGzip || k.EnableAcceptEncodingBrotli
	return out
}

// forwardBlock converts a custom origin request policy.
func forwardBlock(op *OriginRequestPolicy, notes *notes, key string) *forwardOut {
	c := op.Config
	out := &forwardOut{
		Cookies:      selector(c.CookiesConfig, notes, key+".CookiesConfig"),
		QueryStrings: selector(c.QueryStringsConfig, notes, key+".QueryStringsConfig"),
	}
	h := c.HeadersConfig
	switch h.HeaderBehavior {
	case "", "none":
		out.Headers = httpcache.List{Mode: httpcache.ListNone}
	case "whitelist":
		out.Headers = httpcache.List{Mode: httpcache.ListInclude, Include: withoutHost(h.Headers.Items, notes, key)}
	case "allViewer", "allViewerAndWhitelistCloudFront":
		out.Headers = httpcache.List{Mode: httpcache.ListAll}
		if h.HeaderBehavior != "allViewer" {
			notes.add(key+".HeadersConfig", strings.Join(h.Headers.Items, ", "), "CloudFront-* headers are CloudFront's own; edgeward does not generate them")
		}
	case "allExcept":
		out.Headers = httpcache.List{Mode: httpcache.ListExclude, Exclude: h.Headers.Items}
	default:
		out.Headers = httpcache.List{Mode: httpcache.ListNone}
		notes.add(key+".HeadersConfig.HeaderBehavior", h.HeaderBehavior, "unknown header behavior; no header forwarded")
	}
	return out
}

func withoutHost(names []string, notes *notes, key string) []string {
	var out []string
	for _, n := range names {
		if strings.EqualFold(n, "Host") {
			notes.add(key+".HeadersConfig", "Host", "the origin always gets its own host; the viewer's reaches it as X-Forwarded-Host")
			continue
		}
		out = append(out, n)
	}
	if out == nil {
		out = []string{}
	}
	return out
}

// selector converts a cookie or query string selector.
func selector(s namedSelector, notes *notes, key string) httpcache.List {
	switch s.behavior() {
	case "", "none":
		return httpcache.List{Mode: httpcache.ListNone}
	case "all":
		return httpcache.List{Mode: httpcache.ListAll}
	case "whitelist":
		return httpcache.List{Mode: httpcache.ListInclude, Include: s.names()}
	case "allExcept":
		return httpcache.List{Mode: httpcache.ListExclude, Exclude: s.names()}
	}
	notes.add(key, s.behavior(), "unknown behavior; none used")
	return httpcache.List{Mode: httpcache.ListNone}
}

// responseHeadersBlock converts a custom response headers policy.
func responseHeadersBlock(rp *ResponseHeadersPolicy) *edge.ResponseHeadersConfig {
	c := rp.Config
	out := &edge.ResponseHeadersConfig{}
	if cc := c.CorsConfig; cc != nil {
		methods := cc.AccessControlAllowMethods.Items
		out.CORS = &edge.CORSConfig{
			AllowOrigins:     cc.AccessControlAllowOrigins.Items,
			AllowMethods:     methods,
			AllowHeaders:     cc.AccessControlAllowHeaders.Items,
			ExposeHeaders:    cc.AccessControlExposeHeaders.Items,
			AllowCredentials: cc.AccessControlAllowCredentials,
			OriginOverride:   cc.OriginOverride,
			Preflight:        edge.PreflightOrigin, // as CloudFront: the origin's answer gets the headers
		}
		if cc.AccessControlMaxAgeSec > 0 {
			out.CORS.MaxAge = secondsDuration(cc.AccessControlMaxAgeSec)
		}
	}
	if sc := c.SecurityHeadersConfig; sc != nil {
		s := &out.Security
		if x := sc.XSSProtection; x != nil {
			v := "0"
			if x.Protection {
				v = "1"
				if x.ModeBlock {
					v += "; mode=block"
				}
				if x.ReportURI != "" {
					v += "; report=" + x.ReportURI
				}
			}
			s.XSSProtection = &edge.HeaderValue{Value: v, Override: x.Override}
		}
		if x := sc.FrameOptions; x != nil {
			s.FrameOptions = &edge.HeaderValue{Value: x.FrameOption, Override: x.Override}
		}
		if x := sc.ReferrerPolicy; x != nil {
			s.ReferrerPolicy = &edge.HeaderValue{Value: x.ReferrerPolicy, Override: x.Override}
		}
		if x := sc.ContentSecurityPolicy; x != nil {
			s.ContentSecurityPolicy = &edge.HeaderValue{Value: x.ContentSecurityPolicy, Override: x.Override}
		}
		if x := sc.ContentTypeOptions; x != nil {
			s.ContentTypeOptions = &edge.HeaderValue{Value: "nosniff", Override: x.Override}
		}
		if x := sc.StrictTransportSecurity; x != nil {
			v := "max-age=" + strconv.FormatInt(x.AccessControlMaxAgeSec, 10)
			if x.IncludeSubdomains {
				v += "; includeSubDomains"
			}
			if x.Preload {
				v += "; preload"
			}
			s.StrictTransportSecurity = &edge.HeaderValue{Value: v, Override: x.Override}
		}
	}
	if st := c.ServerTimingHeadersConfig; st != nil && st.Enabled {
		out.ServerTiming = &edge.ServerTimingConfig{Enabled: true, SamplingRate: st.SamplingRate}
	}
	for _, h := range c.CustomHeadersConfig.Items {
		out.Custom = append(out.Custom, edge.CustomHeader{Name: h.Header, Value: h.Value, Override: h.Override})
	}
	for _, h := range c.RemoveHeadersConfig.Items {
		out.Remove = append(out.Remove, h.Header)
	}
	return out
}
