package gate_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/provkit/provkit/internal/testenv"
	"github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/policy"
	"github.com/provkit/provkit/policy/gate"
	"github.com/provkit/provkit/verify"
)

// movableClock is a clock tests set.
type movableClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *movableClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *movableClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// cachedStore is an olareg repository whose requests are counted, with one image attested by
// the release key with the release builder.
func cachedStore(t *testing.T, k *keys) (*oras.Store, *countingTransport, string) {
	t.Helper()
	rt := &countingTransport{}
	repo := testenv.OlaregServer(t) + "/cache/app"
	store, err := oras.NewRemote(repo, oras.WithPlainHTTPUnsafe(), oras.WithTransport(rt))
	require.NoError(t, err)
	return store, rt, repo
}

func mustCache(t *testing.T, maxAge time.Duration) *gate.Cache {
	t.Helper()
	c, err := gate.NewCache(1000, maxAge)
	require.NoError(t, err)
	return c
}

// TestCacheHit: a second check of an allowed artifact is answered from the cache, with no
// request to the registry and the same report; a new Store over the same repository shares
// the decision; a denial is never kept.
func TestCacheHit(t *testing.T) {
	k := newKeys(t)
	store, rt, repo := cachedStore(t, k)
	image := testenv.PushImage(t, store.Target(), "v1", "app v1\n")
	testenv.AttestSLSA(t, store, repo, image, k.trusted, builder)
	cache := mustCache(t, time.Minute)
	c := checker(t, k, gate.WithPolicy(prodPolicy(t, builder)), gate.WithEnvironment("prod"), gate.WithCache(cache))

	first, err := c.Check(t.Context(), store, image)
	require.NoError(t, err)
	before := rt.n.Load()
	again, err := c.Check(t.Context(), store, image)
	require.NoError(t, err)
	require.Same(t, first, again)
	require.Equal(t, before, rt.n.Load(), "answered without a request")

	other, err := oras.NewRemote(repo, oras.WithPlainHTTPUnsafe(), oras.WithTransport(rt))
	require.NoError(t, err)
	_, err = c.Check(t.Context(), other, image)
	require.NoError(t, err)
	require.Equal(t, before, rt.n.Load(), "another Store over the same repository")
	require.Equal(t, gate.CacheStats{Hits: 2, Misses: 1, Entries: 1}, cache.Stats())

	stale := testenv.PushImage(t, store.Target(), "v0", "app v0\n")
	testenv.AttestSLSA(t, store, repo, stale, k.trusted, "https://ci.example/builders/old")
	for range 2 {
		before = rt.n.Load()
		_, err = c.Check(t.Context(), store, stale)
		require.ErrorIs(t, err, policy.ErrDenied)
		require.Greater(t, rt.n.Load(), before, "a denial is checked again")
	}
}

// TestCacheTrustAndPolicyChange is the kyverno#17130 class: one cache shared by Checkers, and
// a decision kept by one is never returned to a Checker with other trust material (the release
// key rotated out), another identity, another policy or another environment. Each checks
// again and gets its own outcome.
func TestCacheTrustAndPolicyChange(t *testing.T) {
	k := newKeys(t)
	store, rt, repo := cachedStore(t, k)
	image := testenv.PushImage(t, store.Target(), "v1", "app v1\n")
	testenv.AttestSLSA(t, store, repo, image, k.trusted, builder)
	cache := mustCache(t, time.Hour)
	allowed := checker(t, k, gate.WithPolicy(prodPolicy(t, builder)), gate.WithEnvironment("prod"), gate.WithCache(cache))
	_, err := allowed.Check(t.Context(), store, image)
	require.NoError(t, err)

	rotated, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	ks, err := verify.TrustedKeys(verify.PublicKey{ID: "release", Key: rotated.Public()})
	require.NoError(t, err)
	rotatedVerifier, err := verify.New(ks, verify.WithoutTransparencyLog(), verify.WithUntimestampedKeysUnsafe())
	require.NoError(t, err)
	newTrust, err := gate.New(rotatedVerifier, verify.KeyIDs("release"), gate.WithPolicy(prodPolicy(t, builder)), gate.WithEnvironment("prod"), gate.WithCache(cache))
	require.NoError(t, err)
	both, err := verify.TrustedKeys(verify.PublicKey{ID: "release", Key: k.trusted.Public()}, verify.PublicKey{ID: "ops", Key: k.other.Public()})
	require.NoError(t, err)
	bothVerifier, err := verify.New(both, verify.WithoutTransparencyLog(), verify.WithUntimestampedKeysUnsafe())
	require.NoError(t, err)
	otherIdentity, err := gate.New(bothVerifier, verify.KeyIDs("ops"), gate.WithPolicy(prodPolicy(t, builder)), gate.WithEnvironment("prod"), gate.WithCache(cache))
	require.NoError(t, err)
	stricter := checker(t, k, gate.WithPolicy(prodPolicy(t, "https://ci.example/builders/hermetic")), gate.WithEnvironment("prod"), gate.WithCache(cache))
	twoEnvs, err := policy.Load(strings.NewReader(`apiVersion: provkit.dev/policy/v1
kind: Policy
metadata: {name: envs}
rules:
  - name: built-by-release
    slsa:
      builders: [{id: "` + builder + `"}]
  - name: hermetic
    slsa:
      builders: [{id: "https://ci.example/builders/hermetic"}]
environments:
  dev:
    rules: {built-by-release: enforce}
  prod:
    defaultMode: enforce
`))
	require.NoError(t, err)
	dev := checker(t, k, gate.WithPolicy(twoEnvs), gate.WithEnvironment("dev"), gate.WithCache(cache))
	prod := checker(t, k, gate.WithPolicy(twoEnvs), gate.WithEnvironment("prod"), gate.WithCache(cache))
	_, err = dev.Check(t.Context(), store, image)
	require.NoError(t, err)

	for name, c := range map[string]*gate.Checker{"rotated trust": newTrust, "other identity": otherIdentity, "stricter policy": stricter, "other environment": prod} {
		t.Run(name, func(t *testing.T) {
			before := rt.n.Load()
			_, err := c.Check(t.Context(), store, image)
			require.ErrorIs(t, err, policy.ErrDenied)
			require.Greater(t, rt.n.Load(), before, "checked again, not answered from the cache")
		})
	}
}

