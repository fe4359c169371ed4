// Package fleet makes several edges one distribution, on a shared Redis
// (or Valkey): what CloudFront's edge locations share.
//
// # Place in the request flow
//
// A fleet adds nothing to a request's path unless the shared tier is on:
// the viewer request, behavior, viewer-request function and local cache
// (internal/httpcache) run as on a single node. What it adds:
//
//   - Invalidations. POST /invalidations on any node is applied to that
//     node's cache at once, then appended to a Redis Stream (XADD); every
//     node follows the stream from its own position and applies each entry
//     to its local cache, and records the position it reached under a key
//     that expires with its heartbeat. GET /invalidations/ID on any node
//     shows, per live node, whether it applied the entry (CloudFront's
//     InProgress/Completed). A node that lost Redis replays the stream from
//     its position when it is back; when it cannot prove it saw every entry
//     (the stream was trimmed past its position, Redis lost its data, or it
//     was away longer than disconnect_bound) it drops its whole local cache
//     instead. Invalidations accepted while Redis is away are queued and
//     published, in order, once it is back.
//   - The shared tier (Tier, httpcache.Tier): on a local miss of a covered
//     behavior the cache looks in Redis before the origin, and stores there
//     what it stores locally; one node per object fetches it from the origin
//     while the others wait for it (a short lock per key). httpcache makes
//     every caching decision; this package only keeps bytes.
//   - Counters: fleet-wide rate counters (GCRA, redis_rate) for the
//     protections' rate rules, which fall back to local limiters on error.
//
// Redis is never on the path of correctness or availability: with Redis
// away, nodes serve from their local cache and the origin, the shared tier
// is bypassed without waiting for a timeout, and counters report an error
// at once.
//
// # Redis keys
//
// Every key starts with key_prefix (P): P:invalidations (the stream),
// P:epoch (identifies the dataset: a Redis that lost its data has a new
// one), P:nodes (a sorted set of node names by last heartbeat),
// P:alive:NODE (the node's position, expiring after three heartbeats),
// P:inv:ID (an invalidation's stream entry, one day), P:t:PATH (the shared
// tier's objects of one path, a hash by cache key), P:tgen (bumped by
// prefix invalidations), P:lock:HASH (fill locks) and P:rate:KEY
// (counters). The scripts touch several keys at once: a single Redis (with
// replicas and Sentinel) or Valkey, not Redis Cluster.
package fleet
