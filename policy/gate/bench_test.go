package gate_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/provkit/provkit/internal/testenv"
	"github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/policy/gate"
	"github.com/provkit/provkit/provenance/lifecycle"
	"github.com/provkit/provkit/sign"
	"github.com/provkit/provkit/verify"
)

// countingTransport counts the requests a Store sends.
type countingTransport struct{ n atomic.Int64 }

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return http.DefaultTransport.RoundTrip(r)
}

// BenchmarkCheck checks an image with 1, 10 and 100 key-signed attestations on an in-process
// registry (olareg over HTTP), one Check per iteration, reporting requests per check, against
// the glue it replaces: Discover, FetchAll, then VerifyAll, written by hand.
func BenchmarkCheck(b *testing.B) {
	k := newKeys(b)
	host := testenv.OlaregServer(b)
	for _, n := range []int{1, 10, 100} {
		repo := fmt.Sprintf("%s/bench/app%d", host, n)
		rt := &countingTransport{}
		store, err := oras.NewRemote(repo, oras.WithPlainHTTPUnsafe(), oras.WithTransport(rt))
		if err != nil {
			b.Fatal(err)
		}
		image := testenv.PushImage(b, store.Target(), "v1", fmt.Sprintf("app with %d\n", n))
		for range n {
			testenv.AttestSLSA(b, store, repo, image, k.trusted, builder)
		}
		c := checker(b, k)
		b.Run(fmt.Sprintf("gate/%d", n), func(b *testing.B) {
			b.ReportAllocs()
			rt.n.Store(0)
			for b.Loop() {
				report, err := c.Check(b.Context(), store, image)
				if err != nil || len(report.Verified) != n {
					b.Fatalf("verified %d of %d: %v", len(report.Verified), n, err)
				}
			}
			b.ReportMetric(float64(rt.n.Load())/float64(b.N), "requests/op")
		})
		b.Run(fmt.Sprintf("glue/%d", n), func(b *testing.B) {
			b.ReportAllocs()
			rt.n.Store(0)
			for b.Loop() {
				found, err := store.Discover(b.Context(), image, oras.Query{SkipNested: true})
				if err != nil {
					b.Fatal(err)
				}
				var todo []oras.Attestation
				for _, a := range found {
					if a.Signed && a.Source != oras.SourceCosignSigTag {
						todo = append(todo, a)
					}
				}
				bundles, err := store.FetchAll(b.Context(), todo)
				if err != nil {
					b.Fatal(err)
				}
				items := make([]verify.Item, len(todo))
				for i, a := range todo {
					items[i] = verify.Item{Bundle: bundles[i], Subject: image.Digest, Identity: verify.KeyIDs("release")}
					if a.Source == oras.SourceCosignAttTag {
						items[i].Annotations = maps.Clone(a.Layer.Annotations)
					}
				}
				verified := 0
				for _, o := range k.verifier.VerifyAll(b.Context(), items, 2) {
					if o.Err == nil {
						verified++
					}
				}
				if verified != n {
					b.Fatalf("verified %d of %d", verified, n)
				}
			}
			b.ReportMetric(float64(rt.n.Load())/float64(b.N), "requests/op")
		})
	}
}

