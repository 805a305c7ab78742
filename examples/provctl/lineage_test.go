package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/provkit/provkit/internal/testenv"
	"github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/diff"
	"github.com/provkit/provkit/provenance/rebuild"
	"github.com/provkit/provkit/sign"
)

// supplyChain is an OCI layout holding a base image and an app image built on it, each with SLSA
// provenance signed by the release key: the app's names the base image as a dependency.
type supplyChain struct {
	layout         string
	env            map[string]string
	key, pub       string
	base, app      ocispec.Descriptor
	baseRef, appRf string
}

func newSupplyChain(t *testing.T) *supplyChain {
	t.Helper()
	dir := t.TempDir()
	s := &supplyChain{layout: filepath.Join(dir, "pack"), env: map[string]string{"PROVKIT_PASSWORD": "", "HOME": dir}}
	mustRun(t, 0, s.env, "key", "generate", "--out", filepath.Join(dir, "release"))
	s.key, s.pub = filepath.Join(dir, "release.key"), filepath.Join(dir, "release.pub")

	store, err := oras.NewLayout(context.Background(), s.layout)
	require.NoError(t, err)
	s.base = testenv.PushImage(t, store.Target(), "base", "base v1\n")
	s.app = testenv.PushImage(t, store.Target(), "app", "app v1\n")
	s.baseRef, s.appRf = s.layout+":base", s.layout+":app"

	s.attest(t, s.baseRef, dir, "base.json", `{"uri": "git+https://git.example/base@refs/heads/main", "digest": {"sha1": "0123456789abcdef0123456789abcdef01234567"}}`)
	s.attest(t, s.appRf, dir, "app.json", `{"uri": "git+https://git.example/app@refs/heads/main", "digest": {"sha1": "89abcdef0123456789abcdef0123456789abcdef"}},
		{"uri": "oci://registry.example/base", "name": "base", "digest": {"sha256": "`+s.base.Digest.Encoded()+`"}}`)
	return s
}

// attest signs SLSA provenance with deps as its resolved dependencies and attaches it to ref.
func (s *supplyChain) attest(t *testing.T, ref, dir, file, deps string) {
	t.Helper()
	predicate := `{"buildDefinition": {"buildType": "https://ci.example/build/v1", "externalParameters": {"target": "` + file + `"},
		"resolvedDependencies": [` + deps + `]}, "runDetails": {"builder": {"id": "https://ci.example/builders/main"}}}`
	path := filepath.Join(dir, file)
	require.NoError(t, os.WriteFile(path, []byte(predicate), 0o600))
	mustRun(t, 0, s.env, "attest", "--key", s.key, "--predicate", path, "--type", "slsaprovenance1", "--oci-layout", ref)
}

// trust are the flags that trust the release key offline.
func (s *supplyChain) trust(args ...string) []string {
	return append([]string{"--key", s.pub, "--insecure-ignore-tlog", "--oci-layout"}, args...)
}

func TestLineageQueriesAndExports(t *testing.T) {
	s := newSupplyChain(t)

	r := mustRun(t, 0, s.env, append([]string{"lineage"}, s.trust("--upstream", s.app.Digest.String(), s.appRf, s.baseRef)...)...)
	assert.Contains(t, r.stdout, s.base.Digest.String()+" base")
	assert.Contains(t, r.stdout, "git+https://git.example/base@refs/heads/main", "the base image's own source is upstream of the app")
	assert.NotContains(t, r.stdout, s.app.Digest.String()+" ", "an artifact is not its own upstream")

	r = mustRun(t, 0, s.env, append([]string{"lineage"}, s.trust("--downstream", s.base.Digest.String(), "--format", "json", s.appRf, s.baseRef)...)...)
	var nodes []lineageNode
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &nodes))
	require.Len(t, nodes, 1)
	assert.Equal(t, s.app.Digest, nodes[0].Digest)

	// From the app alone, the walk finds the base image in the layout, and the base's source.
	r = mustRun(t, 0, s.env, append([]string{"lineage"}, s.trust("--upstream", s.app.Digest.String(), s.appRf)...)...)
	assert.Contains(t, r.stdout, "git+https://git.example/base@refs/heads/main")

	r = mustRun(t, 0, s.env, append([]string{"lineage"}, s.trust(s.appRf, s.baseRef)...)...)
	assert.Contains(t, r.stdout, "signed by [key:")
	assert.Contains(t, r.stdout, "  in  "+s.base.Digest.String())

	r = mustRun(t, 0, s.env, append([]string{"lineage"}, s.trust("--format", "rocrate", "--license", "CC0-1.0", s.appRf)...)...)
	var crate map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &crate))
	require.IsType(t, []any{}, crate["@context"])
	assert.Equal(t, "https://w3id.org/ro/crate/1.1/context", crate["@context"].([]any)[0])
	mustRun(t, 2, s.env, append([]string{"lineage"}, s.trust("--format", "rocrate", s.appRf)...)...)
	mustRun(t, 2, s.env, append([]string{"lineage"}, s.trust("--upstream", "sha256:1", "--downstream", "sha256:2", s.appRf)...)...)

	testenv.Dot(t)
	r = mustRun(t, 0, s.env, append([]string{"lineage"}, s.trust("--format", "html", s.appRf, s.baseRef)...)...)
	assert.Contains(t, r.stdout, `<img class="lineage-graph"`)
	assert.Contains(t, r.stdout, `src="data:image/svg+xml;base64,`)
	assert.Contains(t, r.stdout, s.base.Digest.String())
}