// TestCacheExpiry: a kept decision expires at the cache's maxAge, at the policy decision's
// Until (a freshness limit), and at the end of a key window judged at the clock; Invalidate
// drops it at once. Each expiry makes the next check go to the registry again.
func TestCacheExpiry(t *testing.T) {
	k := newKeys(t)
	store, rt, repo := cachedStore(t, k)
	image := testenv.PushImage(t, store.Target(), "v1", "app v1\n")
	testenv.AttestSLSA(t, store, repo, image, k.trusted, builder)
	clock := &movableClock{now: time.Now()}
	checkedAgain := func(t *testing.T, c *gate.Checker) bool {
		t.Helper()
		before := rt.n.Load()
		_, err := c.Check(t.Context(), store, image)
		require.NoError(t, err)
		return rt.n.Load() > before
	}

	t.Run("MaxAge", func(t *testing.T) {
		c := checker(t, k, gate.WithCache(mustCache(t, time.Minute)), gate.WithClock(clock.Now))
		require.True(t, checkedAgain(t, c))
		clock.advance(59 * time.Second)
		require.False(t, checkedAgain(t, c))
		clock.advance(2 * time.Second)
		require.True(t, checkedAgain(t, c), "past maxAge")
	})
	t.Run("ClockBound", func(t *testing.T) {
		// The release key signs without a verified time here, so no freshness rule can judge
		// it; a CEL rule reading now stands for every rule bound to the clock (policy's
		// TestDecisionUntil covers each), and its decision changes at once.
		now, err := policy.Load(strings.NewReader("apiVersion: provkit.dev/policy/v1\nkind: Policy\nmetadata: {name: now}\nrules:\n  - name: clock\n    cel: {expression: \"now > timestamp('2000-01-01T00:00:00Z')\"}\n"))
		require.NoError(t, err)
		c := checker(t, k, gate.WithPolicy(now), gate.WithCache(mustCache(t, time.Hour)), gate.WithClock(clock.Now))
		require.True(t, checkedAgain(t, c))
		require.True(t, checkedAgain(t, c), "a decision that changes at once is not kept")
	})
	t.Run("KeyWindow", func(t *testing.T) {
		ks, err := verify.TrustedKeys(verify.PublicKey{ID: "release", Key: k.trusted.Public(), NotAfter: clock.Now().Add(30 * time.Minute)})
		require.NoError(t, err)
		v, err := verify.New(ks, verify.WithoutTransparencyLog(), verify.WithUntimestampedKeysUnsafe())
		require.NoError(t, err)
		c, err := gate.New(v, verify.KeyIDs("release"), gate.WithCache(mustCache(t, time.Hour)), gate.WithClock(clock.Now))
		require.NoError(t, err)
		require.True(t, checkedAgain(t, c))
		clock.advance(29 * time.Minute)
		require.False(t, checkedAgain(t, c))
		clock.advance(2 * time.Minute)
		require.True(t, checkedAgain(t, c), "past the key's window the decision is made again")
	})
	t.Run("Invalidate", func(t *testing.T) {
		cache := mustCache(t, time.Hour)
		c := checker(t, k, gate.WithCache(cache), gate.WithClock(clock.Now))
		require.True(t, checkedAgain(t, c))
		require.False(t, checkedAgain(t, c))
		cache.Invalidate(image.Digest)
		require.True(t, checkedAgain(t, c))
	})
}

func TestNewCacheRejects(t *testing.T) {
	for _, c := range []struct {
		size   int
		maxAge time.Duration
	}{{0, time.Minute}, {10, 0}, {10, 48 * time.Hour}} {
		_, err := gate.NewCache(c.size, c.maxAge)
		require.ErrorIs(t, err, gate.ErrInvalidConfig, "size %d maxAge %s", c.size, c.maxAge)
	}
	_, err := gate.New(newKeys(t).verifier, verify.KeyIDs("release"), gate.WithCache(nil))
	require.ErrorIs(t, err, gate.ErrInvalidConfig)
}