// BenchmarkCheckRecorded measures what recording decisions in an audit log adds to the one-call
// verify: Check of an image with one attestation, without a recorder and with one on a POSIX
// audit log (asynchronous; the events are flushed after the loop, outside the timing), in memory
// (the cheapest store, so the largest share for logging) and in the olareg registry on loopback.
func BenchmarkCheckRecorded(b *testing.B) {
	ctx := context.Background()
	k := newKeys(b)
	memory, err := oras.NewMemory()
	if err != nil {
		b.Fatal(err)
	}
	repo := testenv.OlaregServer(b) + "/bench/recorded"
	registry, err := oras.NewRemote(repo, oras.WithPlainHTTPUnsafe())
	if err != nil {
		b.Fatal(err)
	}
	for _, s := range []struct {
		name  string
		store *oras.Store
		repo  string
	}{{"memory", memory, "memory.example/app"}, {"registry", registry, repo}} {
		image := testenv.PushImage(b, s.store.Target(), "v1", "app\n")
		testenv.AttestSLSA(b, s.store, s.repo, image, k.trusted, builder)
		run := func(b *testing.B, c *gate.Checker) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Check(ctx, s.store, image); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.Run(s.name+"/check", func(b *testing.B) {
			run(b, checker(b, k, gate.WithPolicy(prodPolicy(b, builder)), gate.WithEnvironment("prod")))
		})
		b.Run(s.name+"/check+record", func(b *testing.B) {
			log, _, _ := openAuditLogIn(b, b.TempDir())
			run(b, checker(b, k, gate.WithPolicy(prodPolicy(b, builder)), gate.WithEnvironment("prod"), gate.WithRecorder(log, "gate@example.com")))
			b.StopTimer()
			if err := log.Close(ctx); err != nil {
				b.Fatal(err)
			}
		})
	}
}

// BenchmarkLifecycle measures reading an image's status in effect from the olareg registry
// on loopback, with 100 signed statuses attached as referrers, each listed with its
// effective time: one listing, then only the latest status fetched and verified. "listing"
// is the listing alone, the part no reader can skip.
func BenchmarkLifecycle(b *testing.B) {
	ctx := context.Background()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	repo := testenv.OlaregServer(b) + "/bench/lifecycle"
	store, err := oras.NewRemote(repo, oras.WithPlainHTTPUnsafe())
	if err != nil {
		b.Fatal(err)
	}
	image := testenv.PushImage(b, store.Target(), "v1", "api\n")
	signer, err := sign.NewKeySigner(key)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 100 {
		st, err := (&lifecycle.Status{Subject: image.Digest, State: lifecycle.StateDeprecated, Reason: fmt.Sprint("review ", i),
			Effective: start.Add(time.Duration(i) * time.Hour), DecidedBy: "release-managers@example.com"}).Statement()
		if err != nil {
			b.Fatal(err)
		}
		bundle, err := signer.Sign(ctx, st)
		if err != nil {
			b.Fatal(err)
		}
		bundle.Effective = start.Add(time.Duration(i) * time.Hour)
		if _, err := store.Attach(ctx, image, bundle); err != nil {
			b.Fatal(err)
		}
	}
	keys, err := verify.TrustedKeys(verify.PublicKey{ID: "release-managers", Key: key.Public()})
	if err != nil {
		b.Fatal(err)
	}
	v, err := verify.New(keys, verify.WithoutTransparencyLog(), verify.WithUntimestampedKeysUnsafe(), verify.WithPredicateTypes(lifecycle.PredicateType))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("status", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			r, err := gate.Lifecycle(ctx, store, image, v, verify.KeyIDs("release-managers"), start.AddDate(1, 0, 0))
			if err != nil || r.Current == nil || r.Current.Status.Reason != "review 99" {
				b.Fatalf("resolved %+v: %v", r, err)
			}
		}
	})
	// The floor: the listing alone, as Lifecycle asks for it.
	b.Run("listing", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			found, err := store.Discover(ctx, image, oras.Query{PredicateType: lifecycle.PredicateType, SkipNested: true, SkipBuildKit: true})
			if err != nil || len(found) != 100 {
				b.Fatalf("listed %d: %v", len(found), err)
			}
		}
	})
}

