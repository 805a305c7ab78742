package lineage_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"

	"github.com/provkit/provkit/internal/testenv"
	"github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/workflow"
	"github.com/provkit/provkit/verify"
	"github.com/provkit/provkit/verify/lineage"
)

// filePipeline is a four-step workflow whose every file is stored with PushFile: fetch a
// survey (from outside the store) into raw.csv, clean it, fit a model with a config file,
// plot the model. Each step's statement is attached to the manifest of its first output.
type filePipeline struct {
	steps  []string                 // step names, in run order
	output map[string]digest.Digest // step -> its first output's digest
	final  digest.Digest            // the figure
}

func storeFilePipeline(t *testing.T, s *oras.Store, signer func(*workflow.Step) provenance.Bundle) *filePipeline {
	t.Helper()
	ctx := t.Context()
	dir := t.TempDir()
	p := &filePipeline{output: map[string]digest.Digest{}}
	push := func(name, content string) *intoto.ResourceDescriptor {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		m, file, err := s.PushFile(ctx, path, "")
		if err != nil {
			t.Fatal(err)
		}
		_ = m
		return &intoto.ResourceDescriptor{Name: name, Digest: map[string]string{"sha256": file.Digest.Encoded()}}
	}
	start := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	run := func(name string, inputs []*intoto.ResourceDescriptor, params map[string]any, outputs ...*intoto.ResourceDescriptor) {
		step := &workflow.Step{
			Name: name, Workflow: "survey-figure", RunID: "run-7",
			Image:      "registry.example/tools/" + name + "@" + digest.FromString(name+" image").String(),
			Command:    []string{name, "--out", outputs[0].GetName()},
			Parameters: params, Inputs: inputs, Outputs: outputs,
			BuilderID: "https://ci.example/runners/science",
			StartedOn: start.Add(time.Duration(len(p.steps)) * time.Hour), FinishedOn: start.Add(time.Duration(len(p.steps))*time.Hour + time.Minute),
		}
		d := digest.NewDigestFromEncoded(digest.SHA256, outputs[0].GetDigest()["sha256"])
		manifests, err := s.FileManifests(ctx, d)
		if err != nil || len(manifests) != 1 {
			t.Fatalf("manifests of %s: %v, %v", outputs[0].GetName(), manifests, err)
		}
		attach(t, s, manifests[0], signer(step))
		p.steps = append(p.steps, name)
		p.output[name] = d
	}
	survey := &intoto.ResourceDescriptor{Uri: "https://data.example/survey.csv", Digest: map[string]string{"sha256": digest.FromString("survey").Encoded()}}
	raw := push("raw.csv", "id,score\n1,7.5\n2,\n3,8\n")
	run("fetch", []*intoto.ResourceDescriptor{survey}, nil, raw)
	clean := push("clean.csv", "id,score\n1,7.5\n3,8\n")
	run("clean", []*intoto.ResourceDescriptor{raw}, map[string]any{"min": -40}, clean)
	config := push("fit.json", `{"method":"mean"}`)
	model, residuals := push("model.json", `{"mean":7.75}`), push("residuals.csv", "id,r\n1,-0.25\n3,0.25\n")
	run("fit", []*intoto.ResourceDescriptor{clean, config}, map[string]any{"seed": 42}, model, residuals)
	figure := push("figure.svg", "<svg><text>7.75</text></svg>")
	run("plot", []*intoto.ResourceDescriptor{model}, nil, figure)
	p.final = p.output["plot"]
	return p
}

// TestCollectUpstreamFromFinalOutput starts from the digest of a workflow's final figure alone
// and reaches all four steps through the files' stored manifests, in memory, in an OCI layout
// and in a registry.
func TestCollectUpstreamFromFinalOutput(t *testing.T) {
	backends := append(slices.Clone(stores), struct {
		name string
		open func(t *testing.T) (*oras.Store, error)
	}{"in-process registry", func(t *testing.T) (*oras.Store, error) {
		return oras.NewRemote(testenv.OlaregServer(t)+"/lineage/files", oras.WithPlainHTTPUnsafe())
	}})
	for _, st := range backends {
		t.Run(st.name, func(t *testing.T) {
			alice := ecdsaKey(t)
			s, err := st.open(t)
			if err != nil {
				t.Fatal(err)
			}
			p := storeFilePipeline(t, s, func(step *workflow.Step) provenance.Bundle { return signStep(t, alice, step) })
			keys, err := verify.TrustedKeys(verify.PublicKey{ID: "alice", Key: alice.Public()})
			if err != nil {
				t.Fatal(err)
			}
			v, err := verify.New(keys, verify.WithoutTransparencyLog(), verify.WithUntimestampedKeysUnsafe())
			if err != nil {
				t.Fatal(err)
			}
			c, err := lineage.CollectUpstream(t.Context(), s, v, verify.KeyIDs("alice"), lineage.Stored{Artifact: p.final})
			if err != nil {
				t.Fatal(err)
			}
			if len(c.Results) != 4 || len(c.Rejected) != 0 {
				t.Fatalf("%d results, %d rejected; want the 4 steps and nothing rejected", len(c.Results), len(c.Rejected))
			}
			g, err := lineage.New(c.Results)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, a := range g.Activities() {
				names = append(names, a.Name)
			}
			slices.Sort(names)
			want := slices.Clone(p.steps)
			slices.Sort(want)
			if !slices.Equal(names, want) {
				t.Fatalf("steps found = %v, want %v", names, want)
			}
			up, err := g.Upstream(p.final)
			if err != nil {
				t.Fatal(err)
			}
			for _, step := range []string{"fetch", "clean", "fit"} {
				if !slices.Contains(up, p.output[step]) {
					t.Errorf("upstream of the figure lacks %s's output %s", step, p.output[step])
				}
			}
		})
	}
}

// TestCollectUpstreamStartUnknown starts from a digest the store holds neither as a manifest nor
// as a file: that is a failure saying so, not an empty lineage.
func TestCollectUpstreamStartUnknown(t *testing.T) {
	f := newStoreFixture(t)
	_, err := lineage.CollectUpstream(t.Context(), f.store, f.verifier, f.identity, lineage.Stored{Artifact: digest.FromString("never stored")})
	var ce *lineage.CollectError
	if !errors.As(err, &ce) || ce.Op != "resolve" || !errors.Is(err, lineage.ErrCollect) || !errors.Is(err, provenance.ErrNotFound) {
		t.Fatalf("CollectUpstream from an unknown digest = %v, want a resolve *CollectError wrapping ErrCollect and provenance.ErrNotFound", err)
	}
	// A stored file given by digest alone is found as its manifest would be.
	c, err := lineage.CollectUpstream(t.Context(), f.store, f.verifier, f.identity, lineage.Stored{Artifact: f.dataset})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Results) != 1 || c.Results[0].Subject() != f.dataset {
		t.Fatalf("from the dataset's digest: %d results, want its one statement", len(c.Results))
	}
}

// An oras.Store finds stored files by their digest.
var _ lineage.FileFinder = (*oras.Store)(nil)
