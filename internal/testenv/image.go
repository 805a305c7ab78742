package testenv

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	orasgo "oras.land/oras-go/v2"
)

// PushImage pushes a runnable one-layer image, whose layer holds app.txt with body, to target
// and tags it tag. Different bodies give different manifest digests.
func PushImage(t testing.TB, target orasgo.Target, tag, body string) ocispec.Descriptor {
	t.Helper()
	ctx := context.Background()
	fail := func(err error) {
		if err != nil {
			t.Helper()
			t.Fatalf("push image: %v", err)
		}
	}
	var layer bytes.Buffer
	tw := tar.NewWriter(&layer)
	fail(tw.WriteHeader(&tar.Header{Name: "app.txt", Mode: 0o644, Size: int64(len(body)), ModTime: time.Unix(0, 0)}))
	_, err := tw.Write([]byte(body))
	fail(err)
	fail(tw.Close())
	layerDesc, err := orasgo.PushBytes(ctx, target, ocispec.MediaTypeImageLayer, layer.Bytes())
	fail(err)
	config, err := json.Marshal(ocispec.Image{
		Platform: ocispec.Platform{Architecture: "amd64", OS: "linux"},
		RootFS:   ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{layerDesc.Digest}},
	})
	fail(err)
	configDesc, err := orasgo.PushBytes(ctx, target, ocispec.MediaTypeImageConfig, config)
	fail(err)
	manifest, err := json.Marshal(ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    configDesc,
		Layers:    []ocispec.Descriptor{layerDesc},
	})
	fail(err)
	desc, err := orasgo.PushBytes(ctx, target, ocispec.MediaTypeImageManifest, manifest)
	fail(err)
	fail(target.Tag(ctx, desc, tag))
	return desc
}

// Dot returns the path of Graphviz's dot program, or skips the test when it is not installed
// (`make test` installs it).
func Dot(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("dot")
	if err != nil {
		t.Skipf("skipping: Graphviz dot not found on PATH; run `make test` to install the outside programs")
	}
	return path
}