// BenchmarkRotate measures a key rotation on the olareg registry on loopback, for an image
// with 10 attestations signed by the old key: "resign" re-signs and attaches all 10 (a fresh
// image per iteration, prepared outside the timing), "resume" runs the rotation again once it
// is done and re-signs nothing (listing, fetching and verifying each attestation, old and new).
func BenchmarkRotate(b *testing.B) {
	const n = 10
	oldKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	newKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	ks, err := verify.TrustedKeys(verify.PublicKey{ID: "old", Key: oldKey.Public()}, verify.PublicKey{ID: "new", Key: newKey.Public()})
	if err != nil {
		b.Fatal(err)
	}
	v, err := verify.New(ks, verify.WithoutTransparencyLog(), verify.WithUntimestampedKeysUnsafe())
	if err != nil {
		b.Fatal(err)
	}
	c, err := gate.New(v, verify.KeyIDs("old"))
	if err != nil {
		b.Fatal(err)
	}
	signer, err := sign.NewKeySigner(newKey)
	if err != nil {
		b.Fatal(err)
	}
	rotation := gate.Rotation{Signer: signer, Identity: verify.KeyIDs("new")}
	repo := testenv.OlaregServer(b) + "/bench/rotate"
	rt := &countingTransport{}
	store, err := oras.NewRemote(repo, oras.WithPlainHTTPUnsafe(), oras.WithTransport(rt))
	if err != nil {
		b.Fatal(err)
	}
	images := 0
	prepare := func(b *testing.B) ocispec.Descriptor {
		images++
		image := testenv.PushImage(b, store.Target(), fmt.Sprintf("v%d", images), fmt.Sprintf("app %d\n", images))
		for i := range n {
			testenv.AttestSLSA(b, store, repo, image, oldKey, fmt.Sprintf("%s/%d", builder, i))
		}
		return image
	}
	rotate := func(b *testing.B, image ocispec.Descriptor, resigned int) {
		rows, err := c.Rotate(b.Context(), store, []ocispec.Descriptor{image}, rotation)
		if err != nil || len(rows) != n {
			b.Fatalf("%d rows, %v", len(rows), err)
		}
		for _, r := range rows {
			if r.Err != nil {
				b.Fatal(r.Err)
			}
			if r.Resigned {
				resigned--
			}
		}
		if resigned != 0 {
			b.Fatalf("re-signed %d more or fewer than expected", resigned)
		}
	}
	b.Run(fmt.Sprintf("resign/%d", n), func(b *testing.B) {
		b.ReportAllocs()
		var requests int64
		for b.Loop() {
			b.StopTimer()
			image := prepare(b)
			rt.n.Store(0)
			b.StartTimer()
			rotate(b, image, n)
			requests += rt.n.Load()
		}
		b.ReportMetric(float64(requests)/float64(b.N), "requests/op")
	})
	b.Run(fmt.Sprintf("resume/%d", n), func(b *testing.B) {
		image := prepare(b)
		rotate(b, image, n)
		b.ReportAllocs()
		rt.n.Store(0)
		for b.Loop() {
			rotate(b, image, 0)
		}
		b.ReportMetric(float64(rt.n.Load())/float64(b.N), "requests/op")
	})
}

