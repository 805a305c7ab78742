package lineage_test

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"strconv"
	"sync"
	"testing"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"
	"github.com/provkit/provkit/provenance/workflow"
	"github.com/provkit/provkit/sign"
	"github.com/provkit/provkit/verify"
	"github.com/provkit/provkit/verify/lineage"
)

var (
	benchOnce    sync.Once
	benchResults []*verify.Result
	benchErr     error
)

// benchArtifact is the output of synthetic step i.
func benchArtifact(i int) digest.Digest { return digest.FromString("artifact " + strconv.Itoa(i)) }

func rd(name string, d digest.Digest) *intoto.ResourceDescriptor {
	return &intoto.ResourceDescriptor{Name: name, Digest: map[string]string{"sha256": d.Encoded()}}
}

// verifiedSteps returns n verified results of a synthetic workflow: step i runs in one of ten
// images, reads the outputs of steps i-1 and i/2 (and, every hundredth step, a raw dataset) and
// writes artifact i. They are signed with Ed25519 and verified once, outside any timed loop.
func verifiedSteps(b *testing.B, n int) []*verify.Result {
	b.Helper()
	benchOnce.Do(func() {
		const total = 10000
		key := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
		signer, err := sign.NewKeySigner(key)
		if err != nil {
			benchErr = err
			return
		}
		keys, _ := verify.TrustedKeys(verify.PublicKey{ID: "bench", Key: key.Public()})
		v, err := verify.New(keys, verify.WithoutTransparencyLog(), verify.WithUntimestampedKeysUnsafe())
		if err != nil {
			benchErr = err
			return
		}
		items := make([]verify.Item, total)
		for i := range total {
			s := &workflow.Step{
				Name:      "step-" + strconv.Itoa(i),
				Image:     "registry.example/tools/t" + strconv.Itoa(i%10) + "@" + digest.FromString("image "+strconv.Itoa(i%10)).String(),
				Outputs:   []*intoto.ResourceDescriptor{rd("out-"+strconv.Itoa(i), benchArtifact(i))},
				BuilderID: "https://ci.example/bench",
			}
			if i > 0 {
				s.Inputs = append(s.Inputs, rd("out-"+strconv.Itoa(i-1), benchArtifact(i-1)))
				if i/2 != i-1 {
					s.Inputs = append(s.Inputs, rd("out-"+strconv.Itoa(i/2), benchArtifact(i/2)))
				}
			}
			if i%100 == 0 {
				s.Inputs = append(s.Inputs, rd("raw-"+strconv.Itoa(i), digest.FromString("raw "+strconv.Itoa(i))))
			}
			st, err := s.Statement()
			if err != nil {
				benchErr = err
				return
			}
			bundle, err := signer.Sign(context.Background(), st)
			if err != nil {
				benchErr = err
				return
			}
			items[i] = verify.Item{Bundle: bundle, Subject: benchArtifact(i), Identity: verify.KeyIDs("bench")}
		}
		for i, o := range v.VerifyAll(context.Background(), items, 2) {
			if o.Err != nil {
				benchErr = fmt.Errorf("item %d: %w", i, o.Err)
				return
			}
			benchResults = append(benchResults, o.Result)
		}
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchResults[:n]
}

// BenchmarkNew builds graphs from 1,000 and 10,000 verified statements; ns/statement staying
// flat shows the build is linear in the number of statements.
func BenchmarkNew(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run("statements="+strconv.Itoa(n), func(b *testing.B) {
			results := verifiedSteps(b, n)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := lineage.New(results); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/statement")
		})
	}
}

// BenchmarkUpstream queries everything upstream of the last artifact of a 1,000-node graph
// (980 steps, their outputs, ten images and ten raw datasets).
func BenchmarkUpstream(b *testing.B) {
	g, err := lineage.New(verifiedSteps(b, 980))
	if err != nil {
		b.Fatal(err)
	}
	if n := len(g.Nodes()); n != 1000 {
		b.Fatalf("%d nodes", n)
	}
	last := benchArtifact(979)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		up, err := g.Upstream(last)
		if err != nil || len(up) != 999 {
			b.Fatalf("%d upstream, %v", len(up), err)
		}
	}
}

// BenchmarkDownstream queries the impact of the first raw dataset on the same graph.
func BenchmarkDownstream(b *testing.B) {
	g, err := lineage.New(verifiedSteps(b, 980))
	if err != nil {
		b.Fatal(err)
	}
	raw := digest.FromString("raw 0")
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if down, err := g.Downstream(raw); err != nil || len(down) != 980 {
			b.Fatalf("%d downstream, %v", len(down), err)
		}
	}
}
