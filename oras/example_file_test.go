package oras_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"

	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	provoras "github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/provenance"
	orasgo "oras.land/oras-go/v2"
)

// Store a release binary as an OCI artifact and attach an attestation to it. The statement
// inside the bundle would name the file's digest as its subject.
func ExampleStore_PushFile() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "pushfile")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "app-linux-amd64")
	if err := os.WriteFile(path, []byte("binary contents\n"), 0o644); err != nil {
		panic(err)
	}
	store, err := provoras.NewMemory(provoras.WithClock(provenance.FixedClock(time.Unix(1700000000, 0))))
	if err != nil {
		panic(err)
	}
	manifest, file, err := store.PushFile(ctx, path, "v1.0.0")
	if err != nil {
		panic(err)
	}
	fmt.Println("file:", file.Digest, file.Annotations[ocispec.AnnotationTitle])
	fmt.Println("artifact:", manifest.ArtifactType)
	// The clock is fixed, so pushing the same file again anywhere gives the same manifest.
	fmt.Println("manifest:", manifest.Digest)

	att, err := store.Attach(ctx, manifest, provenance.Bundle{
		MediaType:     provenance.MediaTypeBundleV03,
		Data:          []byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}`),
		PredicateType: provenance.PredicateSLSAProvenanceV1,
	})
	if err != nil {
		panic(err)
	}
	found, err := store.Discover(ctx, manifest, provoras.Query{})
	if err != nil {
		panic(err)
	}
	fmt.Println("attestations:", len(found), found[0].Manifest.Digest == att.Digest)
	// Output:
	// file: sha256:866be5819290b4c36e2ffd6ec2de180fdd684258c164d11a95a449473ec16f6b app-linux-amd64
	// artifact: application/vnd.provkit.file.v1
	// manifest: sha256:8aefee162f2afd292ce41faafd3809cfffc9dd5bc0fa9f564d9bb24547815433
	// attestations: 1 true
}

// Read the configuration of an image, as drift and rebuild checks compare it.
func ExampleStore_Image() {
	ctx := context.Background()
	store, err := provoras.NewMemory()
	if err != nil {
		panic(err)
	}
	config, err := json.Marshal(ocispec.Image{
		Platform: ocispec.Platform{Architecture: "amd64", OS: "linux"},
		Config:   ocispec.ImageConfig{User: "65532", Env: []string{"PATH=/usr/bin"}},
		RootFS:   ocispec.RootFS{Type: "layers"},
	})
	if err != nil {
		panic(err)
	}
	configDesc, err := orasgo.PushBytes(ctx, store.Target(), ocispec.MediaTypeImageConfig, config)
	if err != nil {
		panic(err)
	}
	manifest, err := json.Marshal(ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    configDesc,
		Layers:    []ocispec.Descriptor{},
	})
	if err != nil {
		panic(err)
	}
	desc, err := orasgo.PushBytes(ctx, store.Target(), ocispec.MediaTypeImageManifest, manifest)
	if err != nil {
		panic(err)
	}
	if err := store.Target().Tag(ctx, desc, "latest"); err != nil {
		panic(err)
	}

	resolved, err := store.Resolve(ctx, "latest")
	if err != nil {
		panic(err)
	}
	img, err := store.Image(ctx, resolved)
	if err != nil {
		panic(err)
	}
	fmt.Println(img.Config.OS, img.Config.Architecture, img.Config.Config.User, img.Config.Config.Env)
	// Output:
	// linux amd64 65532 [PATH=/usr/bin]
}

// Find what one tag points to in each environment; an environment without it is left out.
func ExampleResolveAll() {
	ctx := context.Background()
	envs := map[string]*provoras.Store{}
	for _, name := range []string{"staging", "production"} {
		s, err := provoras.NewMemory()
		if err != nil {
			panic(err)
		}
		envs[name] = s
	}
	desc, err := orasgo.PackManifest(ctx, envs["staging"].Target(), orasgo.PackManifestVersion1_1, "application/vnd.example.app",
		orasgo.PackManifestOptions{ManifestAnnotations: map[string]string{ocispec.AnnotationCreated: "2023-11-14T22:13:20Z"}})
	if err != nil {
		panic(err)
	}
	if err := envs["staging"].Target().Tag(ctx, desc, "v2"); err != nil {
		panic(err)
	}

	resolved, err := provoras.ResolveAll(ctx, "v2", envs)
	if err != nil {
		panic(err)
	}
	for _, env := range slices.Sorted(maps.Keys(resolved)) {
		fmt.Println(env, resolved[env].Digest == desc.Digest)
	}
	// Output:
	// staging true
}
