package oras_test

import (
	"fmt"
	"github.com/provkit/provkit/internal/testenv"
	"sync/atomic"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/provkit/provkit/internal/storetest"
	provoras "github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/provenance"
)

var registries = []struct {
	name  string
	start func(testing.TB) string
}{
	{"api-olareg", testenv.OlaregServer},
	{"fallback-ggcr", testenv.GGCRServer},
}

// BenchmarkDiscover100 discovers and fetches the 100 attestations of one image, reporting HTTP
// round trips per operation next to time.
func BenchmarkDiscover100(b *testing.B) {
	queries := []struct {
		name string
		q    provoras.Query
	}{
		{"referrers-only", provoras.Query{SkipNested: true, SkipLegacyTags: true, SkipBuildKit: true}},
		{"every-place", provoras.Query{}},
	}
	for _, reg := range registries {
		host := reg.start(b)
		w := remoteStore(b, host, "bench/discover")
		subject := pushImage(b, w.Target(), "img", "v1")
		for i := range 100 {
			if _, err := w.Attach(b.Context(), subject, storetest.Bundle(provenance.MediaTypeBundleV03, provenance.PredicateSLSAProvenanceV1, i)); err != nil {
				b.Fatal(err)
			}
		}
		for _, qc := range queries {
			for _, fetch := range []bool{false, true} {
				name := reg.name + "/" + qc.name + "/list"
				if fetch {
					name = reg.name + "/" + qc.name + "/list+fetch"
				}
				b.Run(name, func(b *testing.B) {
					c := newCounter()
					s := remoteStore(b, host, "bench/discover", provoras.WithTransport(c))
					// Settle capability detection, as a long-lived Store would have.
					if _, err := s.Referrers(b.Context(), subject, ""); err != nil {
						b.Fatal(err)
					}
					c.n.Store(0)
					b.ReportAllocs()
					for b.Loop() {
						as, err := s.Discover(b.Context(), subject, qc.q)
						if err != nil {
							b.Fatal(err)
						}
						if len(as) != 100 {
							b.Fatalf("found %d", len(as))
						}
						if fetch {
							if _, err := s.FetchAll(b.Context(), as); err != nil {
								b.Fatal(err)
							}
						}
					}
					b.ReportMetric(float64(c.n.Load())/float64(b.N), "roundtrips/op")
				})
			}
		}
	}
}

// BenchmarkAttach attaches distinct bundles with several goroutines, to one subject and to one
// subject per goroutine, reporting round trips per attach.
func BenchmarkAttach(b *testing.B) {
	for _, reg := range registries {
		for _, shared := range []bool{true, false} {
			name := fmt.Sprintf("%s/shared-subject=%v", reg.name, shared)
			b.Run(name, func(b *testing.B) {
				host := reg.start(b)
				c := newCounter()
				s := remoteStore(b, host, "bench/attach", provoras.WithTransport(c))
				one := pushImage(b, s.Target(), "img", "v1")
				var seq atomic.Int64
				c.n.Store(0)
				b.ReportAllocs()
				b.SetParallelism(2)
				b.RunParallel(func(pb *testing.PB) {
					subject := one
					if !shared {
						subject = pushImageDesc(b, s, fmt.Sprintf("img-%d", seq.Add(1)))
					}
					for pb.Next() {
						n := int(seq.Add(1))
						if _, err := s.Attach(b.Context(), subject, storetest.Bundle(provenance.MediaTypeBundleV03, provenance.PredicateSPDX, n)); err != nil {
							b.Error(err)
							return
						}
					}
				})
				b.ReportMetric(float64(c.n.Load())/float64(b.N), "roundtrips/op")
			})
		}
	}
}

func pushImageDesc(b *testing.B, s *provoras.Store, name string) ocispec.Descriptor {
	return pushImage(b, s.Target(), name, "")
}

// BenchmarkAttach100 attaches to an image that already has 100 attestations of the same
// predicate type: a new bundle each time, and the same bundle again (the idempotent case),
// reporting round trips per attach.
func BenchmarkAttach100(b *testing.B) {
	for _, reg := range registries {
		host := reg.start(b)
		w := remoteStore(b, host, "bench/attach100")
		subject := pushImage(b, w.Target(), "img", "v1")
		for i := range 100 {
			if _, err := w.Attach(b.Context(), subject, storetest.Bundle(provenance.MediaTypeBundleV03, provenance.PredicateSPDX, i)); err != nil {
				b.Fatal(err)
			}
		}
		for _, dup := range []bool{false, true} {
			name := reg.name + "/new"
			if dup {
				name = reg.name + "/duplicate"
			}
			b.Run(name, func(b *testing.B) {
				c := newCounter()
				s := remoteStore(b, host, "bench/attach100", provoras.WithTransport(c))
				if _, err := s.Referrers(b.Context(), subject, ""); err != nil {
					b.Fatal(err)
				}
				var seq atomic.Int64
				seq.Store(1000)
				c.n.Store(0)
				b.ReportAllocs()
				for b.Loop() {
					n := 0
					if !dup {
						n = int(seq.Add(1))
					}
					if _, err := s.Attach(b.Context(), subject, storetest.Bundle(provenance.MediaTypeBundleV03, provenance.PredicateSPDX, n)); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(c.n.Load())/float64(b.N), "roundtrips/op")
			})
		}
	}
}