func TestLineageRejectsAnUntrustedSigner(t *testing.T) {
	s := newSupplyChain(t)
	// Another key claims the app was built from a different base; the graph must not show it.
	dir := t.TempDir()
	mustRun(t, 0, s.env, "key", "generate", "--out", filepath.Join(dir, "mallory"))
	forged := filepath.Join(dir, "forged.json")
	require.NoError(t, os.WriteFile(forged, []byte(`{"buildDefinition": {"buildType": "https://ci.example/build/v1", "externalParameters": {},
		"resolvedDependencies": [{"uri": "oci://evil.example/base", "digest": {"sha256": "`+strings.Repeat("e", 64)+`"}}]},
		"runDetails": {"builder": {"id": "https://evil.example"}}}`), 0o600))
	mustRun(t, 0, s.env, "attest", "--key", filepath.Join(dir, "mallory.key"), "--predicate", forged, "--type", "slsaprovenance1", "--oci-layout", s.appRf)

	r := mustRun(t, 0, s.env, append([]string{"lineage"}, s.trust(s.appRf)...)...)
	assert.Contains(t, r.stdout, "rejected ")
	assert.NotContains(t, r.stdout, "evil.example")
	assert.NotContains(t, r.stdout, strings.Repeat("e", 64))
}

func TestDiffImagesAndProvenance(t *testing.T) {
	s := newSupplyChain(t)

	r := mustRun(t, 0, s.env, "diff", "--oci-layout", s.appRf, s.appRf)
	assert.Contains(t, r.stdout, "no differences")

	r = mustRun(t, 1, s.env, "diff", "--oci-layout", s.baseRef, s.appRf)
	assert.Contains(t, r.stdout, "~ layers[0]: "+"sha256:")
	assert.Contains(t, r.stdout, "~ rootfs.diffIDs[0]")

	r = mustRun(t, 1, s.env, append([]string{"diff", "--output", "json"}, s.trust(s.baseRef, s.appRf)...)...)
	var report diff.Report
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &report))
	assert.Equal(t, diff.ReportSchema, report.Schema)
	assert.True(t, report.Drifted())
	fields := map[string]diff.Change{}
	for _, c := range report.Changes {
		fields[c.Field] = c
	}
	assert.Contains(t, fields, "layers[0]")
	assert.Contains(t, fields, "externalParameters.target")

	// An image without provenance: that is a difference; two such images cannot be compared.
	store, err := oras.NewLayout(context.Background(), s.layout)
	require.NoError(t, err)
	testenv.PushImage(t, store.Target(), "bare", "bare v1\n")
	testenv.PushImage(t, store.Target(), "bare2", "bare v2\n")
	r = mustRun(t, 1, s.env, append([]string{"diff"}, s.trust(s.appRf, s.layout+":bare")...)...)
	assert.Contains(t, r.stdout, "~ provenance: verified -> no SLSA provenance attached")
	r = mustRun(t, 1, s.env, append([]string{"diff"}, s.trust(s.layout+":bare", s.layout+":bare2")...)...)
	assert.Contains(t, r.stderr, "no verified provenance on either side")
	assert.Contains(t, fields, "externalParameters.target", "verified provenance is compared too")
	assert.Equal(t, "base.json", fields["externalParameters.target"].Baseline)
}

