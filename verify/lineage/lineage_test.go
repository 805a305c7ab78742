package lineage_test

import (
	"bytes"
	"errors"
	"reflect"
	"slices"
	"testing"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"
	"github.com/provkit/provkit/verify"
	"github.com/provkit/provkit/verify/lineage"
)

func sorted(ds ...digest.Digest) []digest.Digest {
	out := slices.Clone(ds)
	slices.Sort(out)
	return out
}

// pipelineGraph verifies the three real steps and the forgery, checks the forgery failed, and
// returns the graph of what verified.
func pipelineGraph(t *testing.T) (*pipeline, *lineage.Graph) {
	t.Helper()
	p := newPipeline(t)
	results, failed := p.verifyAll(t, "ingest", "clean", "train", "forged")
	if len(results) != 3 || len(failed) != 1 {
		t.Fatalf("%d verified, failed: %v", len(results), failed)
	}
	var ve *verify.VerificationError
	if err := failed["forged"]; !errors.Is(err, verify.ErrVerification) || !errors.As(err, &ve) || ve.Check != verify.CheckSignature {
		t.Fatalf("forged statement: err = %v, want a signature verification failure", err)
	}
	g, err := lineage.New(results)
	if err != nil {
		t.Fatal(err)
	}
	return p, g
}

func TestPipelineGraph(t *testing.T) {
	p, g := pipelineGraph(t)
	nodes := g.Nodes()
	var keys []digest.Digest
	for _, n := range nodes {
		keys = append(keys, n.Digest)
	}
	want := sorted(p.survey, p.raw, p.clean, p.config, p.model, p.metrics, p.ingestImage, p.cleanImage, p.trainImage)
	if !slices.Equal(keys, want) {
		t.Fatalf("nodes = %v\nwant %v", keys, want)
	}
	if n, _ := g.Node(p.survey); n.Label() != "https://data.example/surveys/2026/export.csv" {
		t.Errorf("survey label %q", n.Label())
	}
	if n, _ := g.Node(p.trainImage); !slices.Equal(n.URIs, []string{"oci://registry.example/tools/train"}) || !slices.Equal(n.Names, []string{"registry.example/tools/train:2.3@" + p.trainImage.String()}) {
		t.Errorf("train image node %+v", n)
	}

	type edge struct {
		from, to digest.Digest
		step     string
		signers  []string
	}
	var got []edge
	for _, e := range g.Edges() {
		got = append(got, edge{e.From, e.To, e.Step, e.Signers})
	}
	wantEdges := []edge{
		{p.survey, p.raw, "ingest", []string{"key:alice"}},
		{p.ingestImage, p.raw, "ingest", []string{"key:alice"}},
		{p.raw, p.clean, "clean", []string{"key:alice"}},
		{p.cleanImage, p.clean, "clean", []string{"key:alice"}},
		{p.clean, p.model, "train", []string{"key:bob"}},
		{p.clean, p.metrics, "train", []string{"key:bob"}},
		{p.config, p.model, "train", []string{"key:bob"}},
		{p.config, p.metrics, "train", []string{"key:bob"}},
		{p.trainImage, p.model, "train", []string{"key:bob"}},
		{p.trainImage, p.metrics, "train", []string{"key:bob"}},
	}
	slices.SortFunc(wantEdges, func(x, y edge) int {
		if x.from != y.from {
			return bytes.Compare([]byte(x.from), []byte(y.from))
		}
		return bytes.Compare([]byte(x.to), []byte(y.to))
	})
	if !reflect.DeepEqual(got, wantEdges) {
		t.Fatalf("edges:\n%v\nwant\n%v", got, wantEdges)
	}

	acts := g.Activities()
	if len(acts) != 3 {
		t.Fatalf("%d activities", len(acts))
	}
	for _, a := range acts {
		if a.Name == "train" {
			if !slices.Equal(a.Inputs, sorted(p.clean, p.config, p.trainImage)) || !slices.Equal(a.Instruments, []digest.Digest{p.trainImage}) ||
				!slices.Equal(a.Outputs, sorted(p.model, p.metrics)) || a.BuilderID != "https://ci.example/runners/gpu" || a.InvocationID != "run-1" {
				t.Errorf("train activity %+v", a)
			}
			if got, ok := g.Activity(a.ID); !ok || got != a {
				t.Error("Activity(ID) does not find the activity")
			}
		}
	}
}

// TestForgedEdgeAbsent checks that the poisoned dataset the untrusted statement names appears
// nowhere: the forgery failed verification, so no Result exists for it to enter the graph.
func TestForgedEdgeAbsent(t *testing.T) {
	p, g := pipelineGraph(t)
	up, err := g.Upstream(p.model)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range up {
		if n, _ := g.Node(d); slices.Contains(n.Names, "poisoned.csv") {
			t.Fatalf("the forged input %s is upstream of the model", d)
		}
	}
	for _, n := range g.Nodes() {
		if slices.Contains(n.Names, "poisoned.csv") {
			t.Fatal("the forged input is a node")
		}
	}
	for _, e := range g.Edges() {
		trusted := slices.Equal(e.Signers, []string{"key:alice"}) || slices.Equal(e.Signers, []string{"key:bob"})
		if !trusted || e.Step == "train" && e.From != p.clean && e.From != p.config && e.From != p.trainImage {
			t.Fatalf("unexpected edge %+v", e)
		}
	}
}

