package oras_test

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	provoras "github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/provenance"
)

// writePack writes an image tagged "app" with two attestations into a new layout and returns
// the layout directory, the image and the bundles attached.
func writePack(t *testing.T) (string, ocispec.Descriptor, []provenance.Bundle) {
	t.Helper()
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "pack")
	s, err := provoras.NewLayout(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	image := pushImage(t, s.Target(), "example.com/app", "app")
	bundles := []provenance.Bundle{
		{MediaType: provenance.MediaTypeBundleV03, Data: []byte(`{"n":1}`), PredicateType: provenance.PredicateSLSAProvenanceV1},
		{MediaType: provenance.MediaTypeBundleV03, Data: []byte(`{"n":2}`), PredicateType: "https://spdx.dev/Document"},
	}
	for _, b := range bundles {
		if _, err := s.Attach(ctx, image, b); err != nil {
			t.Fatal(err)
		}
	}
	return dir, image, bundles
}

// tarDir archives the files below dir into a tar file, with names relative to dir.
func tarDir(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "pack.tar")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(f)
	if err := tw.AddFS(os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReadOnlyLayoutRoundTrip(t *testing.T) {
	ctx := context.Background()
	dir, image, bundles := writePack(t)
	archive := tarDir(t, dir)
	opens := map[string]func() (*provoras.Store, error){
		"OpenLayout":      func() (*provoras.Store, error) { return provoras.OpenLayout(ctx, dir) },
		"OpenLayoutFS":    func() (*provoras.Store, error) { return provoras.OpenLayoutFS(ctx, os.DirFS(dir)) },
		"OpenLayoutTar":   func() (*provoras.Store, error) { return provoras.OpenLayoutTar(ctx, archive) },
		"ParseReference":  func() (*provoras.Store, error) { return openRef(ctx, "oci-layout:"+dir+":app") },
		"ParseReferenceT": func() (*provoras.Store, error) { return openRef(ctx, dir) },
	}
	for name, open := range opens {
		t.Run(name, func(t *testing.T) {
			s, err := open()
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.Resolve(ctx, "app")
			if err != nil || got.Digest != image.Digest {
				t.Fatalf("Resolve(app) = %v, %v; want %s", got.Digest, err, image.Digest)
			}
			found, err := s.Discover(ctx, image, provoras.Query{})
			if err != nil {
				t.Fatal(err)
			}
			if len(found) != len(bundles) {
				t.Fatalf("Discover found %d attestations, want %d", len(found), len(bundles))
			}
			seen := map[string]bool{}
			for _, a := range found {
				b, err := s.FetchAttestation(ctx, a)
				if err != nil {
					t.Fatal(err)
				}
				seen[string(b.Data)+" "+b.PredicateType] = true
			}
			for _, b := range bundles {
				if !seen[string(b.Data)+" "+b.PredicateType] {
					t.Errorf("bundle %s (%s) not fetched back", b.Data, b.PredicateType)
				}
			}
		})
	}
}

func openRef(ctx context.Context, s string) (*provoras.Store, error) {
	ref, err := provoras.ParseReference(s)
	if err != nil {
		return nil, err
	}
	return ref.Open(ctx)
}

func TestReadOnlyLayoutRefusesWrites(t *testing.T) {
	ctx := context.Background()
	dir, image, _ := writePack(t)
	archive := tarDir(t, dir)
	before := snapshot(t, dir)
	stores := map[string]func() (*provoras.Store, error){
		"OpenLayout":    func() (*provoras.Store, error) { return provoras.OpenLayout(ctx, dir) },
		"OpenLayoutFS":  func() (*provoras.Store, error) { return provoras.OpenLayoutFS(ctx, os.DirFS(dir)) },
		"OpenLayoutTar": func() (*provoras.Store, error) { return provoras.OpenLayoutTar(ctx, archive) },
	}
	src, err := provoras.NewLayout(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "f.bin")
	if err := os.WriteFile(file, []byte("bytes"), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			s, err := open()
			if err != nil {
				t.Fatal(err)
			}
			var ro *provoras.ReadOnlyError
			_, err = s.Attach(ctx, image, provenance.Bundle{MediaType: provenance.MediaTypeBundleV03, Data: []byte(`{"n":3}`)})
			if !errors.Is(err, provoras.ErrReadOnly) || !errors.As(err, &ro) {
				t.Errorf("Attach = %v, want a *ReadOnlyError", err)
			}
			if _, _, err := s.PushFile(ctx, file, "f"); !errors.Is(err, provoras.ErrReadOnly) {
				t.Errorf("PushFile = %v, want ErrReadOnly", err)
			}
			if _, err := s.Repair(ctx, image); !errors.Is(err, provoras.ErrReadOnly) {
				t.Errorf("Repair = %v, want ErrReadOnly", err)
			}
			if _, err := provoras.Copy(ctx, src, "app", s, "copy"); !errors.Is(err, provoras.ErrReadOnly) {
				t.Errorf("Copy into it = %v, want ErrReadOnly", err)
			}
			if err := s.Target().Tag(ctx, image, "other"); !errors.Is(err, provoras.ErrReadOnly) {
				t.Errorf("Target().Tag = %v, want ErrReadOnly", err)
			}
		})
	}
	if after := snapshot(t, dir); after != before {
		t.Errorf("layout changed by refused writes:\nbefore %s\nafter  %s", before, after)
	}
}