func TestDiffAcrossEnvironments(t *testing.T) {
	s := newSupplyChain(t)
	staging := filepath.Join(t.TempDir(), "staging")
	store, err := oras.NewLayout(context.Background(), staging)
	require.NoError(t, err)
	testenv.PushImage(t, store.Target(), "app", "app v2\n")
	empty := filepath.Join(t.TempDir(), "empty")
	_, err = oras.NewLayout(context.Background(), empty)
	require.NoError(t, err)

	mustRun(t, 0, s.env, "diff", "--environments", "--oci-layout", "prod="+s.appRf, "dr="+s.appRf)
	r := mustRun(t, 1, s.env, "diff", "--environments", "--oci-layout", "prod="+s.appRf, "staging="+staging+":app", "dr="+empty+":app")
	assert.Contains(t, r.stdout, "~ environments.staging: "+s.app.Digest.String())
	assert.Contains(t, r.stdout, "- environments.dr")
	mustRun(t, 2, s.env, "diff", "--environments", "--oci-layout", "prod="+s.appRf, "staging="+staging+":v2")
	mustRun(t, 2, s.env, "diff", "--environments", "--oci-layout", "prod="+s.appRf, "prod="+staging+":app")
}

func TestRebuildCheck(t *testing.T) {
	s := newSupplyChain(t)
	store, err := oras.NewLayout(context.Background(), s.layout)
	require.NoError(t, err)
	require.NoError(t, store.Target().Tag(context.Background(), s.app, "app-rebuilt")) // a bit-for-bit rebuild
	testenv.PushImage(t, store.Target(), "app-drifted", "app v1 with a patch\n")

	r := mustRun(t, 0, s.env, append([]string{"rebuild-check"}, s.trust("--image", s.layout+":app-rebuilt", "--sign-key", s.key, s.appRf)...)...)
	assert.Contains(t, r.stdout, "match ")
	r = mustRun(t, 0, s.env, "discover", "--oci-layout", "--output", "json", s.appRf)
	assert.Contains(t, r.stdout, rebuild.PredicateType, "the signed result is attached to the original")

	r = mustRun(t, 1, s.env, append([]string{"rebuild-check", "--output", "json"}, s.trust("--image", s.layout+":app-drifted", s.appRf)...)...)
	st, err := provenance.ParseStatement([]byte(r.stdout))
	require.NoError(t, err)
	res, err := rebuild.Parse(st)
	require.NoError(t, err)
	assert.False(t, res.Matched())
	var fields []string
	for _, c := range res.Differences {
		fields = append(fields, c.Field)
	}
	assert.Contains(t, fields, "image.layers[0]")

	mustRun(t, 2, s.env, append([]string{"rebuild-check"}, s.trust(s.appRf)...)...)
	mustRun(t, 1, s.env, append([]string{"rebuild-check"}, s.trust("--image", s.appRf, s.layout+":app-drifted")...)...)
}