// TestOnlyVerifiedResults shows the graph cannot take an unverified statement: New accepts
// only *verify.Result, which verify alone makes, and a zero Result made elsewhere is refused.
func TestOnlyVerifiedResults(t *testing.T) {
	typ := reflect.TypeOf(lineage.New)
	if typ.NumIn() != 1 || typ.In(0) != reflect.TypeOf([]*verify.Result(nil)) {
		t.Fatalf("New takes %v", typ)
	}
	if _, ok := any((*intoto.Statement)(nil)).(interface{ Statement() *intoto.Statement }); ok {
		t.Fatal("a bare statement satisfies the Result interface")
	}
	for name, in := range map[string][]*verify.Result{
		"nil result":  {nil},
		"zero result": {{}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := lineage.New(in)
			var re *lineage.ResultError
			if !errors.Is(err, lineage.ErrInvalidResult) || !errors.As(err, &re) || re.Index != 0 {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

func TestQueries(t *testing.T) {
	p, g := pipelineGraph(t)
	tests := []struct {
		name string
		got  func() ([]digest.Digest, error)
		want []digest.Digest
	}{
		{"upstream of model", func() ([]digest.Digest, error) { return g.Upstream(p.model) },
			sorted(p.clean, p.config, p.trainImage, p.raw, p.cleanImage, p.survey, p.ingestImage)},
		{"upstream of clean", func() ([]digest.Digest, error) { return g.Upstream(p.clean) },
			sorted(p.raw, p.cleanImage, p.survey, p.ingestImage)},
		{"upstream of raw data", func() ([]digest.Digest, error) { return g.Upstream(p.survey) }, nil},
		{"downstream of survey", func() ([]digest.Digest, error) { return g.Downstream(p.survey) },
			sorted(p.raw, p.clean, p.model, p.metrics)},
		{"downstream of clean image", func() ([]digest.Digest, error) { return g.Downstream(p.cleanImage) },
			sorted(p.clean, p.model, p.metrics)},
		{"downstream of config", func() ([]digest.Digest, error) { return g.Downstream(p.config) }, sorted(p.model, p.metrics)},
		{"downstream of model", func() ([]digest.Digest, error) { return g.Downstream(p.model) }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.got()
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("got  %v\nwant %v", got, tt.want)
			}
		})
	}

	t.Run("path survey to model", func(t *testing.T) {
		path, err := g.Path(p.survey, p.model)
		if err != nil {
			t.Fatal(err)
		}
		var hops [][3]string
		for _, e := range path {
			hops = append(hops, [3]string{string(e.From), string(e.To), e.Step})
		}
		want := [][3]string{{string(p.survey), string(p.raw), "ingest"}, {string(p.raw), string(p.clean), "clean"}, {string(p.clean), string(p.model), "train"}}
		if !reflect.DeepEqual(hops, want) {
			t.Fatalf("path %v\nwant %v", hops, want)
		}
	})
	t.Run("path to itself", func(t *testing.T) {
		path, err := g.Path(p.raw, p.raw)
		if err != nil || len(path) != 0 {
			t.Fatalf("%v %v", path, err)
		}
	})
	t.Run("no path against derivation", func(t *testing.T) {
		_, err := g.Path(p.model, p.survey)
		var npe *lineage.NoPathError
		if !errors.Is(err, lineage.ErrNoPath) || !errors.As(err, &npe) || npe.From != p.model || npe.To != p.survey {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("unknown artifact", func(t *testing.T) {
		unknown := digest.FromString("not in the graph")
		for _, f := range []func() error{
			func() error { _, err := g.Upstream(unknown); return err },
			func() error { _, err := g.Downstream(unknown); return err },
			func() error { _, err := g.Path(p.survey, unknown); return err },
			func() error { _, err := g.Path(unknown, p.survey); return err },
		} {
			var ue *lineage.UnknownArtifactError
			if err := f(); !errors.Is(err, lineage.ErrUnknownArtifact) || !errors.As(err, &ue) || ue.Digest != unknown {
				t.Fatalf("err = %v", err)
			}
		}
	})
}

// TestDeterministic builds the graph from the results in every order and from duplicates, and
// expects the same exports byte for byte.
func TestDeterministic(t *testing.T) {
	p := newPipeline(t)
	results, _ := p.verifyAll(t, "ingest", "clean", "train")
	var want [3][]byte
	orders := [][]int{{0, 1, 2}, {2, 1, 0}, {1, 2, 0}, {0, 0, 2, 1, 2}}
	for i, order := range orders {
		var in []*verify.Result
		for _, j := range order {
			in = append(in, results[j])
		}
		g, err := lineage.New(in)
		if err != nil {
			t.Fatal(err)
		}
		var got [3]bytes.Buffer
		if err := g.WriteDOT(&got[0]); err != nil {
			t.Fatal(err)
		}
		if err := g.WritePROV(&got[1]); err != nil {
			t.Fatal(err)
		}
		if err := g.WriteROCrate(&got[2], lineage.Crate{Name: "survey model", License: "CC-BY-4.0"}); err != nil {
			t.Fatal(err)
		}
		for k := range got {
			if i == 0 {
				want[k] = got[k].Bytes()
			} else if !bytes.Equal(got[k].Bytes(), want[k]) {
				t.Fatalf("order %v: export %d differs:\n%s\nwant\n%s", order, k, got[k].Bytes(), want[k])
			}
		}
		if len(g.Activities()) != 3 || len(g.Edges()) != 10 {
			t.Fatalf("order %v: %v", order, g)
		}
	}
}
