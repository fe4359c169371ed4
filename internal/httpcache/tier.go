package httpcache

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/edgeward/edgeward/internal/edge"
	"github.com/edgeward/edgeward/internal/hop"
)

// Tier is a second cache tier shared by a fleet of edges (CloudFront's
// regional edge cache): on a local miss a Cache looks there before the
// origin, and what it stores locally it also stores there. The cache
// decides everything (what may be stored, for how long, which variant a
// request gets); a Tier only keeps opaque objects by path and key. Any
// error makes the cache fall back to the origin: a Tier is never on the
// path of an error page. Implemented by fleet.Tier.
type Tier interface {
	// Load returns the object stored for path and key (Data nil when
	// there is none) and the token a later Store must present.
	Load(ctx context.Context, path, key string) (TierObject, error)
	// Store keeps data under path and key for ttl, unless path was
	// invalidated since the Load that returned token.
	Store(ctx context.Context, path, key string, data []byte, ttl time.Duration, token string) error
	// Lock takes the fleet-wide lock for filling key. held is false when
	// another node holds it; unlock releases a held lock.
	Lock(ctx context.Context, key string) (unlock func(), held bool, err error)
	// Wait waits, for a bounded time, for another node to store path and
	// key, and returns what is stored then (Data nil if nothing came).
	Wait(ctx context.Context, path, key string) (TierObject, error)
	// Invalidate removes every object of path (an unsafe request's
	// invalidation, RFC 9111 4.4).
	Invalidate(ctx context.Context, path string) error
}

// TierObject is an object as a Tier returns it.
type TierObject struct {
	// Data is the object as the cache encoded it; nil for none.
	Data []byte
	// Elapsed is the time since it was stored, by the tier's own clock
	// (so that Age does not depend on the nodes' clocks agreeing).
	Elapsed time.Duration
	// Token goes with a later Store.
	Token string
}

// tierState is the tier a Store uses and for which behaviors.
type tierState struct {
	t         Tier
	covers    func(behavior string) bool
	maxObject int64
}

// SetTier makes t the shared second tier of the behaviors for which
// covers returns true (every behavior when covers is nil). Objects with a
// body over maxObject bytes are kept out of it (they stay in the local
// cache when its own limit allows). nil removes the tier.
func (s *Store) SetTier(t Tier, covers func(behavior string) bool, maxObject int64) {
	if t == nil {
		s.tier.Store(nil)
		return
	}
	if covers == nil {
		covers = func(string) bool { return true }
	}
	s.tier.Store(&tierState{t: t, covers: covers, maxObject: maxObject})
}

// tierLease is what a fill owes the tier: the token for storing, and the
// fleet-wide lock when it holds it.
type tierLease struct {
	ts     *tierState
	token  string
	unlock func()
}

// fromTier is the tier's part of a fill, before the origin: it serves r
// from the tier when the tier holds a fresh object for it (true), or
// returns the lease the fill stores with. Only this node's leader for key
// gets here (local collapsing comes first); across nodes, the one that
// takes the lock goes to the origin while the others wait for what it
// stores, and go to the origin themselves if nothing comes in time.
func (c *Cache) fromTier(w http.ResponseWriter, r *edge.Request, path, key string, gen0 uint64) (*tierLease, bool) {
	ts := c.s.tier.Load()
	if ts == nil || r.HTTP.Method != http.MethodGet || !ts.covers(c.behavior) {
		return nil, false
	}
	ctx := r.HTTP.Context()
	obj, err := ts.t.Load(ctx, path, key)
	if err != nil {
		return nil, false
	}
	if c.serveTier(w, r, path, key, gen0, obj) {
		return nil, true
	}
	lease := &tierLease{ts: ts, token: obj.Token}
	unlock, held, err := ts.t.Lock(ctx, key)
	switch {
	case err != nil:
		return nil, false
	case held:
		lease.unlock = unlock
		return lease, false
	}
	if obj, err = ts.t.Wait(ctx, path, key); err != nil {
		return nil, false
	}
	if c.serveTier(w, r, path, key, gen0, obj) {
		return nil, true
	}
	lease.token = obj.Token
	return lease, false
}

// serveTier serves r from obj if it is a fresh object for r's variant,
// and keeps it in the local cache.
func (c *Cache) serveTier(w http.ResponseWriter, r *edge.Request, path, key string, gen0 uint64, obj TierObject) bool {
	if obj.Data == nil {
		return false
	}
	now := c.s.now()
	e, err := decodeTier(obj.Data, obj.Elapsed, now)
	if err != nil || !e.usable(now) || !e.fresh(now) || e.revalidate {
		return false
	}
	if len(e.vary) > 0 && string(c.appendVarySig(nil, r, e.vary)) != e.varySig {
		return false
	}
	if c.s.insert(path, key, e, gen0, now) {
		c.m.stored.Inc()
	}
	c.serveEntry(w, r, e, now, edge.ResultHit)
	return true
}