// BenchmarkSweep measures a sweep of 1,000 images on the distribution registry on loopback
// (olareg's memory store copies its whole index on every request, which a repository of
// thousands of manifests turns into the measure), each
// with one signed build provenance, half of them from a builder the policy no longer allows:
// "first" deprecates those 500 (signing and attaching a status for each; fresh images per
// iteration, prepared outside the timing), "again" sweeps once they are deprecated and sets
// nothing (each image checked, and each denied one's status in effect read).
func BenchmarkSweep(b *testing.B) {
	const n = 1000
	build, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	managers, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	ks, err := verify.TrustedKeys(verify.PublicKey{ID: "release", Key: build.Public()}, verify.PublicKey{ID: "release-managers", Key: managers.Public()})
	if err != nil {
		b.Fatal(err)
	}
	v, err := verify.New(ks, verify.WithoutTransparencyLog(), verify.WithUntimestampedKeysUnsafe())
	if err != nil {
		b.Fatal(err)
	}
	c, err := gate.New(v, verify.KeyIDs("release"), gate.WithPolicy(prodPolicy(b, builder)), gate.WithEnvironment("prod"),
		gate.WithRole(lifecycle.PredicateType, verify.KeyIDs("release-managers")))
	if err != nil {
		b.Fatal(err)
	}
	signer, err := sign.NewKeySigner(managers)
	if err != nil {
		b.Fatal(err)
	}
	sweep := gate.Sweep{State: lifecycle.StateDeprecated, Signer: signer, DecidedBy: "release-managers@example.com"}
	repo := testenv.Distribution(b) + "/bench/sweep-" + strings.ToLower(rand.Text()[:8])
	store, err := oras.NewRemote(repo, oras.WithPlainHTTPUnsafe())
	if err != nil {
		b.Fatal(err)
	}
	batches := 0
	prepare := func(b *testing.B) []ocispec.Descriptor {
		batches++
		images := make([]ocispec.Descriptor, n)
		for i := range images {
			images[i] = testenv.PushImage(b, store.Target(), fmt.Sprintf("b%d-%d", batches, i), fmt.Sprintf("app %d/%d\n", batches, i))
			from := builder
			if i%2 == 1 {
				from = "https://ci.example/builders/old"
			}
			testenv.AttestSLSA(b, store, repo, images[i], build, from)
		}
		return images
	}
	run := func(b *testing.B, images []ocispec.Descriptor, wantSet int) {
		swept, err := c.Sweep(b.Context(), store, images, sweep)
		if err != nil || len(swept) != n {
			b.Fatalf("%d results, %v", len(swept), err)
		}
		for _, s := range swept {
			if s.Err != nil {
				b.Fatal(s.Err)
			}
			if s.Status.Digest != "" {
				wantSet--
			}
		}
		if wantSet != 0 {
			b.Fatalf("set %d more or fewer statuses than expected", -wantSet)
		}
	}
	b.Run(fmt.Sprintf("first/%d", n), func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			b.StopTimer()
			images := prepare(b)
			b.StartTimer()
			run(b, images, n/2)
		}
	})
	b.Run(fmt.Sprintf("again/%d", n), func(b *testing.B) {
		images := prepare(b)
		run(b, images, n/2)
		b.ReportAllocs()
		for b.Loop() {
			run(b, images, 0)
		}
	})
}

// BenchmarkCachedCheck measures a decision answered from the Cache (olareg on loopback, an
// image with one attestation and the release policy): "hit" one at a time, "parallel" on
// every core (decisions/s is the throughput), and "cold" a check the cache misses, beside
// "uncached", the same check without a cache.
func BenchmarkCachedCheck(b *testing.B) {
	k := newKeys(b)
	repo := testenv.OlaregServer(b) + "/bench/cache"
	store, err := oras.NewRemote(repo, oras.WithPlainHTTPUnsafe())
	if err != nil {
		b.Fatal(err)
	}
	image := testenv.PushImage(b, store.Target(), "v1", "app v1\n")
	testenv.AttestSLSA(b, store, repo, image, k.trusted, builder)
	cache, err := gate.NewCache(10000, time.Minute)
	if err != nil {
		b.Fatal(err)
	}
	c := checker(b, k, gate.WithPolicy(prodPolicy(b, builder)), gate.WithEnvironment("prod"), gate.WithCache(cache))
	ctx := context.Background()
	if _, err := c.Check(ctx, store, image); err != nil {
		b.Fatal(err)
	}
	b.Run("hit", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Check(ctx, store, image); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := c.Check(ctx, store, image); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "decisions/s")
	})
	b.Run("cold", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			cache.Invalidate(image.Digest)
			if _, err := c.Check(ctx, store, image); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("uncached", func(b *testing.B) {
		plain := checker(b, k, gate.WithPolicy(prodPolicy(b, builder)), gate.WithEnvironment("prod"))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := plain.Check(ctx, store, image); err != nil {
				b.Fatal(err)
			}
		}
	})
}
