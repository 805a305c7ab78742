package oras_test

import (
	"os"
	"path/filepath"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	provoras "github.com/provkit/provkit/oras"
)

// FuzzLayoutIndex opens a layout whose index.json holds arbitrary bytes, as a shared folder
// anyone can write may: opening, resolving, listing and repairing must fail cleanly or work,
// never panic.
func FuzzLayoutIndex(f *testing.F) {
	for _, seed := range []string{
		`{"schemaVersion":2,"manifests":[]}`,
		`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae","size":3,"annotations":{"org.opencontainers.image.ref.name":"v1"}}]}`,
		`{"manifests":[{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"sha256:bad","size":-1}]}`,
		``,
		`{"schemaVersion":2,"manifests":[`,
	} {
		f.Add([]byte(seed))
	}
	subject := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest,
		Digest: "sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae", Size: 3}
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.MkdirAll(filepath.Join(dir, "blobs", "sha256"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "index.json"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := provoras.NewLayout(t.Context(), dir)
		if err != nil {
			return
		}
		_, _ = s.Resolve(t.Context(), "v1")
		_, _ = s.Referrers(t.Context(), subject, "")
		_, _ = s.Repair(t.Context(), subject)
	})
}
