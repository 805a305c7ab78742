package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/workflow"
	"github.com/provkit/provkit/sign"
)

// TestLineageUpstreamFromFinalOutput stores a four-step workflow's files with PushFile, each
// step's record attached to its output, and asks provctl lineage what the final figure was
// made from, naming the figure alone: every step's output is upstream of it.
func TestLineageUpstreamFromFinalOutput(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	env := map[string]string{"PROVKIT_PASSWORD": "", "HOME": dir}
	mustRun(t, 0, env, "key", "generate", "--out", filepath.Join(dir, "lab"))
	key, err := sign.LoadPrivateKey(filepath.Join(dir, "lab.key"), nil)
	require.NoError(t, err)
	signer, err := sign.NewKeySigner(key)
	require.NoError(t, err)
	layout := filepath.Join(dir, "pack")
	store, err := oras.NewLayout(ctx, layout)
	require.NoError(t, err)

	push := func(name, content, tag string) (*intoto.ResourceDescriptor, digest.Digest) {
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
		_, file, err := store.PushFile(ctx, path, tag)
		require.NoError(t, err)
		rd, err := provenance.SubjectFromFile(path)
		require.NoError(t, err)
		return rd, file.Digest
	}
	step := func(name string, in []*intoto.ResourceDescriptor, out *intoto.ResourceDescriptor, outDigest digest.Digest) {
		st, err := (&workflow.Step{Name: name, Workflow: "figure", RunID: "run-3",
			Image:   "registry.example/tools/" + name + "@" + digest.FromString(name).String(),
			Command: []string{name}, Inputs: in, Outputs: []*intoto.ResourceDescriptor{out},
			BuilderID: "https://lab.example/workstation"}).Statement()
		require.NoError(t, err)
		b, err := signer.Sign(ctx, st)
		require.NoError(t, err)
		manifests, err := store.FileManifests(ctx, outDigest)
		require.NoError(t, err)
		require.Len(t, manifests, 1)
		_, err = store.Attach(ctx, manifests[0], b)
		require.NoError(t, err)
	}
	survey := &intoto.ResourceDescriptor{Uri: "https://data.example/survey.csv", Digest: map[string]string{"sha256": digest.FromString("survey").Encoded()}}
	raw, rawD := push("raw.csv", "id,score\n1,7\n2,\n", "")
	step("fetch", []*intoto.ResourceDescriptor{survey}, raw, rawD)
	clean, cleanD := push("clean.csv", "id,score\n1,7\n", "")
	step("clean", []*intoto.ResourceDescriptor{raw}, clean, cleanD)
	model, modelD := push("model.json", `{"mean":7}`, "")
	step("fit", []*intoto.ResourceDescriptor{clean}, model, modelD)
	figure, figureD := push("figure.svg", "<svg/>", "figure")
	step("plot", []*intoto.ResourceDescriptor{model}, figure, figureD)

	r := mustRun(t, 0, env, "lineage", "--key", filepath.Join(dir, "lab.pub"), "--insecure-ignore-tlog", "--oci-layout",
		"--upstream", figureD.String(), layout+":figure")
	for _, d := range []digest.Digest{modelD, cleanD, rawD, digest.FromString("survey")} {
		assert.Contains(t, r.stdout, d.String(), "upstream of the figure")
	}
}
