package cloudfront

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/edgeward/edgeward/internal/edge"
	"github.com/edgeward/edgeward/internal/httpcache"
)

// CredentialEnv is the environment variable the imported file reads the
// gateway credential from, when a behavior had a Lambda@Edge
// viewer-request function.
const CredentialEnv = "EDGEWARD_GATEWAY_CREDENTIAL"

// DecisionURL is the decision service the imported authorize function
// calls: `edgeward decision serve`'s default address.
const DecisionURL = "http://127.0.0.1:8081"

// Note is one thing the import could not map, or mapped only in part.
type Note struct {
	// Key is where it is in the distribution, e.g.
	// "CacheBehaviors.Items[2].TrustedKeyGroups".
	Key string
	// Value is what was there, shortened.
	Value string
	// Why says why it is not mapped and what to do instead.
	Why string
}

// String formats the note for the report.
func (n Note) String() string {
	if n.Value == "" {
		return n.Key + ": " + n.Why
	}
	return fmt.Sprintf("%s (%s): %s", n.Key, n.Value, n.Why)
}

type notes []Note

func (n *notes) add(key, value, why string) {
	if len(value) > 80 {
		value = value[:77] + "..."
	}
	*n = append(*n, Note{Key: key, Value: value, Why: why})
}

// Result is an imported distribution.
type Result struct {
	// YAML is the edgeward.yaml.
	YAML []byte
	// Notes is what was not mapped, in distribution order.
	Notes []Note
	// Behaviors are the path patterns of the behaviors written, in order
	// (the last is "*", CloudFront's default cache behavior).
	Behaviors []string
}

// ParseDistribution reads the output of `aws cloudfront
// get-distribution-config` (or get-distribution, or a bare
// DistributionConfig).
func ParseDistribution(data []byte) (*Distribution, error) {
	var f distributionFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	d := f.DistributionConfig
	if d == nil && f.Distribution != nil {
		d = f.Distribution.DistributionConfig
	}
	if d == nil {
		var bare Distribution
		if err := json.Unmarshal(data, &bare); err == nil && bare.DefaultCacheBehavior != nil {
			d = &bare
		}
	}
	if d == nil {
		return nil, errors.New("no DistributionConfig: want the output of aws cloudfront get-distribution-config --id ID")
	}
	if d.DefaultCacheBehavior == nil {
		return nil, errors.New("DistributionConfig has no DefaultCacheBehavior")
	}
	if len(d.Origins.Items) == 0 {
		return nil, errors.New("DistributionConfig has no Origins")
	}
	return d, nil
}

// The edgeward.yaml written: the file's keys, in the file's order, with
// nothing that the defaults already say.
type fileOut struct {
	Listen    string                 `yaml:"listen"`
	Origins   map[string]originOut   `yaml:"origins"`
	Behaviors []behaviorOut          `yaml:"behaviors"`
	Functions map[string]functionOut `yaml:"functions,omitempty"`
}

type originOut struct {
	URL             string            `yaml:"url"`
	ProtocolPolicy  string            `yaml:"protocol_policy,omitempty"`
	HTTPPort        int               `yaml:"http_port,omitempty"`
	HTTPSPort       int               `yaml:"https_port,omitempty"`
	ConnectTimeout  time.Duration     `yaml:"connect_timeout,omitempty"`
	ResponseTimeout time.Duration     `yaml:"response_timeout,omitempty"`
	IdleTimeout     time.Duration     `yaml:"idle_timeout,omitempty"`
	CustomHeaders   map[string]string `yaml:"custom_headers,omitempty"`
}

type behaviorOut struct {
	PathPattern           string                      `yaml:"path_pattern"`
	Origin                string                      `yaml:"origin"`
	AllowedMethods        []string                    `yaml:"allowed_methods,flow"`
	ViewerRequest         string                      `yaml:"viewer_request,omitempty"`
	CachePolicy           string                      `yaml:"cache_policy,omitempty"`
	OriginRequestPolicy   string                      `yaml:"origin_request_policy,omitempty"`
	ResponseHeadersPolicy string                      `yaml:"response_headers_policy,omitempty"`
	Cache                 *cacheOut                   `yaml:"cache,omitempty"`
	ResponseHeaders       *edge.ResponseHeadersConfig `yaml:"response_headers,omitempty"`
}

