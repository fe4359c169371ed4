// Package cloudfront imports an Amazon CloudFront distribution into an
// edgeward.yaml: `edgeward import cloudfront FILE.json` reads the output
// of `aws cloudfront get-distribution-config` (and, for custom policies,
// of get-cache-policy, get-origin-request-policy and
// get-response-headers-policy) and writes the origins, the ordered cache
// behaviors (the default one last, as "*"), their allowed and cached
// methods, cache, origin request and response headers policies (managed
// ones by name), TTLs and Lambda@Edge viewer-request associations (as the
// built-in authorize function). What has no edgeward counterpart (web
// ACL, geo restriction, field-level encryption, signed URLs, CloudFront
// Functions, ...) is listed in the Result's notes with the reason.
//
// It runs once, before the edge exists: nothing in the request flow
// depends on it.
package cloudfront
