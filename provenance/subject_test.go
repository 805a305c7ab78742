package provenance_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/provkit/provkit/provenance"
)

func sums(data []byte) (string, string) {
	a := sha256.Sum256(data)
	b := sha512.Sum512(data)
	return hex.EncodeToString(a[:]), hex.EncodeToString(b[:])
}

// pattern returns n deterministic bytes that differ chunk to chunk, so a hasher that skipped,
// repeated or reordered a chunk would give another digest.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/1021)
	}
	return b
}

func TestSubjectFromReaderSizes(t *testing.T) {
	const chunk = 1 << 20
	for _, n := range []int{0, 1, chunk - 1, chunk, chunk + 1, 3*chunk + 17, 9 * chunk} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			data := pattern(n)
			want256, want512 := sums(data)

			rd, err := provenance.SubjectFromReader("x", bytes.NewReader(data))
			require.NoError(t, err)
			assert.Equal(t, map[string]string{"sha256": want256}, rd.GetDigest())

			// A reader that returns a few bytes at a time exercises short reads.
			rd, err = provenance.SubjectFromReader("x", io.LimitReader(&dribble{r: bytes.NewReader(data)}, int64(n)),
				provenance.WithAlgorithms(digest.SHA256, digest.SHA512))
			require.NoError(t, err)
			assert.Equal(t, map[string]string{"sha256": want256, "sha512": want512}, rd.GetDigest())
		})
	}
}

type dribble struct{ r io.Reader }

func (d *dribble) Read(p []byte) (int, error) {
	if len(p) > 4093 {
		p = p[:4093]
	}
	return d.r.Read(p)
}

type failingReader struct{ after int }

var errDisk = errors.New("disk on fire")

func (f *failingReader) Read(p []byte) (int, error) {
	if f.after <= 0 {
		return 0, errDisk
	}
	n := min(len(p), f.after)
	f.after -= n
	return n, nil
}

func TestSubjectFromReaderPropagatesReadErrors(t *testing.T) {
	for _, after := range []int{0, 10, 5 << 20} {
		t.Run(fmt.Sprint(after), func(t *testing.T) {
			_, err := provenance.SubjectFromReader("x", &failingReader{after: after},
				provenance.WithAlgorithms(digest.SHA256, digest.SHA512))
			assert.ErrorIs(t, err, errDisk)
		})
	}
}

func TestHashOptionErrors(t *testing.T) {
	tests := []struct {
		name string
		opt  provenance.HashOption
	}{
		{"unsupported algorithm", provenance.WithAlgorithms("md5")},
		{"duplicate algorithm", provenance.WithAlgorithms(digest.SHA256, digest.SHA256)},
		{"no algorithm", provenance.WithAlgorithms()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := provenance.SubjectFromReader("x", bytes.NewReader(nil), tt.opt)
			assert.ErrorIs(t, err, provenance.ErrInvalidDigest)
		})
	}
	_, err := provenance.SubjectsFromDir(context.Background(), t.TempDir(), provenance.WithWorkers(0))
	assert.ErrorContains(t, err, "workers")
}

func TestSubjectFromFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.tar")
	data := pattern(3<<20 + 5)
	require.NoError(t, os.WriteFile(path, data, 0o644))
	want, _ := sums(data)

	var progress atomic.Int64
	rd, err := provenance.SubjectFromFile(path, provenance.WithProgress(func(n int64) { progress.Store(n) }))
	require.NoError(t, err)
	assert.Equal(t, "app.tar", rd.GetName())
	assert.Equal(t, want, rd.GetDigest()["sha256"])
	assert.Equal(t, int64(len(data)), progress.Load())

	_, err = provenance.SubjectFromFile(filepath.Join(dir, "missing"))
	var pe *provenance.PathError
	require.ErrorAs(t, err, &pe)
	assert.ErrorIs(t, err, os.ErrNotExist)

	_, err = provenance.SubjectFromFile(dir)
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "hash", pe.Op)
}

