package index

import (
	"fmt"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"

	"github.com/provkit/provkit/provenance/workflow"
	"github.com/provkit/provkit/verify"
)

// benchResults signs and verifies n workflow steps, a chain in which each step reads the
// previous step's output and a shared dataset, with parameters and a command.
func benchResults(b testing.TB, n int) []*verify.Result {
	b.Helper()
	key := newKey(b)
	keys, err := verify.TrustedKeys(verify.PublicKey{ID: "alice", Key: key.Public()})
	if err != nil {
		b.Fatal(err)
	}
	v, err := verify.New(keys, verify.WithoutTransparencyLogUnsafe(), verify.WithUntimestampedKeysUnsafe())
	if err != nil {
		b.Fatal(err)
	}
	dataset := file("dataset.csv", digest.FromString("dataset"))
	image := "registry.example/tools/step@" + digest.FromString("image").String()
	start := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	prev := file("input-0", digest.FromString("input-0"))
	out := make([]*verify.Result, n)
	for i := range n {
		name := "step-" + strconv.Itoa(i)
		output := file("output-"+strconv.Itoa(i), digest.FromString("output-"+strconv.Itoa(i)))
		st := stepStatement(b, &workflow.Step{
			Name: name, Workflow: "bench", RunID: "run-1", Image: image,
			Command:    []string{"run", "--step", name},
			Parameters: map[string]any{"seed": i, "mode": "fast", "threshold": 0.25},
			Inputs:     []*intoto.ResourceDescriptor{prev, dataset}, Outputs: []*intoto.ResourceDescriptor{output},
			BuilderID: science, StartedOn: start.Add(time.Duration(i) * time.Second), FinishedOn: start.Add(time.Duration(i+1) * time.Second),
		})
		f := &fixture{keys: v}
		if out[i], err = f.verifyKey(b, key, st, digest.Digest("sha256:"+output.GetDigest()["sha256"])); err != nil {
			b.Fatal(err)
		}
		prev = output
	}
	return out
}

// BenchmarkAddSQLite ingests 10,000 verified statements into a new SQLite file in one Add.
func BenchmarkAddSQLite(b *testing.B) {
	const n = 10_000
	results := benchResults(b, n)
	dir := b.TempDir()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		ix, err := OpenSQLite(b.Context(), filepath.Join(dir, fmt.Sprintf("index-%d.db", i)))
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := ix.Add(b.Context(), results...); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		ix.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "statements/s")
}

// BenchmarkFindSQLite queries an index of 10,000 statements, all signed by one key: by subject
// digest, by signer and subject, and every statement of the signer.
func BenchmarkFindSQLite(b *testing.B) {
	const n = 10_000
	ix, err := OpenSQLite(b.Context(), filepath.Join(b.TempDir(), "index.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer ix.Close()
	if err := ix.Add(b.Context(), benchResults(b, n)...); err != nil {
		b.Fatal(err)
	}
	output := digest.FromString("output-5000")
	for _, bc := range []struct {
		name string
		q    Query
		want int
	}{
		{"subject", Query{Subject: output}, 1},
		{"signer+subject", Query{Signer: "alice", Subject: output}, 1},
		{"signer", Query{Signer: "alice"}, n},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				got, err := ix.Find(b.Context(), bc.q)
				if err != nil || len(got) != bc.want {
					b.Fatalf("Find(%+v): %d artifacts, %v; want %d", bc.q, len(got), err, bc.want)
				}
			}
		})
	}
}
