package main

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	orasgo "oras.land/oras-go/v2"

	"github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/rebuild"
	"github.com/provkit/provkit/provenance/workflow"
	"github.com/provkit/provkit/sign"
)

// upperSource is the program of the test image: "upper IN OUT" writes IN upper-cased to OUT,
// followed by the value of SUFFIX.
const upperSource = `package main

import (
	"fmt"
	"os"
	"strings"
)

func main() {
	data, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := os.WriteFile(os.Args[2], []byte(strings.ToUpper(string(data))+os.Getenv("SUFFIX")), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println("wrote", os.Args[2])
}
`

// buildUpper builds upperSource as a static linux binary into dir and returns its path.
func buildUpper(t *testing.T, dir string) string {
	t.Helper()
	src := filepath.Join(dir, "src")
	require.NoError(t, os.MkdirAll(src, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(src, "go.mod"), []byte("module upper\n\ngo 1.22\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(src, "main.go"), []byte(upperSource), 0o644))
	bin := filepath.Join(dir, "upper")
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOTOOLCHAIN=local", "GOFLAGS=")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	return bin
}

// pushUpperImage pushes an image whose one layer holds the program at /usr/bin/upper.
func pushUpperImage(t *testing.T, target orasgo.Target, bin string) ocispec.Descriptor {
	t.Helper()
	ctx := context.Background()
	prog, err := os.ReadFile(bin)
	require.NoError(t, err)
	var layer bytes.Buffer
	tw := tar.NewWriter(&layer)
	require.NoError(t, tw.WriteHeader(&tar.Header{Name: "usr/bin/upper", Mode: 0o755, Size: int64(len(prog)), ModTime: time.Unix(0, 0)}))
	_, err = tw.Write(prog)
	require.NoError(t, err)
	require.NoError(t, tw.Close())
	layerDesc, err := orasgo.PushBytes(ctx, target, ocispec.MediaTypeImageLayer, layer.Bytes())
	require.NoError(t, err)
	config, err := json.Marshal(ocispec.Image{Platform: ocispec.Platform{OS: "linux", Architecture: "amd64"},
		RootFS: ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{layerDesc.Digest}}})
	require.NoError(t, err)
	configDesc, err := orasgo.PushBytes(ctx, target, ocispec.MediaTypeImageConfig, config)
	require.NoError(t, err)
	manifest, err := json.Marshal(ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest,
		Config: configDesc, Layers: []ocispec.Descriptor{layerDesc}})
	require.NoError(t, err)
	desc, err := orasgo.PushBytes(ctx, target, ocispec.MediaTypeImageManifest, manifest)
	require.NoError(t, err)
	return desc
}

// TestRerun records a step that ran for real (the program in its image, on a stored input),
// re-runs it from the record with provctl rerun, signs the outcome and verifies it; then a
// record that claims another output: a mismatch, exit status 1, signed all the same.
func TestRerun(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("provctl rerun chroots into the step's image, which needs root privileges")
	}
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
	bin := buildUpper(t, dir)
	image := pushUpperImage(t, store.Target(), bin)

	// The original run, on the host: notes.txt -> NOTES.TXT, recorded and signed.
	work := filepath.Join(dir, "work")
	require.NoError(t, os.MkdirAll(work, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(work, "notes.txt"), []byte("min=-40\n"), 0o644))
	cmd := exec.Command(bin, "notes.txt", "NOTES.TXT")
	cmd.Dir, cmd.Env = work, []string{"SUFFIX=#done"}
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	record := func(output []byte, tag string) {
		path := filepath.Join(t.TempDir(), "NOTES.TXT")
		require.NoError(t, os.WriteFile(path, output, 0o644))
		_, _, err := store.PushFile(ctx, filepath.Join(work, "notes.txt"), "")
		require.NoError(t, err)
		m, _, err := store.PushFile(ctx, path, tag)
		require.NoError(t, err)
		in, err := provenance.SubjectFromFile(filepath.Join(work, "notes.txt"))
		require.NoError(t, err)
		outRD, err := provenance.SubjectFromFile(path)
		require.NoError(t, err)
		st, err := (&workflow.Step{Name: "upper", Workflow: "notes", Image: "registry.example/tools/upper@" + image.Digest.String(),
			Command: []string{"upper", "notes.txt", "NOTES.TXT"}, Parameters: map[string]any{"min": -40},
			Environment: map[string]string{"SUFFIX": "#done"},
			Inputs:      []*intoto.ResourceDescriptor{in}, Outputs: []*intoto.ResourceDescriptor{outRD},
			BuilderID: "https://lab.example/workstation"}).Statement()
		require.NoError(t, err)
		b, err := signer.Sign(ctx, st)
		require.NoError(t, err)
		_, err = store.Attach(ctx, m, b)
		require.NoError(t, err)
	}
	produced, err := os.ReadFile(filepath.Join(work, "NOTES.TXT"))
	require.NoError(t, err)
	record(produced, "notes")
	trust := []string{"--key", filepath.Join(dir, "lab.pub"), "--insecure-ignore-tlog", "--oci-layout"}

	r := mustRun(t, 0, env, append(append([]string{"rerun"}, trust...), "--sign-key", filepath.Join(dir, "lab.key"), layout+":notes")...)
	assert.Contains(t, r.stdout, `rerun    step "upper" in registry.example/tools/upper@`+image.Digest.String()+": upper notes.txt NOTES.TXT")
	assert.Contains(t, r.stdout, "match    oci-layout:"+layout+":notes: rebuilt from the same inputs, and every output matched; outputs compared: 1 file by sha256; inputs compared: 2, each fetched by its digest and used")
	r = mustRun(t, 0, env, append(append([]string{"verify"}, trust...), "--type", rebuild.PredicateType, layout+":notes")...)
	assert.Contains(t, r.stdout, "1 of 1 attestations verified")

	// A record whose output is not what the step writes.
	record([]byte("SOMETHING ELSE\n"), "claimed")
	r = mustRun(t, 1, env, append(append([]string{"rerun"}, trust...), "--sign-key", filepath.Join(dir, "lab.key"), layout+":claimed")...)
	assert.Contains(t, r.stdout, "mismatch oci-layout:"+layout+":claimed: did not match: 1 difference")
	assert.Contains(t, r.stdout, "~ subjects[NOTES.TXT]: sha256:")
	mustRun(t, 0, env, append(append([]string{"verify"}, trust...), "--type", rebuild.PredicateType, layout+":claimed")...)

	// JSON: the rebuild statement, about the recorded output, with what was used in it.
	r = mustRun(t, 0, env, append(append([]string{"rerun", "--output", "json"}, trust...), layout+":notes")...)
	st, err := provenance.ParseStatement([]byte(r.stdout))
	require.NoError(t, err)
	res, err := rebuild.Parse(st)
	require.NoError(t, err)
	assert.True(t, res.Matched())
	assert.Equal(t, []string{rebuild.ComparedSubjects, rebuild.ComparedInputs}, res.Compared)
	require.Len(t, res.Inputs, 2)
	assert.Equal(t, image.Digest.Encoded(), res.Inputs[0].GetDigest()["sha256"])

	// Provenance of another kind of build: denied with the reason; an unknown REF cannot be checked.
	other := filepath.Join(t.TempDir(), "app.bin")
	require.NoError(t, os.WriteFile(other, []byte("binary"), 0o644))
	m, _, err := store.PushFile(ctx, other, "app")
	require.NoError(t, err)
	subject, err := provenance.SubjectFromFile(other)
	require.NoError(t, err)
	st, err = (&provenance.Build{BuildType: "https://ci.example/build/v1", BuilderID: "https://ci.example/builders/main", ExternalParameters: map[string]any{"target": "app"}}).Statement([]*intoto.ResourceDescriptor{subject})
	require.NoError(t, err)
	b, err := signer.Sign(ctx, st)
	require.NoError(t, err)
	_, err = store.Attach(ctx, m, b)
	require.NoError(t, err)
	r = mustRun(t, 1, env, append(append([]string{"rerun"}, trust...), layout+":app")...)
	assert.Contains(t, r.stderr, `rerun: record buildType: is "https://ci.example/build/v1", not "`+workflow.BuildType+`"`)
	r = mustRun(t, 2, env, append(append([]string{"rerun"}, trust...), layout+":nothing")...)
	assert.Contains(t, r.stderr, "resolve")
}
