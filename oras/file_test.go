package oras_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/provkit/provkit/internal/storetest"
	"github.com/provkit/provkit/internal/testenv"
	provoras "github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/provenance"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	orasgo "oras.land/oras-go/v2"
)

// writeFile writes data to a file named name in a temporary directory and returns its path.
func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, data, 0o644))
	return path
}

func TestPushFile(t *testing.T) {
	data := []byte("#!/bin/sh\necho release\n")
	path := writeFile(t, "release.sh", data)
	var manifests []digest.Digest
	for _, ns := range everyStore(t, "files/release", provoras.WithClock(fixedClock)) {
		t.Run(ns.name, func(t *testing.T) {
			ctx := t.Context()
			manifest, file, err := ns.s.PushFile(ctx, path, "v1")
			require.NoError(t, err)
			manifests = append(manifests, manifest.Digest)

			assert.Equal(t, digest.FromBytes(data), file.Digest)
			assert.Equal(t, int64(len(data)), file.Size)
			assert.Equal(t, "application/octet-stream", file.MediaType)
			assert.Equal(t, "release.sh", file.Annotations[ocispec.AnnotationTitle])
			assert.Equal(t, ocispec.MediaTypeImageManifest, manifest.MediaType)
			assert.Equal(t, provoras.ArtifactTypeFile, manifest.ArtifactType)

			tagged, err := ns.s.Resolve(ctx, "v1")
			require.NoError(t, err)
			assert.Equal(t, manifest.Digest, tagged.Digest)

			img, err := ns.s.Image(ctx, manifest)
			require.NoError(t, err)
			assert.Nil(t, img.Config)
			assert.Equal(t, provoras.ArtifactTypeFile, img.Manifest.ArtifactType)
			assert.Equal(t, ocispec.MediaTypeEmptyJSON, img.Manifest.Config.MediaType)
			assert.Equal(t, "2025-01-02T03:04:05Z", img.Manifest.Annotations[ocispec.AnnotationCreated])
			require.Len(t, img.Manifest.Layers, 1)
			assert.Equal(t, file, img.Manifest.Layers[0])

			rc, err := ns.s.Target().Fetch(ctx, file)
			require.NoError(t, err)
			got, err := io.ReadAll(rc)
			require.NoError(t, rc.Close())
			require.NoError(t, err)
			assert.Equal(t, data, got)

			again, againFile, err := ns.s.PushFile(ctx, path, "v1")
			require.NoError(t, err)
			assert.Equal(t, manifest, again, "pushing the same file at the same time is idempotent")
			assert.Equal(t, file, againFile)

			// Attestations about the file attach to its manifest.
			att, err := ns.s.Attach(ctx, manifest, storetest.Bundle(provenance.MediaTypeBundleV03, provenance.PredicateSLSAProvenanceV1, 1))
			require.NoError(t, err)
			found, err := ns.s.Discover(ctx, manifest, provoras.Query{PredicateType: provenance.PredicateSLSAProvenanceV1})
			require.NoError(t, err)
			require.Len(t, found, 1)
			assert.Equal(t, att.Digest, found[0].Manifest.Digest)
			b, err := ns.s.FetchAttestation(ctx, found[0])
			require.NoError(t, err)
			assert.Equal(t, provenance.PredicateSLSAProvenanceV1, b.PredicateType)
		})
	}
	require.Len(t, manifests, 3)
	assert.Equal(t, manifests[0], manifests[1], "memory and layout agree on the manifest")
	assert.Equal(t, manifests[0], manifests[2], "memory and registry agree on the manifest")
}

func TestPushFileClock(t *testing.T) {
	ctx := t.Context()
	path := writeFile(t, "app.bin", []byte{0, 1, 2, 3})
	first, err := provoras.NewMemory(provoras.WithClock(fixedClock))
	require.NoError(t, err)
	later, err := provoras.NewMemory(provoras.WithClock(provenance.FixedClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))))
	require.NoError(t, err)
	m1, f1, err := first.PushFile(ctx, path, "")
	require.NoError(t, err)
	m2, f2, err := later.PushFile(ctx, path, "")
	require.NoError(t, err)
	assert.NotEqual(t, m1.Digest, m2.Digest, "a different time gives a different manifest")
	assert.Equal(t, f1, f2, "but the same file descriptor")
	_, err = first.Resolve(ctx, "latest")
	require.ErrorIs(t, err, provenance.ErrNotFound, "an empty tag tags nothing")
}

func TestPushFileEmpty(t *testing.T) {
	path := writeFile(t, "empty", nil)
	for _, ns := range everyStore(t, "files/empty", provoras.WithClock(fixedClock)) {
		t.Run(ns.name, func(t *testing.T) {
			manifest, file, err := ns.s.PushFile(t.Context(), path, "empty")
			require.NoError(t, err)
			assert.Equal(t, digest.FromBytes(nil), file.Digest)
			assert.Zero(t, file.Size)
			img, err := ns.s.Image(t.Context(), manifest)
			require.NoError(t, err)
			assert.Equal(t, file.Digest, img.Manifest.Layers[0].Digest)
		})
	}
}