// store puts e, just stored locally, into the tier too.
func (l *tierLease) store(r *edge.Request, path, key string, e *entry, now time.Time) {
	if l == nil || int64(len(e.body)) > l.ts.maxObject {
		return
	}
	ttl := time.Duration(e.removeAt - now.UnixNano())
	if ttl <= 0 {
		return
	}
	ctx := context.WithoutCancel(r.HTTP.Context())
	_ = l.ts.t.Store(ctx, path, key, encodeTier(e, now), ttl, l.token)
}

// release gives the fleet-wide lock back.
func (l *tierLease) release() {
	if l != nil && l.unlock != nil {
		l.unlock()
	}
}

// invalidatePath removes path's objects locally and from the tier (an
// unsafe request's invalidation).
func (c *Cache) invalidatePath(r *edge.Request, path string) {
	c.s.invalidatePath(path)
	if ts := c.s.tier.Load(); ts != nil {
		_ = ts.t.Invalidate(context.WithoutCancel(r.HTTP.Context()), path)
	}
}

// tierVersion is the first byte of every encoded object; an object of
// another version is a miss.
const tierVersion = 1

// tierMeta is an entry's metadata as stored in the tier: everything the
// cache computed when it stored the object, so that the node reading it
// applies the same freshness and Vary rules without recomputing them.
type tierMeta struct {
	Status       int           `json:"s"`
	Header       http.Header   `json:"h"`
	Vary         []string      `json:"v,omitempty"`
	VarySig      string        `json:"vs,omitempty"`
	Etag         string        `json:"e,omitempty"`
	LastModified string        `json:"lm,omitempty"`
	Modified     time.Time     `json:"m"`
	Age          time.Duration `json:"a"` // the object's age when stored
	Lifetime     time.Duration `json:"l"`
	SWR          time.Duration `json:"swr,omitempty"`
	SIE          time.Duration `json:"sie,omitempty"`
	NeverStale   bool          `json:"ns,omitempty"`
	Revalidate   bool          `json:"rv,omitempty"`
	Retain       time.Duration `json:"r"` // from storing to removal
}

// encodeTier is e as stored in the tier at now: a version byte, the
// metadata's length and JSON, then the body.
func encodeTier(e *entry, now time.Time) []byte {
	meta, _ := json.Marshal(tierMeta{
		Status: e.status, Header: e.header, Vary: e.vary, VarySig: e.varySig,
		Etag: e.etag, LastModified: e.lastModified, Modified: e.modified,
		Age: e.age(now), Lifetime: e.lifetime, SWR: e.swr, SIE: e.sie,
		NeverStale: e.neverStale, Revalidate: e.revalidate,
		Retain: time.Duration(e.removeAt - now.UnixNano()),
	})
	b := make([]byte, 0, 1+binary.MaxVarintLen32+len(meta)+len(e.body))
	b = append(b, tierVersion)
	b = binary.AppendUvarint(b, uint64(len(meta)))
	b = append(b, meta...)
	return append(b, e.body...)
}

// errTierObject is any object that does not decode: a miss.
var errTierObject = errors.New("malformed tier object")

// decodeTier rebuilds an entry from a tier object that was stored elapsed
// ago, as of now: its age is the age it had when stored plus elapsed
// (RFC 9111 4.2.3: Age keeps growing across tiers).
func decodeTier(data []byte, elapsed time.Duration, now time.Time) (*entry, error) {
	if len(data) < 2 || data[0] != tierVersion {
		return nil, errTierObject
	}
	n, w := binary.Uvarint(data[1:])
	if w <= 0 || n > uint64(len(data)-1-w) {
		return nil, errTierObject
	}
	var m tierMeta
	if err := json.Unmarshal(data[1+w:1+w+int(n)], &m); err != nil {
		return nil, fmt.Errorf("%w: %v", errTierObject, err)
	}
	body := data[1+w+int(n):]
	switch {
	case m.Status < 200 || m.Status > 599, elapsed < 0, m.Age < 0, m.Lifetime < 0, m.SWR < 0, m.SIE < 0,
		m.Retain <= elapsed, len(m.Vary) > 64, len(m.Header) > 256:
		return nil, errTierObject
	}
	if v := m.Header["Content-Length"]; bodyAllowed(m.Status) && (len(v) != 1 || v[0] != strconv.Itoa(len(body))) {
		return nil, errTierObject
	}
	e := &entry{
		status: m.Status, header: make(http.Header, len(m.Header)), body: body,
		vary: m.Vary, varySig: m.VarySig, etag: m.Etag, lastModified: m.LastModified, modified: m.Modified,
		responseTime: now, initialAge: min(m.Age+elapsed, maxAgeDuration), lifetime: m.Lifetime,
		swr: m.SWR, sie: m.SIE, neverStale: m.NeverStale, revalidate: m.Revalidate,
		removeAt: now.Add(m.Retain - elapsed).UnixNano(),
	}
	e.size = int64(len(body)) + entryOverhead + int64(len(e.varySig))
	for name, values := range m.Header {
		if name != http.CanonicalHeaderKey(name) || hop.Header(name) || notStored(name) {
			return nil, errTierObject
		}
		values = slices.Clip(values)
		e.header[name] = values
		e.fields = append(e.fields, field{name, values})
		e.size += int64(len(name))
		for _, v := range values {
			e.size += int64(len(v)) + 16
		}
	}
	return e, nil
}
