package lineage_test

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

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

// hundredSteps returns the verified results of a 100-step workflow run: step i reads the
// outputs of steps i-1 and i/2, has three parameters, an environment variable, a person who ran
// it and a tool version, and runs in one of ten images.
func hundredSteps(b *testing.B) []*verify.Result {
	b.Helper()
	key := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	signer, err := sign.NewKeySigner(key)
	if err != nil {
		b.Fatal(err)
	}
	keys, _ := verify.TrustedKeys(verify.PublicKey{ID: "bench", Key: key.Public()})
	v, err := verify.New(keys, verify.WithoutTransparencyLog(), verify.WithUntimestampedKeysUnsafe())
	if err != nil {
		b.Fatal(err)
	}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	items := make([]verify.Item, 100)
	for i := range 100 {
		s := &workflow.Step{
			Name: "step-" + strconv.Itoa(i), Workflow: "bench", RunID: "run-1",
			Image:        "registry.example/tools/t" + strconv.Itoa(i%10) + ":1.0@" + digest.FromString("image "+strconv.Itoa(i%10)).String(),
			Command:      []string{"tool", "--min=-40", "in.csv"},
			Parameters:   map[string]any{"min": -40, "seed": i, "method": "mean"},
			Environment:  map[string]string{"LC_ALL": "C"},
			Agents:       []workflow.Agent{{Name: "Ada", ORCID: "0000-0002-1825-0097"}},
			ToolVersions: map[string]string{"python": "3.12.1"},
			Outputs:      []*intoto.ResourceDescriptor{rd("out-"+strconv.Itoa(i)+".csv", benchArtifact(i))},
			BuilderID:    "https://ci.example/bench",
			StartedOn:    start.Add(time.Duration(i) * time.Minute), FinishedOn: start.Add(time.Duration(i)*time.Minute + 30*time.Second),
		}
		if i > 0 {
			s.Inputs = append(s.Inputs, rd("out-"+strconv.Itoa(i-1)+".csv", benchArtifact(i-1)))
			if i/2 != i-1 {
				s.Inputs = append(s.Inputs, rd("out-"+strconv.Itoa(i/2)+".csv", benchArtifact(i/2)))
			}
		} else {
			s.Inputs = append(s.Inputs, rd("raw.csv", digest.FromString("raw")))
		}
		st, err := s.Statement()
		if err != nil {
			b.Fatal(err)
		}
		bundle, err := signer.Sign(context.Background(), st)
		if err != nil {
			b.Fatal(err)
		}
		items[i] = verify.Item{Bundle: bundle, Subject: benchArtifact(i), Identity: verify.KeyIDs("bench")}
	}
	var results []*verify.Result
	for i, o := range v.VerifyAll(context.Background(), items, 2) {
		if o.Err != nil {
			b.Fatalf("item %d: %v", i, o.Err)
		}
		results = append(results, o.Result)
	}
	return results
}

// BenchmarkWriteROCrate writes the Workflow Run Crate of a 100-step run (the target is 200 ms),
// its PROV-O, and its crate as a zip with every file's data copied in and verified.
func BenchmarkWriteROCrate(b *testing.B) {
	g, err := lineage.New(hundredSteps(b))
	if err != nil {
		b.Fatal(err)
	}
	c := lineage.Crate{Name: "bench", License: "CC-BY-4.0", Workflow: "bench"}
	b.Run("crate", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := g.WriteROCrate(io.Discard, c); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("prov", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := g.WritePROV(io.Discard); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("zip", func(b *testing.B) {
		data := func(d digest.Digest) (io.ReadCloser, error) {
			for i := range 100 {
				if benchArtifact(i) == d {
					return io.NopCloser(strings.NewReader("artifact " + strconv.Itoa(i))), nil
				}
			}
			return nil, fs.ErrNotExist
		}
		b.ReportAllocs()
		for b.Loop() {
			if err := g.WriteROCrateZip(context.Background(), io.Discard, c, data); err != nil {
				b.Fatal(err)
			}
		}
	})
}
