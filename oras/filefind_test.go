package oras_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	provoras "github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/provenance"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	orasgo "oras.land/oras-go/v2"
)

// TestFileManifests finds a stored file's manifests from the file's digest alone, in every
// backend: both manifests of a file pushed at two times, none for a file never pushed, and not
// a manifest that names the file without being a PushFile manifest of it.
func TestFileManifests(t *testing.T) {
	data := []byte("id,score\n1,7.5\n")
	path := writeFile(t, "data.csv", data)
	later := provenance.FixedClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	for _, ns := range everyStore(t, "files/find", provoras.WithClock(fixedClock)) {
		t.Run(ns.name, func(t *testing.T) {
			ctx := t.Context()
			none, err := ns.s.FileManifests(ctx, digest.FromBytes(data))
			require.NoError(t, err)
			assert.Empty(t, none, "nothing stored yet")

			first, file, err := ns.s.PushFile(ctx, path, "")
			require.NoError(t, err)
			got, err := ns.s.FileManifests(ctx, file.Digest)
			require.NoError(t, err)
			require.Len(t, got, 1)
			assert.Equal(t, first.Digest, got[0].Digest)
			assert.Equal(t, provoras.ArtifactTypeFile, got[0].ArtifactType)
			assert.Equal(t, first.Size, got[0].Size)

			// The same file pushed at another time: a second manifest, found as well.
			other, err := provoras.New(ns.s.Target(), provoras.WithClock(later))
			require.NoError(t, err)
			second, _, err := other.PushFile(ctx, path, "")
			require.NoError(t, err)
			require.NotEqual(t, first.Digest, second.Digest)
			got, err = ns.s.FileManifests(ctx, file.Digest)
			require.NoError(t, err)
			var digests []digest.Digest
			for _, d := range got {
				digests = append(digests, d.Digest)
			}
			assert.ElementsMatch(t, []digest.Digest{first.Digest, second.Digest}, digests)

			// An image whose layer happens to be the file's bytes is not a stored file.
			layer := pushRaw(t, ns.s.Target(), ocispec.MediaTypeImageLayer, []byte("not the file"))
			img, err := orasgo.PackManifest(ctx, ns.s.Target(), orasgo.PackManifestVersion1_1, "application/vnd.example.image",
				orasgo.PackManifestOptions{Layers: []ocispec.Descriptor{layer}})
			require.NoError(t, err)
			got, err = ns.s.FileManifests(ctx, layer.Digest)
			require.NoError(t, err)
			assert.Empty(t, got, "%s is an image, not a stored file", img.Digest)

			_, err = ns.s.FileManifests(ctx, "sha256:nothex")
			var ie *provoras.InputError
			require.ErrorAs(t, err, &ie)
		})
	}
}

// TestFileManifestsForgedRecord points a file record at a manifest that does not hold the file:
// the record is read and the manifest refused.
func TestFileManifestsForgedRecord(t *testing.T) {
	ctx := t.Context()
	for _, ns := range everyStore(t, "files/forged") {
		t.Run(ns.name, func(t *testing.T) {
			path := writeFile(t, "real.bin", []byte("real"))
			m, _, err := ns.s.PushFile(ctx, path, "")
			require.NoError(t, err)
			victim := digest.FromString("victim file")
			// A record named for the victim, on a manifest of another file, with the
			// manifest-prefix the victim's record would carry.
			tag := "sha256-" + victim.Encoded() + ".file-" + m.Digest.Encoded()[:32]
			require.NoError(t, ns.s.Target().Tag(ctx, m, tag))
			got, err := ns.s.FileManifests(ctx, victim)
			require.NoError(t, err)
			assert.Empty(t, got)
		})
	}
}

// TestFileManifestsLayoutWithoutRecords finds a file in a layout written without file records,
// as oras push writes one, through the layout's graph.
func TestFileManifestsLayoutWithoutRecords(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	s, err := provoras.NewLayout(ctx, dir)
	require.NoError(t, err)
	data := []byte("model weights")
	file := pushRaw(t, s.Target(), "application/octet-stream", data)
	file.Annotations = map[string]string{ocispec.AnnotationTitle: "model.bin"}
	m, err := orasgo.PackManifest(ctx, s.Target(), orasgo.PackManifestVersion1_1, provoras.ArtifactTypeFile,
		orasgo.PackManifestOptions{Layers: []ocispec.Descriptor{file}})
	require.NoError(t, err)
	reopened, err := provoras.OpenLayout(ctx, dir)
	require.NoError(t, err)
	got, err := reopened.FileManifests(ctx, file.Digest)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, m.Digest, got[0].Digest)
	raw, err := json.Marshal(got[0])
	require.NoError(t, err)
	assert.Contains(t, string(raw), provoras.ArtifactTypeFile)
}