// snapshot lists the files below dir with their sizes.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s %d %s\n", path, info.Size(), info.ModTime())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestOpenLayoutMissingCreatesNothing(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	missing := filepath.Join(root, "nonexistent")
	empty := filepath.Join(root, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	opens := map[string]func() error{
		"OpenLayout":          func() error { _, err := provoras.OpenLayout(ctx, missing); return err },
		"OpenLayout empty":    func() error { _, err := provoras.OpenLayout(ctx, empty); return err },
		"OpenLayoutTar":       func() error { _, err := provoras.OpenLayoutTar(ctx, missing+".tar"); return err },
		"OpenLayoutFS":        func() error { _, err := provoras.OpenLayoutFS(ctx, fstest.MapFS{}); return err },
		"oci-layout: ref":     func() error { _, err := openRef(ctx, "oci-layout:"+missing+":v1"); return err },
		"plain path ref":      func() error { _, err := openRef(ctx, missing+"@sha256:"+strings.Repeat("a", 64)); return err },
		"oci-layout: ref tar": func() error { _, err := openRef(ctx, "oci-layout:"+empty); return err },
	}
	for name, open := range opens {
		t.Run(name, func(t *testing.T) {
			err := open()
			var le *provoras.LayoutError
			if !errors.Is(err, provenance.ErrNotFound) || !errors.As(err, &le) {
				t.Fatalf("open = %v, want a *LayoutError wrapping provenance.ErrNotFound", err)
			}
			if _, err := os.Stat(missing); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("%s exists after a read-only open: %v", missing, err)
			}
			if entries, _ := os.ReadDir(empty); len(entries) != 0 {
				t.Errorf("%s holds %d entries after a read-only open", empty, len(entries))
			}
		})
	}
}

func TestOpenLayoutFSHostile(t *testing.T) {
	ctx := context.Background()
	layout := []byte(`{"imageLayoutVersion":"1.0.0"}`)
	big := `{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:` +
		strings.Repeat("a", 64) + `","size":1000000000000000000}]}`
	cases := map[string]struct {
		fsys fs.FS
		want error
	}{
		"huge manifest size": {fstest.MapFS{"oci-layout": {Data: layout}, "index.json": {Data: []byte(big)},
			"blobs/sha256/" + strings.Repeat("a", 64): {Data: []byte("{}")}}, provenance.ErrTooLarge},
		"huge index.json": {fstest.MapFS{"oci-layout": {Data: layout},
			"index.json": {Data: make([]byte, provenance.MaxManifestBytes*64+1)}}, provenance.ErrTooLarge},
		"index.json not regular": {fstest.MapFS{"oci-layout": {Data: layout},
			"index.json": {Mode: fs.ModeNamedPipe}}, provenance.ErrNotRegular},
		"tampered manifest": {fstest.MapFS{"oci-layout": {Data: layout}, "index.json": {Data: []byte(strings.Replace(big, "1000000000000000000", "2", 1))},
			"blobs/sha256/" + strings.Repeat("a", 64): {Data: []byte("{}")}}, provoras.ErrIntegrity},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := provoras.OpenLayoutFS(ctx, c.fsys)
			var le *provoras.LayoutError
			if !errors.Is(err, c.want) || !errors.As(err, &le) {
				t.Fatalf("OpenLayoutFS = %v, want a *LayoutError wrapping %v", err, c.want)
			}
		})
	}
}

