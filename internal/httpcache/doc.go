// Package httpcache is edgeward's shared HTTP cache: the "cache" stage of
// the pipeline, between the viewer-request function and the origin. The
// edge calls a behavior's Cache only for a request the viewer-request
// function allowed, so a stored object is never served to a request that
// was not authorized; the cache then answers from memory (Hit), after a
// conditional request to the origin (RefreshHit), or through the origin
// (Miss, or Error for a 4xx/5xx), and says which in r.Result, in X-Cache
// ("Hit from edgeward") and, for answers from memory, in Age.
//
// # Policy
//
// The rules are RFC 9111 for a shared cache (plus RFC 5861's stale-*
// extensions and Surrogate-Control), with CloudFront's cache-policy
// controls on top:
//
//   - Freshness: Surrogate-Control max-age (targeted at "edgeward" or at
//     every surrogate) > s-maxage > max-age > Expires - Date, clamped into
//     [min_ttl, max_ttl]. Without any: 10% of the time since Last-Modified
//     for heuristically cacheable statuses (capped at default_ttl, or a
//     day when it is 0); else error_caching_min_ttl (or error_ttls) for
//     4xx/5xx; else default_ttl (24h by default, as in CloudFront).
//   - Not stored: no-store, private, responses to requests that identify
//     the viewer (Authorization, or an identity header the viewer-request
//     function set, such as x-user-id, when that header is not in the key)
//     unless the response is public, s-maxage or must-revalidate (RFC 9111
//     3.5), Set-Cookie (unless
//     cache_set_cookie), Vary: *, 206, bodies over max_object_size,
//     truncated bodies. min_ttl > 0 overrides no-store, no-cache and
//     private, as in CloudFront: use it only for content that is the same
//     for every allowed viewer.
//   - Served stale only within stale-while-revalidate (refreshed once in
//     the background) or stale-if-error (origin unreachable or 500, 502,
//     503, 504), from the response or the behavior's defaults; never for
//     must-revalidate, proxy-revalidate, s-maxage or no-cache.
//   - Revalidation: a stale object with an ETag or Last-Modified is kept
//     for keep_stale and revalidated with If-None-Match/If-Modified-Since;
//     a 304 updates its header fields and freshness.
//   - Viewers' If-None-Match and If-Modified-Since are answered 304 from a
//     fresh object, single byte ranges 206 from a full one; HEAD is served
//     from the GET object. Viewers' Cache-Control request directives are
//     ignored except only-if-cached and no-store, as in CloudFront: a
//     viewer cannot force traffic to the origin.
//   - Unsafe methods (anything but GET, HEAD, OPTIONS, TRACE) with a 2xx or
//     3xx answer invalidate their path and same-origin Location and
//     Content-Location (RFC 9111 4.4).
//
// # Keys and forwarding
//
// A key is the behavior, method class (OPTIONS apart), scheme, host, path,
// the key's query parameters (sorted by name), header values and cookies,
// and with compress the normalised Accept-Encoding; Vary adds the
// request's values for the named headers, normalised.
//
// The forwarding rule (CloudFront's cache policy plus origin request
// policy): on a behavior with caching enabled, a viewer's header reaches
// the origin only if it is in the key, in forward, or owned by the edge
// (set by the edge or by the viewer-request function, e.g. x-user-id, or
// the request id and forwarding headers), or describes the request content
// or its preconditions (Content-Type, If-None-Match, Range...). Query
// parameters and cookies likewise. So a header that is not in the key
// cannot change what is stored: the origin never sees it. Disabling
// caching (enabled: false) forwards the request unchanged. Defaults: the
// whole query is in the key (CloudFront's CachingOptimized keys none, but
// then strips the query from origin requests, which surprises API
// owners), no header and no cookie; so Accept, Accept-Language or a CORS
// Origin reach the origin only when listed in key.headers or forward.
//
// Age is sent on answers from the cache only (RFC 9111 5.1: its presence
// says the response was not just fetched); an origin's Age passes through
// on a miss. Warning, obsoleted by RFC 9111, is neither generated nor
// removed.
//
// # Storage
//
// A Store holds objects for every behavior in one byte-weighted W-TinyLFU
// cache (otter), grouped by decoded path so that invalidating a path, for
// every query, header and behavior, is one removal; a wildcard
// invalidation scans the stored paths (admin invalidations are rare; every
// lookup stays O(1)). An invalidation also bars fills already in flight
// for its paths from storing. Concurrent misses for one key wait for one
// origin request (request collapsing) and are served what it stored; if it
// stored nothing, each goes to the origin itself, never waiting past its
// own request's deadline.
package httpcache
