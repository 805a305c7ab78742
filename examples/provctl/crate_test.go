package main

import (
	"archive/zip"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/require"

	"github.com/provkit/provkit/internal/testenv"
	"github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/provenance/workflow"
	"github.com/provkit/provkit/sign"
	"github.com/provkit/provkit/verify/lineage"
)

// TestLineageCrateWithData records a two-step workflow whose files are stored in an OCI layout,
// and exports it from the final figure alone as a Workflow Run Crate folder and zip holding
// every file, each copied from the layout and matching its digest; the crate follows every MUST
// of the profiles, and the step's parameters are in it.
func TestLineageCrateWithData(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	at := func(name string) string { return filepath.Join(dir, name) }
	env := map[string]string{envPassword: "", "HOME": dir}
	mustRun(t, exitOK, env, "key", "generate", "--out", at("lab"))
	key, err := sign.LoadPrivateKey(at("lab.key"), nil)
	require.NoError(t, err)
	signer, err := sign.NewKeySigner(key)
	require.NoError(t, err)
	store, err := oras.NewLayout(ctx, at("pack"))
	require.NoError(t, err)
	tool := testenv.PushImage(t, store.Target(), "tools", "analysis tools 1.0\n")
	image := "registry.example/lab/tools@" + tool.Digest.String()

	contents := map[string]string{"raw.csv": "t,v\n-50,1\n20,2\n", "clean.csv": "t,v\n20,2\n", "figure.svg": "<svg/>\n"}
	files := map[string]*intoto.ResourceDescriptor{}
	manifests := map[string]ocispec.Descriptor{}
	for name, body := range contents {
		p := at(name)
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
		m, f, err := store.PushFile(ctx, p, strings.TrimSuffix(name, filepath.Ext(name)))
		require.NoError(t, err)
		files[name] = &intoto.ResourceDescriptor{Name: name, Digest: map[string]string{"sha256": f.Digest.Encoded()}}
		manifests[name] = m
	}
	const wf = "https://lab.example/workflows/figure"
	steps := []struct {
		step     workflow.Step
		attachTo string
	}{
		{workflow.Step{Name: "clean", Workflow: wf, Image: image, Command: []string{"clean", "--min=-40", "raw.csv"},
			Parameters: map[string]any{"min": -40}, Inputs: []*intoto.ResourceDescriptor{files["raw.csv"]},
			Outputs: []*intoto.ResourceDescriptor{files["clean.csv"]}, BuilderID: "https://lab.example/runner", RunID: "run-7",
			StartedOn: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC), FinishedOn: time.Date(2026, 12, 1, 9, 5, 0, 0, time.UTC),
			Agents: []workflow.Agent{{Name: "Ada", Email: "ada@lab.example"}}}, "clean.csv"},
		{workflow.Step{Name: "plot", Workflow: wf, Image: image, Command: []string{"plot", "clean.csv"},
			Inputs: []*intoto.ResourceDescriptor{files["clean.csv"]}, Outputs: []*intoto.ResourceDescriptor{files["figure.svg"]},
			BuilderID: "https://lab.example/runner", RunID: "run-7"}, "figure.svg"},
	}
	for _, s := range steps {
		st, err := s.step.Statement()
		require.NoError(t, err)
		b, err := signer.Sign(ctx, st)
		require.NoError(t, err)
		_, err = store.Attach(ctx, manifests[s.attachTo], b)
		require.NoError(t, err)
	}

	lineageCrate := []string{"lineage", "--key", at("lab.pub"), "--insecure-ignore-tlog", "--oci-layout", "--format", "rocrate",
		"--license", "CC-BY-4.0", "--name", "Figure 1", "--workflow", wf}
	r := mustRun(t, exitOK, env, append(lineageCrate, "--crate-dir", at("crate"), at("pack")+":figure")...)
	require.Equal(t, at("crate/ro-crate-metadata.json")+"\n", r.stdout)
	metadata, err := os.ReadFile(at("crate/ro-crate-metadata.json"))
	require.NoError(t, err)
	for name, body := range contents {
		got, err := os.ReadFile(at("crate/" + name))
		require.NoError(t, err, "the crate holds %s", name)
		require.Equal(t, body, string(got))
		require.Contains(t, string(metadata), `"@id": "`+name+`"`)
	}
	require.Contains(t, string(metadata), "-40")
	findings, err := lineage.CheckROCrate(metadata)
	require.NoError(t, err)
	for _, f := range findings {
		require.NotEqual(t, lineage.LevelMust, f.Level, f.String())
	}

	mustRun(t, exitOK, env, append(lineageCrate, "--crate-zip", at("crate.zip"), at("pack")+":figure")...)
	zr, err := zip.OpenReader(at("crate.zip"))
	require.NoError(t, err)
	defer zr.Close()
	held := map[string]string{}
	for _, f := range zr.File {
		rc, err := f.Open()
		require.NoError(t, err)
		b, err := io.ReadAll(rc)
		require.NoError(t, err)
		rc.Close()
		held[f.Name] = string(b)
	}
	require.Equal(t, string(metadata), held["ro-crate-metadata.json"], "the zip holds the folder's metadata")
	for name, body := range contents {
		require.Equal(t, body, held[name])
		require.Equal(t, digest.FromString(body).Encoded(), files[name].Digest["sha256"])
	}

	mustRun(t, exitUnchecked, env, append(lineageCrate, "--crate-zip", at("crate.zip"), at("pack")+":figure")...) // never overwrites
	mustRun(t, exitUnchecked, env, "lineage", "--key", at("lab.pub"), "--insecure-ignore-tlog", "--oci-layout", "--crate-dir", at("x"), at("pack")+":figure")
}