func TestPushFileRejects(t *testing.T) {
	s, err := provoras.NewMemory()
	require.NoError(t, err)
	dir := t.TempDir()
	path := writeFile(t, "a.txt", []byte("a"))

	t.Run("Missing", func(t *testing.T) {
		_, _, err := s.PushFile(t.Context(), filepath.Join(dir, "nope"), "")
		require.ErrorIs(t, err, os.ErrNotExist)
		var pe *provenance.PathError
		require.ErrorAs(t, err, &pe)
	})
	t.Run("Directory", func(t *testing.T) {
		_, _, err := s.PushFile(t.Context(), dir, "")
		var pe *provenance.PathError
		require.ErrorAs(t, err, &pe)
		assert.Equal(t, dir, pe.Path)
	})
	t.Run("BadTag", func(t *testing.T) {
		m, f, err := s.PushFile(t.Context(), path, "not a tag")
		require.ErrorIs(t, err, provoras.ErrInvalidInput)
		assert.Zero(t, m)
		assert.Zero(t, f)
		ok, err := s.Target().Exists(t.Context(), ocispec.Descriptor{MediaType: "application/octet-stream",
			Digest: digest.FromString("a"), Size: 1})
		require.NoError(t, err)
		assert.False(t, ok, "nothing is pushed when the tag is invalid")
	})
	t.Run("Cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		remote := remoteStore(t, "127.0.0.1:1", "files/cancelled")
		_, _, err := remote.PushFile(ctx, path, "")
		require.ErrorIs(t, err, context.Canceled)
	})
}

// hookTarget runs a function before answering the first Exists, which PushFile asks between
// hashing the file and pushing it.
type hookTarget struct {
	orasgo.GraphTarget
	once sync.Once
	hook func()
}

func (h *hookTarget) Exists(ctx context.Context, desc ocispec.Descriptor) (bool, error) {
	h.once.Do(h.hook)
	return h.GraphTarget.Exists(ctx, desc)
}

// TestPushFileChanged edits the file between PushFile's hashing and its push: rewritten or
// truncated files are refused, appended bytes are left out, and what is stored is always what
// was hashed.
func TestPushFileChanged(t *testing.T) {
	original := bytes.Repeat([]byte("0123456789"), 100_000)
	tests := []struct {
		name    string
		edit    func(path string) error
		changed bool
	}{
		{"Rewritten", func(p string) error {
			changed := bytes.Clone(original)
			changed[len(changed)-1] = 'x'
			return os.WriteFile(p, changed, 0o644)
		}, true},
		{"Truncated", func(p string) error { return os.Truncate(p, int64(len(original)/2)) }, true},
		{"Appended", func(p string) error {
			f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				return err
			}
			_, err = f.WriteString("more")
			return errors.Join(err, f.Close())
		}, false},
	}
	backends := map[string]func(t *testing.T) orasgo.GraphTarget{
		"memory": func(t *testing.T) orasgo.GraphTarget {
			s, err := provoras.NewMemory()
			require.NoError(t, err)
			return s.Target()
		},
		"olareg": func(t *testing.T) orasgo.GraphTarget {
			return remoteStore(t, testenv.OlaregServer(t), "files/changed").Target()
		},
	}
	for backend, newTarget := range backends {
		for _, tc := range tests {
			t.Run(backend+"/"+tc.name, func(t *testing.T) {
				path := writeFile(t, "big.bin", original)
				inner := newTarget(t)
				ht := &hookTarget{GraphTarget: inner, hook: func() { require.NoError(t, tc.edit(path)) }}
				s, err := provoras.New(ht)
				require.NoError(t, err)
				_, file, err := s.PushFile(t.Context(), path, "")
				want := ocispec.Descriptor{MediaType: "application/octet-stream", Digest: digest.FromBytes(original), Size: int64(len(original))}
				if tc.changed {
					var pe *provenance.PathError
					require.ErrorAs(t, err, &pe)
					require.ErrorIs(t, err, provoras.ErrIntegrity)
					ok, err := inner.Exists(t.Context(), want)
					require.NoError(t, err)
					assert.False(t, ok, "nothing is stored under the digest that was hashed")
					return
				}
				require.NoError(t, err)
				assert.Equal(t, want.Digest, file.Digest)
				rc, err := inner.Fetch(t.Context(), file)
				require.NoError(t, err)
				got, err := io.ReadAll(rc)
				require.NoError(t, errors.Join(err, rc.Close()))
				assert.Equal(t, original, got)
			})
		}
	}
}