func TestRebuildCheckFilesAndFolders(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	env := map[string]string{"PROVKIT_PASSWORD": "", "HOME": dir}
	mustRun(t, 0, env, "key", "generate", "--out", filepath.Join(dir, "release"))
	key, err := sign.LoadPrivateKey(filepath.Join(dir, "release.key"), nil)
	require.NoError(t, err)
	signer, err := sign.NewKeySigner(key)
	require.NoError(t, err)

	// The original build wrote dist/ with two files; its provenance names both, and is attached
	// to the OCI artifact holding dist/app.
	dist := filepath.Join(dir, "dist")
	require.NoError(t, os.MkdirAll(dist, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dist, "app"), []byte("binary v1\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dist, "app.sbom.json"), []byte(`{"packages":[]}`), 0o644))
	subjects, err := provenance.SubjectsFromDir(ctx, dist)
	require.NoError(t, err)
	st, err := (&provenance.Build{BuildType: "https://ci.example/build/v1", BuilderID: "https://ci.example/builders/main",
		ExternalParameters: map[string]any{"target": "dist"}}).Statement(subjects)
	require.NoError(t, err)
	layout := filepath.Join(dir, "pack")
	store, err := oras.NewLayout(ctx, layout)
	require.NoError(t, err)
	manifest, _, err := store.PushFile(ctx, filepath.Join(dist, "app"), "app")
	require.NoError(t, err)
	b, err := signer.Sign(ctx, st)
	require.NoError(t, err)
	_, err = store.Attach(ctx, manifest, b)
	require.NoError(t, err)
	trust := []string{"rebuild-check", "--key", filepath.Join(dir, "release.pub"), "--insecure-ignore-tlog", "--oci-layout"}

	// A rebuild of the folder that matches, then one whose SBOM differs: the report names the file.
	rebuilt := filepath.Join(dir, "rebuilt")
	require.NoError(t, os.CopyFS(rebuilt, os.DirFS(dist)))
	r := mustRun(t, 0, env, append(trust, "--dir", rebuilt, layout+":app")...)
	assert.Contains(t, r.stdout, "match ")
	require.NoError(t, os.WriteFile(filepath.Join(rebuilt, "app.sbom.json"), []byte(`{"packages":[{"name":"extra"}]}`), 0o644))
	r = mustRun(t, 1, env, append(trust, "--dir", rebuilt, layout+":app")...)
	assert.Contains(t, r.stdout, "~ subjects[app.sbom.json]: sha256:")
	assert.NotContains(t, r.stdout, "subjects[app]:")

	// One file against provenance of two: the other is missing from the rebuild.
	r = mustRun(t, 1, env, append(trust, "--file", filepath.Join(dist, "app"), layout+":app")...)
	assert.Contains(t, r.stdout, "- subjects[app.sbom.json]: sha256:")
}

// TestLineageFailsWhenNothingVerifies trusts a key that signed nothing: every format fails with
// the reason, and none writes an empty graph, an empty crate or an empty report as if it were
// the lineage.
func TestLineageFailsWhenNothingVerifies(t *testing.T) {
	s := newSupplyChain(t)
	dir := t.TempDir()
	mustRun(t, 0, s.env, "key", "generate", "--out", filepath.Join(dir, "other"))
	other := []string{"lineage", "--key", filepath.Join(dir, "other.pub"), "--insecure-ignore-tlog", "--oci-layout"}
	for _, args := range [][]string{
		{s.appRf},
		{"--format", "json", s.appRf},
		{"--format", "prov", s.appRf},
		{"--format", "rocrate", "--license", "CC0-1.0", s.appRf},
		{"--format", "dot", s.appRf, s.baseRef},
		{"--format", "html", s.appRf},
		{"--upstream", s.app.Digest.String(), s.appRf},
	} {
		t.Run(strings.Join(args[:len(args)-1], " "), func(t *testing.T) {
			r := mustRun(t, 1, s.env, append(other, args...)...)
			assert.Empty(t, r.stdout)
			assert.Contains(t, r.stderr, "no attestation verified")
			assert.Regexp(t, `\([12] rejected: sha256:[0-9a-f]{64}: verify: signature check failed`, r.stderr, "the reason names what was tried")
		})
	}
	// An image with no attestation at all fails the same way.
	store, err := oras.NewLayout(context.Background(), s.layout)
	require.NoError(t, err)
	testenv.PushImage(t, store.Target(), "bare", "bare v1\n")
	r := mustRun(t, 1, s.env, append([]string{"lineage"}, s.trust("--format", "json", s.layout+":bare")...)...)
	assert.Empty(t, r.stdout)
	assert.Contains(t, r.stderr, "no attestation verified (0 rejected)")
}

// TestDiffEnvironmentsTagNowhere compares a tag that no environment has: that is a failure with
// the reason, not "no differences".
func TestDiffEnvironmentsTagNowhere(t *testing.T) {
	s := newSupplyChain(t)
	empty := filepath.Join(t.TempDir(), "empty")
	_, err := oras.NewLayout(context.Background(), empty)
	require.NoError(t, err)
	for _, output := range []string{"text", "json"} {
		r := mustRun(t, 1, s.env, "diff", "--environments", "--output", output, "--oci-layout", "prod="+s.layout+":v9", "dr="+empty+":v9")
		assert.Empty(t, r.stdout)
		assert.NotContains(t, r.stderr, "no differences")
		assert.Contains(t, r.stderr, `tag "v9" is in none of the environments prod, dr`)
	}
	// In one environment only: a difference, exit 1, with the report.
	r := mustRun(t, 1, s.env, "diff", "--environments", "--oci-layout", "prod="+s.layout+":app", "dr="+empty+":app")
	assert.Contains(t, r.stdout, "- environments.dr")
}
