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
	v, err := verify.New(keys, verify.WithoutTransparencyLog(), verify.WithUntimestampedKeysUnsafe())
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
	benchmarkAdd(b, benchResults(b, 10_000))
}

// benchmarkAdd times one Add of results into a new SQLite file per iteration, and reports
// statements per second.
func benchmarkAdd(b *testing.B, results []*verify.Result) {
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
	b.ReportMetric(float64(len(results)*b.N)/b.Elapsed().Seconds(), "statements/s")
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

// keylessResults signs and verifies n statements keylessly, with certificates of a test CA:
// statement i is signed by the release workflow of repository i%repos, each certificate with
// seven extensions.
func keylessResults(b testing.TB, n, repos int) []*verify.Result {
	b.Helper()
	ca := newTestCA(b, nil)
	out := make([]*verify.Result, n)
	for i := range n {
		repo := "https://github.com/example/repo-" + strconv.Itoa(i%repos)
		ext := releaseExtensions()
		ext.SourceRepositoryURI = repo
		ext.BuildSignerURI = repo + "/.github/workflows/release.yml@" + appRef
		ext.GithubWorkflowRepository = "example/repo-" + strconv.Itoa(i%repos)
		ext.RunInvocationURI = repo + "/actions/runs/" + strconv.Itoa(i) + "/attempts/1"
		output := file("output-"+strconv.Itoa(i), digest.FromString("output-"+strconv.Itoa(i)))
		st := stepStatement(b, &workflow.Step{
			Name: "build-" + strconv.Itoa(i), Workflow: "release", RunID: strconv.Itoa(i),
			Image:   "registry.example/tools/build@" + digest.FromString("image").String(),
			Command: []string{"make", "release"}, Outputs: []*intoto.ResourceDescriptor{output},
			BuilderID: appBuilder,
		})
		out[i] = ca.signAndVerify(b, st, digest.Digest("sha256:"+output.GetDigest()["sha256"]), ext.BuildSignerURI, ext)
	}
	return out
}

// BenchmarkAddKeylessSQLite ingests 2,000 statements signed keylessly, each signature with
// seven certificate extensions, into a new SQLite file in one Add.
func BenchmarkAddKeylessSQLite(b *testing.B) {
	benchmarkAdd(b, keylessResults(b, 2_000, 20))
}

// BenchmarkFindKeylessSQLite queries an index of 2,000 keylessly signed statements, from 20
// repositories, by the repository and ref of the signing workflow, alone and with a subject.
func BenchmarkFindKeylessSQLite(b *testing.B) {
	const n, repos = 2_000, 20
	ix, err := OpenSQLite(b.Context(), filepath.Join(b.TempDir(), "index.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer ix.Close()
	if err := ix.Add(b.Context(), keylessResults(b, n, repos)...); err != nil {
		b.Fatal(err)
	}
	ext := map[string]string{"sourceRepositoryURI": "https://github.com/example/repo-7", "sourceRepositoryRef": appRef}
	for _, bc := range []struct {
		name string
		q    Query
		want int
	}{
		{"repository+ref", Query{SignerExtensions: ext}, n / repos},
		{"repository+ref+subject", Query{SignerExtensions: ext, Subject: digest.FromString("output-1007")}, 1},
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