type cacheOut struct {
	MinTTL        time.Duration         `yaml:"min_ttl"`
	DefaultTTL    time.Duration         `yaml:"default_ttl"`
	MaxTTL        time.Duration         `yaml:"max_ttl"`
	CachedMethods []string              `yaml:"cached_methods,flow,omitempty"`
	Key           keyOut                `yaml:"key"`
	Compress      bool                  `yaml:"compress,omitempty"`
	Forward       *forwardOut           `yaml:"forward,omitempty"`
	ErrorTTLs     map[int]time.Duration `yaml:"error_ttls,omitempty"`
}

type keyOut struct {
	QueryStrings httpcache.List `yaml:"query_strings"`
	Headers      []string       `yaml:"headers,flow,omitempty"`
	Cookies      httpcache.List `yaml:"cookies"`
}

type forwardOut struct {
	Headers      httpcache.List `yaml:"headers"`
	Cookies      httpcache.List `yaml:"cookies"`
	QueryStrings httpcache.List `yaml:"query_strings"`
}

type functionOut struct {
	ServiceURL        string `yaml:"service_url"`
	SecretHeaderValue string `yaml:"secret_header_value"`
}

// Convert turns a distribution, and the custom policies it refers to,
// into an edgeward.yaml listening on listen, and the notes of what could
// not be mapped.
func Convert(d *Distribution, p Policies, listen string) (*Result, error) {
	c := &converter{d: d, p: p, originIDs: map[string]string{}}
	out := fileOut{Listen: listen, Origins: map[string]originOut{}}
	c.distributionNotes()
	for i, o := range d.Origins.Items {
		id, oo := c.origin(fmt.Sprintf("Origins.Items[%d]", i), o)
		out.Origins[id] = oo
	}
	for i := range d.CacheBehaviors.Items {
		out.Behaviors = append(out.Behaviors, c.behavior(fmt.Sprintf("CacheBehaviors.Items[%d]", i), &d.CacheBehaviors.Items[i], false))
	}
	out.Behaviors = append(out.Behaviors, c.behavior("DefaultCacheBehavior", d.DefaultCacheBehavior, true))
	if c.authorize {
		out.Functions = map[string]functionOut{"authorize": {ServiceURL: DecisionURL, SecretHeaderValue: "${" + CredentialEnv + "}"}}
		c.notes.add("LambdaFunctionAssociations", "viewer-request", fmt.Sprintf(
			"mapped to viewer_request: authorize, calling the decision service at %s (edgeward decision serve) with the gateway credential from $%s; set it before edgeward validate or serve",
			DecisionURL, CredentialEnv))
	}
	var buf bytes.Buffer
	buf.WriteString("# Imported from a CloudFront distribution by `edgeward import cloudfront`.\n")
	if d.Comment != "" {
		fmt.Fprintf(&buf, "# Distribution comment: %s\n", strings.ReplaceAll(d.Comment, "\n", " "))
	}
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(out); err != nil {
		return nil, fmt.Errorf("write YAML: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("write YAML: %w", err)
	}
	res := &Result{YAML: buf.Bytes(), Notes: c.notes}
	for _, b := range out.Behaviors {
		res.Behaviors = append(res.Behaviors, b.PathPattern)
	}
	return res, nil
}

type converter struct {
	d         *Distribution
	p         Policies
	notes     notes
	originIDs map[string]string // CloudFront origin id -> edgeward id
	authorize bool
}

func (c *converter) distributionNotes() {
	d := c.d
	if d.Enabled != nil && !*d.Enabled {
		c.notes.add("Enabled", "false", "the distribution is disabled; the imported edge serves once started")
	}
	if len(d.Aliases.Items) > 0 {
		c.notes.add("Aliases", strings.Join(d.Aliases.Items, ", "), "edgeward answers for any host: point these names at it in DNS")
	}
	if vc := d.ViewerCertificate; vc != nil && !vc.CloudFrontDefaultCertificate {
		c.notes.add("ViewerCertificate", vc.ACMCertificateArn+vc.IAMCertificateID, "certificates stay in ACM/IAM: export one and set tls.cert_file and tls.key_file")
	}
	if d.WebACLID != "" {
		c.notes.add("WebACLId", d.WebACLID, "AWS WAF web ACLs are not imported: configure edgeward's protections (IP sets, rate rules, WAF with the OWASP CRS)")
	}
	if r := d.Restrictions; r != nil && r.GeoRestriction.RestrictionType != "" && r.GeoRestriction.RestrictionType != "none" {
		c.notes.add("Restrictions.GeoRestriction", r.GeoRestriction.RestrictionType, "geo restriction needs a GeoIP database edgeward does not have; not mapped")
	}
	if l := d.Logging; l != nil && l.Enabled {
		c.notes.add("Logging", l.Bucket, "standard logs go to S3; edgeward writes the same fields to logging.access_log (stdout by default)")
	}
	if d.DefaultRootObject != "" {
		c.notes.add("DefaultRootObject", d.DefaultRootObject, "not mapped: the origin answers /")
	}
	if len(d.OriginGroups.Items) > 0 {
		c.notes.add("OriginGroups", strconv.Itoa(len(d.OriginGroups.Items)), "origin failover groups are not mapped: behaviors go to the primary origin named in TargetOriginId when it is an origin; a group id is reported there")
	}
	for i, e := range d.CustomErrorResponses.Items {
		if e.ResponsePagePath != "" || e.ResponseCode != "" {
			c.notes.add(fmt.Sprintf("CustomErrorResponses.Items[%d]", i), strconv.Itoa(e.ErrorCode)+" -> "+e.ResponsePagePath,
				"custom error pages are not mapped (the error caching TTL is, as cache.error_ttls)")
		}
	}
	if d.ContinuousDeploymentPolicyID != "" || d.Staging {
		c.notes.add("ContinuousDeploymentPolicyId", d.ContinuousDeploymentPolicyID, "staging distributions are not mapped")
	}
	if d.HTTPVersion != "" && strings.Contains(d.HTTPVersion, "3") {
		c.notes.add("HttpVersion", d.HTTPVersion, "edgeward serves HTTP/1.1 and, with tls:, HTTP/2; not HTTP/3")
	}
	if d.PriceClass != "" && d.PriceClass != "PriceClass_All" {
		c.notes.add("PriceClass", d.PriceClass, "edge locations are wherever edgeward runs")
	}
}

var idChars = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// originID turns a CloudFront origin id into an edgeward one (letters,
// digits, - and _), unique in the file.
func (c *converter) originID(cf string) string {
	if id, ok := c.originIDs[cf]; ok {
		return id
	}
	id := strings.Trim(idChars.ReplaceAllString(cf, "-"), "-_")
	if id == "" {
		id = "origin"
	}
	base := id
	for n := 2; slices.Contains(mapValues(c.originIDs), id); n++ {
		id = base + "-" + strconv.Itoa(n)
	}
	c.originIDs[cf] = id
	return id
}

func mapValues(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

func (c *converter) origin(key string, o Origin) (string, originOut) {
	id := c.originID(o.ID)
	if id != o.ID {
		c.notes.add(key+".Id", o.ID, "renamed "+id+": edgeward origin ids are letters, digits, - and _")
	}
	path := strings.TrimSuffix(o.OriginPath, "/")
	out := originOut{}
	scheme, port := "https", 0
	switch co := o.CustomOriginConfig; {
	case co != nil:
		switch co.OriginProtocolPolicy {
		case "http-only":
			scheme = "http"
			if co.HTTPPort != 0 && co.HTTPPort != 80 {
				port = co.HTTPPort
			}
		case "match-viewer":
			out.ProtocolPolicy = "match-viewer"
			if co.HTTPPort != 0 && co.HTTPPort != 80 {
				out.HTTPPort = co.HTTPPort
			}
			if co.HTTPSPort != 0 && co.HTTPSPort != 443 {
				out.HTTPSPort = co.HTTPSPort
			}
		default: // https-only
			if co.HTTPSPort != 0 && co.HTTPSPort != 443 {
				port = co.HTTPSPort
			}
		}
		if co.OriginReadTimeout > 0 {
			out.ResponseTimeout = secondsDuration(int64(co.OriginReadTimeout))
		}
		if co.OriginKeepaliveTimeout > 0 {
			out.IdleTimeout = secondsDuration(int64(co.OriginKeepaliveTimeout))
		}
	case o.S3OriginConfig != nil:
		if o.S3OriginConfig.OriginAccessIdentity != "" || o.OriginAccessControlID != "" {
			c.notes.add(key, o.DomainName, "S3 origin access (OAI/OAC) signs requests with AWS credentials edgeward does not have: make the objects readable to edgeward, or put an S3 website or a signing proxy in front")
		}
	}
	if o.VpcOriginConfig != nil {
		c.notes.add(key+".VpcOriginConfig", o.VpcOriginConfig.VpcOriginID, "VPC origins are reachable only from CloudFront: point the URL at an address edgeward can reach")
	}
	host := o.DomainName
	if port != 0 {
		host = net.JoinHostPort(host, strconv.Itoa(port))
	}
	out.URL = scheme + "://" + host + path
	if o.ConnectionTimeout > 0 {
		out.ConnectTimeout = secondsDuration(int64(o.ConnectionTimeout))
	}
	if o.ConnectionAttempts > 1 {
		c.notes.add(key+".ConnectionAttempts", strconv.Itoa(o.ConnectionAttempts), "edgeward connects once per request; not mapped")
	}
	if o.OriginShield != nil && o.OriginShield.Enabled {
		c.notes.add(key+".OriginShield", "enabled", "no Origin Shield tier; the Redis-backed shared cache tier plays that part across nodes")
	}
	for _, h := range o.CustomHeaders.Items {
		if out.CustomHeaders == nil {
			out.CustomHeaders = map[string]string{}
		}
		out.CustomHeaders[h.HeaderName] = h.HeaderValue
	}
	return id, out
}

// methodOrder is the order edgeward's examples list methods in.
var methodOrder = []string{"GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"}

func sortMethods(ms []string) []string {
	var out []string
	for _, m := range methodOrder {
		if slices.ContainsFunc(ms, func(x string) bool { return strings.EqualFold(x, m) }) {
			out = append(out, m)
		}
	}
	return out
}

func (c *converter) behavior(key string, b *CacheBehavior, isDefault bool) behaviorOut {
	out := behaviorOut{PathPattern: "*", AllowedMethods: []string{"GET", "HEAD"}}
	if !isDefault {
		out.PathPattern = b.PathPattern
		if !strings.HasPrefix(out.PathPattern, "/") && !strings.HasPrefix(out.PathPattern, "*") {
			out.PathPattern = "/" + out.PathPattern // CloudFront's leading / is optional
		}
	}
	if id, ok := c.originIDs[b.TargetOriginID]; ok {
		out.Origin = id
	} else {
		out.Origin = c.originIDs[c.d.Origins.Items[0].ID]
		c.notes.add(key+".TargetOriginId", b.TargetOriginID, "not an origin (an origin group?): the behavior goes to "+out.Origin+" instead")
	}
	var cached []string
	if am := b.AllowedMethods; am != nil && len(am.Items) > 0 {
		out.AllowedMethods = sortMethods(am.Items)
		cached = sortMethods(am.CachedMethods.Items)
	}
	switch b.ViewerProtocolPolicy {
	case "", "allow-all":
	default:
		c.notes.add(key+".ViewerProtocolPolicy", b.ViewerProtocolPolicy, "edgeward serves the scheme of its listener (tls: for HTTPS), not per behavior")
	}
	c.functions(key, b, &out)
	c.cache(key, b, &out, cached)
	c.responseHeaders(key, b, &out)
	if b.TrustedSigners != nil && b.TrustedSigners.Enabled || b.TrustedKeyGroups != nil && b.TrustedKeyGroups.Enabled {
		c.notes.add(key+".TrustedKeyGroups", "enabled", "signed URLs and cookies are not verified by edgeward: the viewer-request function (authorize) is the access control")
	}
	if b.FieldLevelEncryptionID != "" {
		c.notes.add(key+".FieldLevelEncryptionId", b.FieldLevelEncryptionID, "field-level encryption is not available; not mapped")
	}
	if b.RealtimeLogConfigArn != "" {
		c.notes.add(key+".RealtimeLogConfigArn", b.RealtimeLogConfigArn, "real-time logs go to Kinesis; edgeward's access log and metrics carry the same fields")
	}
	if b.SmoothStreaming {
		c.notes.add(key+".SmoothStreaming", "true", "not mapped")
	}
	if b.Compress {
		c.notes.add(key+".Compress", "true", "edgeward does not compress; with a policy that caches compressed objects, the origin's gzip and br answers are cached apart")
	}
	return out
}

func (c *converter) functions(key string, b *CacheBehavior, out *behaviorOut) {
	for i, a := range b.LambdaFunctionAssociations.Items {
		k := fmt.Sprintf("%s.LambdaFunctionAssociations.Items[%d]", key, i)
		if a.EventType == "viewer-request" {
			out.ViewerRequest = "authorize"
			c.authorize = true
			continue
		}
		c.notes.add(k, a.EventType+" "+a.LambdaFunctionARN, "only viewer-request functions are mapped (to the built-in authorize function)")
	}
	for i, a := range b.FunctionAssociations.Items {
		c.notes.add(fmt.Sprintf("%s.FunctionAssociations.Items[%d]", key, i), a.EventType+" "+a.FunctionARN,
			"CloudFront Functions (JavaScript) are not run by edgeward; not mapped")
	}
}

func (c *converter) cache(key string, b *CacheBehavior, out *behaviorOut, cached []string) {
	options := slices.Contains(cached, "OPTIONS")
	var block *cacheOut
	switch {
	case b.CachePolicyID != "":
		if mp, ok := httpcache.Managed(b.CachePolicyID); ok {
			if !options {
				out.CachePolicy = mp.Name
				break
			}
			block = managedBlock(mp.Config) // cached_methods needs the block
		} else if cp := c.p.Cache[b.CachePolicyID]; cp != nil {
			block = cacheBlock(cp, &c.notes, key+".CachePolicyId")
		} else {
			c.notes.add(key+".CachePolicyId", b.CachePolicyID, "a custom cache policy that was not given (add --policy with the output of aws cloudfront get-cache-policy --id "+b.CachePolicyID+"): this behavior is written without caching")
			if b.OriginRequestPolicyID != "" {
				c.notes.add(key+".OriginRequestPolicyId", b.OriginRequestPolicyID, "needs a cache policy: the whole request is forwarded")
			}
			return
		}
	case b.ForwardedValues != nil || b.MinTTL != nil:
		block = legacyBlock(b, &c.notes, key)
	default:
		return
	}
	if block != nil && options {
		block.CachedMethods = cached
	}
	if block != nil {
		c.errorTTLs(block)
	} else if len(c.errorCodes()) > 0 {
		mp, _ := httpcache.Managed(out.CachePolicy)
		block = managedBlock(mp.Config)
		c.errorTTLs(block)
		out.CachePolicy = ""
	}
	if b.OriginRequestPolicyID != "" {
		if mp, ok := httpcache.ManagedOriginRequest(b.OriginRequestPolicyID); ok {
			if block == nil {
				out.OriginRequestPolicy = mp.Name
			} else {
				block.Forward = &forwardOut{Headers: mp.Forward.Headers, Cookies: mp.Forward.Cookies, QueryStrings: mp.Forward.QueryStrings}
			}
		} else if op := c.p.OriginRequest[b.OriginRequestPolicyID]; op != nil {
			fwd := forwardBlock(op, &c.notes, key+".OriginRequestPolicyId")
			if block == nil {
				mp, _ := httpcache.Managed(out.CachePolicy)
				block = managedBlock(mp.Config)
				out.CachePolicy = ""
			}
			block.Forward = fwd
		} else {
			c.notes.add(key+".OriginRequestPolicyId", b.OriginRequestPolicyID, "a custom origin request policy that was not given (add --policy with the output of aws cloudfront get-origin-request-policy --id "+b.OriginRequestPolicyID+"): only the cache key is forwarded")
		}
	}
	out.Cache = block
}

// errorCodes are the distribution's error caching TTLs by status.
func (c *converter) errorCodes() map[int]time.Duration {
	m := map[int]time.Duration{}
	for _, e := range c.d.CustomErrorResponses.Items {
		if e.ErrorCachingMinTTL != nil && e.ErrorCode >= 400 && e.ErrorCode <= 599 {
			m[e.ErrorCode] = secondsDuration(*e.ErrorCachingMinTTL)
		}
	}
	return m
}

func (c *converter) errorTTLs(block *cacheOut) {
	if m := c.errorCodes(); len(m) > 0 {
		block.ErrorTTLs = m
	}
}

// managedBlock writes a managed cache policy's values as a cache: block.
func managedBlock(p httpcache.PolicyConfig) *cacheOut {
	return &cacheOut{
		MinTTL: p.MinTTL, DefaultTTL: *p.DefaultTTL, MaxTTL: *p.MaxTTL,
		Key:      keyOut{QueryStrings: p.Key.QueryStrings, Headers: p.Key.Headers, Cookies: p.Key.Cookies},
		Compress: p.Compress,
	}
}

// legacyBlock converts ForwardedValues and the behavior's own TTLs
// (distributions made before cache policies). In that model whatever is
// forwarded is also in the key.
func legacyBlock(b *CacheBehavior, notes *notes, key string) *cacheOut {
	out := &cacheOut{MinTTL: 0, DefaultTTL: 24 * time.Hour, MaxTTL: 365 * 24 * time.Hour}
	if b.MinTTL != nil {
		out.MinTTL = secondsDuration(*b.MinTTL)
	}
	if b.DefaultTTL != nil {
		out.DefaultTTL = secondsDuration(*b.DefaultTTL)
	}
	if b.MaxTTL != nil {
		out.MaxTTL = secondsDuration(*b.MaxTTL)
	}
	out.Key.QueryStrings = httpcache.List{Mode: httpcache.ListNone}
	out.Key.Cookies = httpcache.List{Mode: httpcache.ListNone}
	fv := b.ForwardedValues
	if fv == nil {
		return out
	}
	if fv.QueryString {
		out.Key.QueryStrings = httpcache.List{Mode: httpcache.ListAll}
		if len(fv.QueryStringCacheKeys.Items) > 0 {
			out.Key.QueryStrings = httpcache.List{Mode: httpcache.ListInclude, Include: fv.QueryStringCacheKeys.Items}
			out.Forward = &forwardOut{Headers: httpcache.List{Mode: httpcache.ListNone}, Cookies: httpcache.List{Mode: httpcache.ListNone},
				QueryStrings: httpcache.List{Mode: httpcache.ListAll}}
		}
	}
	switch fv.Cookies.Forward {
	case "all":
		out.Key.Cookies = httpcache.List{Mode: httpcache.ListAll}
	case "whitelist":
		out.Key.Cookies = httpcache.List{Mode: httpcache.ListInclude, Include: fv.Cookies.WhitelistedNames.Items}
	}
	for _, h := range fv.Headers.Items {
		switch {
		case h == "*":
			// Every header in the key: CloudFront caches nothing useful.
			notes.add(key+".ForwardedValues.Headers", "*", "all headers forwarded: written as no caching (min, default and max TTL 0) with everything forwarded")
			return &cacheOut{Key: keyOut{QueryStrings: httpcache.List{Mode: httpcache.ListNone}, Cookies: httpcache.List{Mode: httpcache.ListNone}},
				Forward: &forwardOut{Headers: httpcache.List{Mode: httpcache.ListAll}, Cookies: httpcache.List{Mode: httpcache.ListAll}, QueryStrings: httpcache.List{Mode: httpcache.ListAll}}}
		case strings.EqualFold(h, "Host"):
			notes.add(key+".ForwardedValues.Headers", "Host", "the key always holds the host; the origin gets its own host (the viewer's as X-Forwarded-Host)")
		default:
			out.Key.Headers = append(out.Key.Headers, h)
		}
	}
	if out.MinTTL > out.MaxTTL {
		out.MaxTTL = out.MinTTL
	}
	out.DefaultTTL = min(max(out.DefaultTTL, out.MinTTL), out.MaxTTL)
	return out
}

func (c *converter) responseHeaders(key string, b *CacheBehavior, out *behaviorOut) {
	id := b.ResponseHeadersPolicyID
	if id == "" {
		return
	}
	if mp, ok := edge.ManagedResponseHeaders(id); ok {
		out.ResponseHeadersPolicy = mp.Name
		return
	}
	if rp := c.p.ResponseHeaders[id]; rp != nil {
		out.ResponseHeaders = responseHeadersBlock(rp)
		return
	}
	c.notes.add(key+".ResponseHeadersPolicyId", id, "a custom response headers policy that was not given (add --policy with the output of aws cloudfront get-response-headers-policy --id "+id+"); not mapped")
}

func secondsDuration(s int64) time.Duration {
	const most = int64(100 * 365 * 24 * 3600)
	return time.Duration(min(max(s, 0), most)) * time.Second
}