func TestSubjectFromDescriptor(t *testing.T) {
	desc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromString("m"), Size: 1}
	rd, err := provenance.SubjectFromDescriptor("registry.example/team/app", desc)
	require.NoError(t, err)
	assert.Equal(t, "registry.example/team/app", rd.GetName())
	assert.Equal(t, map[string]string{"sha256": desc.Digest.Encoded()}, rd.GetDigest())

	_, err = provenance.SubjectFromDescriptor("r", ocispec.Descriptor{Digest: "sha256:nothex"})
	assert.ErrorIs(t, err, provenance.ErrInvalidDigest)
	_, err = provenance.SubjectFromDescriptor("", desc)
	assert.ErrorIs(t, err, provenance.ErrMissingField)
}

func writeTree(t testing.TB, root string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
	}
}

func TestSubjectsFromDir(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"bin/app":         "binary",
		"README":          "readme",
		"a/b/c/deep.txt":  "deep",
		"a/z.txt":         "z",
		"empty/.keep":     "",
		"with space/file": "space",
	})
	require.NoError(t, os.Symlink("bin/app", filepath.Join(root, "app-link")))
	require.NoError(t, os.Symlink("a", filepath.Join(root, "dir-link")))

	for _, workers := range []int{1, 2, 8} {
		t.Run(fmt.Sprintf("workers=%d", workers), func(t *testing.T) {
			got, err := provenance.SubjectsFromDir(context.Background(), root, provenance.WithWorkers(workers))
			require.NoError(t, err)
			var names []string
			for _, rd := range got {
				names = append(names, rd.GetName())
			}
			assert.Equal(t, []string{"README", "a/b/c/deep.txt", "a/z.txt", "app-link", "bin/app", "empty/.keep", "with space/file"}, names)
			want, _ := sums([]byte("binary"))
			assert.Equal(t, want, got[3].GetDigest()["sha256"], "a link inside the tree is hashed as its target")
			assert.Equal(t, want, got[4].GetDigest()["sha256"])
		})
	}
}

func TestSubjectsFromDirRefusesLinksOutOfTree(t *testing.T) {
	outside := t.TempDir()
	writeTree(t, outside, map[string]string{"secret": "s"})
	tests := map[string]string{
		"absolute link":  filepath.Join(outside, "secret"),
		"relative climb": "../" + filepath.Base(outside) + "/secret",
		"link to dir":    outside,
	}
	for name, target := range tests {
		t.Run(name, func(t *testing.T) {
			parent := filepath.Dir(outside)
			root, err := os.MkdirTemp(parent, "tree")
			require.NoError(t, err)
			t.Cleanup(func() { os.RemoveAll(root) })
			writeTree(t, root, map[string]string{"ok": "ok"})
			require.NoError(t, os.Symlink(target, filepath.Join(root, "escape")))

			_, err = provenance.SubjectsFromDir(context.Background(), root)
			assert.ErrorIs(t, err, provenance.ErrOutsideTree)
			var pe *provenance.PathError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, "escape", pe.Path)
		})
	}
}

func TestSubjectsFromDirErrors(t *testing.T) {
	_, err := provenance.SubjectsFromDir(context.Background(), t.TempDir())
	assert.ErrorIs(t, err, provenance.ErrNoSubjects)

	_, err = provenance.SubjectsFromDir(context.Background(), filepath.Join(t.TempDir(), "nope"))
	assert.ErrorIs(t, err, os.ErrNotExist)

	root := t.TempDir()
	writeTree(t, root, map[string]string{"f": "x"})
	require.NoError(t, os.Symlink("missing", filepath.Join(root, "dangling")))
	_, err = provenance.SubjectsFromDir(context.Background(), root)
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func TestSubjectsFromDirCancelled(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{}
	for i := range 200 {
		files[fmt.Sprintf("f%03d", i)] = "x"
	}
	writeTree(t, root, files)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := provenance.SubjectsFromDir(ctx, root, provenance.WithWorkers(2))
	assert.ErrorIs(t, err, context.Canceled)
}