func TestOpenLayoutFIFOBlob(t *testing.T) {
	ctx := context.Background()
	dir, image, _ := writePack(t)
	s, err := provoras.OpenLayoutFS(ctx, os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	found, err := s.Discover(ctx, image, provoras.Query{})
	if err != nil || len(found) == 0 {
		t.Fatalf("Discover = %d, %v", len(found), err)
	}
	b, err := s.FetchAttestation(ctx, found[0])
	if err != nil {
		t.Fatal(err)
	}
	blob := filepath.Join(dir, "blobs", "sha256", provenance.Bundle{MediaType: b.MediaType, Data: b.Data}.Descriptor().Digest.Encoded())
	if err := os.Remove(blob); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(blob, 0o644); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	for name, open := range map[string]func() (*provoras.Store, error){
		"OpenLayoutFS": func() (*provoras.Store, error) { return s, nil },
		"OpenLayout":   func() (*provoras.Store, error) { return provoras.OpenLayout(ctx, dir) },
	} {
		t.Run(name, func(t *testing.T) {
			s, err := open()
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.FetchAttestation(ctx, found[0])
			if !errors.Is(err, provenance.ErrNotRegular) {
				t.Fatalf("FetchAttestation of a FIFO = %v, want ErrNotRegular", err)
			}
		})
	}
}

func TestReadOnlyLayoutVerifiesContent(t *testing.T) {
	ctx := context.Background()
	dir, image, _ := writePack(t)
	s, err := provoras.OpenLayoutFS(ctx, os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	found, err := s.Discover(ctx, image, provoras.Query{})
	if err != nil || len(found) == 0 {
		t.Fatalf("Discover = %d, %v", len(found), err)
	}
	b, err := s.FetchAttestation(ctx, found[0])
	if err != nil {
		t.Fatal(err)
	}
	blob := filepath.Join(dir, "blobs", "sha256", provenance.Bundle{MediaType: b.MediaType, Data: b.Data}.Descriptor().Digest.Encoded())
	tampered := append([]byte(nil), b.Data...)
	tampered[0] ^= 1
	if err := os.WriteFile(blob, tampered, 0o644); err != nil {
		t.Fatal(err)
	}
	archive := tarDir(t, dir)
	for name, open := range map[string]func() (*provoras.Store, error){
		"OpenLayoutFS":  func() (*provoras.Store, error) { return s, nil },
		"OpenLayoutTar": func() (*provoras.Store, error) { return provoras.OpenLayoutTar(ctx, archive) },
		"OpenLayout":    func() (*provoras.Store, error) { return provoras.OpenLayout(ctx, dir) },
	} {
		t.Run(name, func(t *testing.T) {
			s, err := open()
			if err != nil {
				t.Fatal(err)
			}
			var ie *provoras.IntegrityError
			if _, err := s.FetchAttestation(ctx, found[0]); !errors.As(err, &ie) {
				t.Fatalf("FetchAttestation of a tampered bundle = %v, want an *IntegrityError", err)
			}
		})
	}
}

func TestOpenLayoutTarRefusesNonRegular(t *testing.T) {
	ctx := context.Background()
	dir, _, _ := writePack(t)
	path := filepath.Join(t.TempDir(), "link.tar")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(f)
	layout, err := os.ReadFile(filepath.Join(dir, "oci-layout"))
	if err != nil {
		t.Fatal(err)
	}
	if err := tw.WriteHeader(&tar.Header{Name: "oci-layout", Mode: 0o644, Size: int64(len(layout)), Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write(layout); err != nil {
		t.Fatal(err)
	}
	if err := tw.WriteHeader(&tar.Header{Name: "index.json", Linkname: "/etc/passwd", Typeflag: tar.TypeSymlink}); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = provoras.OpenLayoutTar(ctx, path)
	var le *provoras.LayoutError
	if !errors.As(err, &le) || !errors.Is(err, provenance.ErrNotFound) {
		t.Fatalf("OpenLayoutTar with a symlinked index.json = %v, want a *LayoutError wrapping ErrNotFound", err)
	}
	fifo := filepath.Join(t.TempDir(), "fifo.tar")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	if _, err := provoras.OpenLayoutTar(ctx, fifo); !errors.Is(err, provenance.ErrNotRegular) || !errors.As(err, &le) {
		t.Fatalf("OpenLayoutTar of a FIFO = %v, want a *LayoutError wrapping ErrNotRegular", err)
	}
}
