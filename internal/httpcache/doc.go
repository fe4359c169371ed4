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
// extensions, RFC 9213's targeted fields and Surrogate-Control), with
// CloudFront's cache-policy controls on top:
//
//   - Which field speaks: the first of Edgeward-Cache-Control (edgeward's
//     own targeted field, RFC 9213 2.1), CDN-Cache-Control (RFC 9213) that
//     is present and parses as a Structured Field Dictionary replaces
//     Cache-Control and Surrogate-Control entirely for the cache's own
//     decisions (so CDN-Cache-Control: max-age=60 stores a response that
//     Cache-Control calls private); a targeted field that does not parse
//     is ignored whole, and a directive of the wrong type (max-age="60",
//     max-age=1.5, no-store=?0) is ignored alone. Otherwise Surrogate-
//     Control (targeted at "edgeward", else untargeted) sets the lifetime
//     ahead of Cache-Control. Every one of these fields reaches the viewer
//     unchanged.
//   - Freshness: Surrogate-Control max-age > s-maxage > max-age >
//     Expires minus Date, clamped into [min_ttl, max_ttl]. Expires, Date and
//     Last-Modified are read by the HTTP-date grammar of RFC 9110 5.6.7
//     exactly (http.ParseTime accepts more); an Expires that is not a
//     valid HTTP-date means already expired (RFC 9111 5.3). max_ttl: 0s
//     stores nothing (CloudFront's CachingDisabled); a max_ttl left out is
//     365 days. Without any: 10% of the time since Last-Modified
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
//     the background), stale-if-error (origin unreachable or 500, 502,
//     503, 504), from the response or the behavior's defaults, or
//     stale_if_unreachable (1h by default: the origin could not be reached
//     at all, RFC 9111 4.2.4; CloudFront documents that it keeps serving
//     expired objects while a custom origin is unavailable); never for
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
// on a miss. An origin's Age list counts by its first member and an
// invalid Age (abc, -1, 1.5, 10;x=1) is ignored, as RFC 9111 5.1 asks.
// Warning, obsoleted by RFC 9111, is neither generated nor removed.
// Informational responses (102, 103) are relayed to the viewer as they
// arrive, on a miss as on a behavior without a cache, and never stored.
//
// # Where the cache-tests suite (0.4.5) and the RFCs disagree
//
// `make conformance` runs the suite; edgeward follows the RFC where the
// suite expects otherwise, and loses these required tests for it:
//
//   - age-parse-nonnumeric, -negative, -float, -parameter,
//     -numeric-parameter: the suite wants an invalid Age to make the
//     response stale; RFC 9111 5.1 says a cache SHOULD ignore it.
//   - age-parse-prefix-twoline, -dup-0, -dup-0-twoline, -dup-old: the
//     suite wants an Age list to make the response stale; RFC 9111 5.1
//     says a cache SHOULD use the first member.
//   - stale-close-must-revalidate, -proxy-revalidate, -no-cache,
//     -s-maxage=2: edgeward answers 502 as RFC 9111 4.2.4 requires, but
//     the suite can tell a cached answer from a fresh one only by its
//     origin's request counter, which an answer to a dropped connection
//     cannot carry; these fail for any cache that serves stale on a
//     dropped connection (stale-close), and by dependency for one that
//     does not.
//
// One more fails by design elsewhere in the edge: headers-store-Transfer-
// Encoding (an origin response with Transfer-Encoding other than exactly
// chunked is refused, never passed on). The suite's run allows the
// extension method M-SEARCH on its behavior (any RFC 9110 token may be
// allowed), so the invalidate-M-SEARCH tests check that an unsafe
// extension method invalidates, as RFC 9111 4.4 requires; a behavior
// that does not allow a method answers it with 405. Score: 151 of 165
// required, 87 of 95 optimal.
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
