package gate

import (
	"fmt"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/opencontainers/go-digest"

	"github.com/provkit/provkit/oras"
)

// Cache keeps allowed decisions so that checking the same artifact again, as an admission
// controller does for every Pod of a Deployment, costs a lookup instead of a listing, fetches
// and verifications. One Cache may serve many Checkers: see WithCache.
//
// A decision is kept under the Checker that made it, the store it was made in (its
// oras.Store.Location) and the artifact's digest. A Checker's verifier (the trust material),
// identity, policy, environment and roles are fixed when it is made, so a Checker is exactly
// those: when any of them changes, the new Checker finds nothing the old one kept, and a kept
// decision is never returned under trust material or a policy that did not make it.
//
// A decision is kept until the earliest of:
//   - the Cache's maxAge after it was made;
//   - the policy decision's Until (policy.Decision.Until: a fresh attestation or scan
//     becoming too old, a lifecycle status published ahead taking effect, a rule reading the
//     time), so a time-bound decision is never served past the time it changes; one that
//     changes at once is not kept at all;
//   - the ValidUntil of every verified result (verify.Result.ValidUntil: a key's validity
//     window judged at the clock).
//
// Attestations attached after a decision (a new status, a new scan) are seen once it expires,
// or at once after Invalidate, which a watcher of referrers calls. Denials and checks that
// failed are never kept: each is checked again, so an artifact attested after its denial is
// allowed as soon as its attestations are.
type Cache struct {
	entries *lru.Cache[cacheKey, cacheEntry]
	maxAge  time.Duration
	hits    atomic.Uint64
	misses  atomic.Uint64
}

// cacheKey names one decision: the Checker, the store and the artifact.
type cacheKey struct {
	checker  *Checker
	location string
	// store is set for a store with no Location (memory), whose only name is itself; the key
	// holds it, so it cannot be freed and its address reused while the decision is kept.
	store   *oras.Store
	subject digest.Digest
}

// cacheEntry is a kept decision and when it expires.
type cacheEntry struct {
	report  *Report
	expires time.Time
}

// CacheStats counts a Cache's lookups.
type CacheStats struct {
	// Hits are checks answered from the Cache.
	Hits uint64
	// Misses are checks that found no decision, or an expired one, and checked again.
	Misses uint64
	// Entries is how many decisions the Cache holds now, expired ones included until they
	// are looked up or pushed out.
	Entries int
}

// NewCache returns a Cache of at most size decisions (the least recently used goes first when
// it is full), each kept at most maxAge. size must be positive and maxAge between one second
// and one day.
func NewCache(size int, maxAge time.Duration) (*Cache, error) {
	if size < 1 {
		return nil, fmt.Errorf("%w: cache size %d", ErrInvalidConfig, size)
	}
	if maxAge < time.Second || maxAge > 24*time.Hour {
		return nil, fmt.Errorf("%w: cache maxAge %s is outside 1s..24h", ErrInvalidConfig, maxAge)
	}
	entries, err := lru.New[cacheKey, cacheEntry](size)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	return &Cache{entries: entries, maxAge: maxAge}, nil
}

// Invalidate drops every decision about the artifact subject, for every Checker and store.
func (c *Cache) Invalidate(subject digest.Digest) {
	for _, k := range c.entries.Keys() {
		if k.subject == subject {
			c.entries.Remove(k)
		}
	}
}

// Purge drops every decision.
func (c *Cache) Purge() { c.entries.Purge() }

// Stats returns the Cache's counts.
func (c *Cache) Stats() CacheStats {
	return CacheStats{Hits: c.hits.Load(), Misses: c.misses.Load(), Entries: c.entries.Len()}
}

func keyOf(checker *Checker, store *oras.Store, subject digest.Digest) cacheKey {
	k := cacheKey{checker: checker, location: store.Location(), subject: subject}
	if k.location == "" {
		k.store = store
	}
	return k
}

// get returns the decision kept under k, if one is and has not expired at now.
func (c *Cache) get(k cacheKey, now time.Time) (*Report, bool) {
	e, ok := c.entries.Get(k)
	if ok && now.Before(e.expires) {
		c.hits.Add(1)
		return e.report, true
	}
	if ok {
		c.entries.Remove(k)
	}
	c.misses.Add(1)
	return nil, false
}

// put keeps an allowed report made at now, until the earliest time it may change.
func (c *Cache) put(k cacheKey, r *Report, now time.Time) {
	expires := now.Add(c.maxAge)
	if r.Decision != nil && !r.Decision.Until.IsZero() && r.Decision.Until.Before(expires) {
		expires = r.Decision.Until
	}
	for _, v := range r.Verified {
		if until := v.Result.ValidUntil(); !until.IsZero() && until.Before(expires) {
			expires = until
		}
	}
	if !now.Before(expires) {
		return
	}
	c.entries.Add(k, cacheEntry{report: r, expires: expires})
}
