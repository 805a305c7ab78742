package dashboard_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"path/filepath"
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
	"github.com/provkit/provkit/verify/lineage/dashboard"
	"github.com/provkit/provkit/verify/lineage/index"
)

// chainResults signs and verifies n workflow steps, a chain in which each step reads the
// previous step's output; with ownImages each step runs in an image of its own, else all in
// one, and with shared each also reads one shared dataset. Each step writes one output.
func chainResults(b testing.TB, n int, ownImages, shared bool) []*verify.Result {
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
	signer, err := sign.NewKeySigner(key)
	if err != nil {
		b.Fatal(err)
	}
	dataset := file("dataset.csv", digest.FromString("dataset"))
	prev := file("input-0", digest.FromString("input-0"))
	out := make([]*verify.Result, n)
	for i := range n {
		name := "step-" + strconv.Itoa(i)
		image := "registry.example/tools/step@" + digest.FromString("image").String()
		if ownImages {
			image = "registry.example/tools/" + name + "@" + digest.FromString("image "+name).String()
		}
		inputs := []*intoto.ResourceDescriptor{prev}
		if shared {
			inputs = append(inputs, dataset)
		}
		output := file("output-"+strconv.Itoa(i), digest.FromString("output-"+strconv.Itoa(i)))
		st, err := (&workflow.Step{
			Name: name, Workflow: "bench", RunID: "run-1", Image: image,
			Command:    []string{"run", "--step", name},
			Parameters: map[string]any{"seed": i, "mode": "fast"},
			Inputs:     inputs, Outputs: []*intoto.ResourceDescriptor{output},
			BuilderID: "https://ci.example/runners/science", StartedOn: start.Add(time.Duration(i) * time.Second), FinishedOn: start.Add(time.Duration(i+1) * time.Second),
		}).Statement()
		if err != nil {
			b.Fatal(err)
		}
		bundle, err := signer.Sign(context.Background(), st)
		if err != nil {
			b.Fatal(err)
		}
		if out[i], err = v.Verify(context.Background(), bundle, digest.Digest("sha256:"+output.GetDigest()["sha256"]), verify.KeyIDs("alice")); err != nil {
			b.Fatal(err)
		}
		prev = output
	}
	return out
}

var (
	bigOnce    sync.Once
	bigResults []*verify.Result
)

// bigIndex is an index of 10,000 artifacts: a chain of 10,000 steps that each read a shared
// dataset and the previous output.
func bigIndex(b *testing.B) *index.Index {
	b.Helper()
	bigOnce.Do(func() { bigResults = chainResults(b, 10_000, false, true) })
	ix, err := index.OpenSQLite(b.Context(), filepath.Join(b.TempDir(), "index.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ix.Close() })
	if err := ix.Add(b.Context(), bigResults...); err != nil {
		b.Fatal(err)
	}
	return ix
}

// benchPage serves path from h b.N times and reports the server time per page.
func benchPage(b *testing.B, h http.Handler, path string, want string) {
	b.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), want) {
		b.Fatalf("GET %s: status %d, page without %q", path, rec.Code, want)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("GET %s: status %d", path, rec.Code)
		}
	}
}

// BenchmarkPages serves the dashboard's pages over an index of 10,000 artifacts.
func BenchmarkPages(b *testing.B) {
	ix := bigIndex(b)
	h, err := dashboard.New(ix)
	if err != nil {
		b.Fatal(err)
	}
	mid := digest.FromString("output-5000")
	for _, c := range []struct{ name, path, want string }{
		{"overview", "/", "10000</strong> artifacts"},
		{"artifacts", "/artifacts", "output-9999"},
		{"artifacts-page-100", "/artifacts?page=100", "output-"},
		{"builds", "/builds", "step-9999"},
		{"artifact", "/artifact/" + mid.String(), "step-5000"},
	} {
		b.Run(c.name, func(b *testing.B) { benchPage(b, h, c.path, c.want) })
	}
}

// BenchmarkSearch searches an index of 10,000 artifacts by parameter (one match), dataset
// (every artifact, shown 50 to a page), signer (every artifact) and commit (none).
func BenchmarkSearch(b *testing.B) {
	ix := bigIndex(b)
	h, err := dashboard.New(ix)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct{ name, query, want string }{
		{"parameter", url.Values{"param": {"/parameters/seed=4242"}}.Encode(), "1 found"},
		{"dataset", url.Values{"material": {digest.FromString("dataset").String()}}.Encode(), "10000 found"},
		{"signer", "signer=alice", "10000 found"},
		{"commit", "commit=4f2e1c0d9b8a7f6e5d4c3b2a1f0e9d8c7b6a5f4e", "0 found"},
	} {
		b.Run(c.name, func(b *testing.B) { benchPage(b, h, "/search?"+c.query, c.want) })
	}
}

// BenchmarkLineage serves the lineage page of the last output of a chain of 333 steps, each in
// an image of its own: 1,000 nodes drawn (333 steps, 334 data artifacts, 333 images). "drawn"
// runs Graphviz for every page; "cached" serves the page again with the drawing kept.
func BenchmarkLineage(b *testing.B) {
	if _, err := exec.LookPath("dot"); err != nil {
		b.Skip("Graphviz dot is not installed")
	}
	ix, err := index.OpenSQLite(b.Context(), filepath.Join(b.TempDir(), "index.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer ix.Close()
	if err := ix.Add(b.Context(), chainResults(b, 333, true, false)...); err != nil {
		b.Fatal(err)
	}
	path := "/lineage/" + digest.FromString("output-332").String() + "?dir=up"
	for _, c := range []struct {
		name  string
		cache int
	}{{"drawn", 0}, {"cached", 1}} {
		b.Run(c.name, func(b *testing.B) {
			h, err := dashboard.New(ix, dashboard.WithGraphCache(c.cache))
			if err != nil {
				b.Fatal(err)
			}
			req := httptest.NewRequest(http.MethodGet, path, nil)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if n := strings.Count(rec.Body.String(), "<area "); rec.Code != http.StatusOK || n != 1000 {
				b.Fatalf("GET %s: status %d, %d map areas, want 1,000", path, rec.Code, n)
			}
			benchPage(b, h, path, "<area ")
		})
	}
}
