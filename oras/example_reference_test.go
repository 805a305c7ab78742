package oras_test

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing/fstest"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	provoras "github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/provenance"
	orasgo "oras.land/oras-go/v2"
)

// Parse the references users write: registry repositories and OCI layouts.
func ExampleParseReference() {
	for _, s := range []string{
		"registry.example:5000/team/app:v1.2",
		"ghcr.io/org/app:v1@sha256:0000000000000000000000000000000000000000000000000000000000000000",
		"oci-layout:./pack:v1",
		"/srv/evidence/pack.tar@sha256:0000000000000000000000000000000000000000000000000000000000000000",
	} {
		ref, err := provoras.ParseReference(s)
		if err != nil {
			panic(err)
		}
		if ref.Layout != "" {
			fmt.Printf("layout %s resolve %.16s\n", ref.Layout, ref.TagOrDigest())
		} else {
			fmt.Printf("registry %s repository %s resolve %.16s\n", ref.Registry, ref.Repository, ref.TagOrDigest())
		}
	}
	_, err := provoras.ParseReference("ghcr.io/Org/App:v1")
	fmt.Println(err)
	// Output:
	// registry registry.example:5000 repository team/app resolve v1.2
	// registry ghcr.io repository org/app resolve sha256:000000000
	// layout ./pack resolve v1
	// layout /srv/evidence/pack.tar resolve sha256:000000000
	// oras: reference "ghcr.io/Org/App:v1": is not a registry reference (host[:port]/repository[:tag|@digest]) nor a layout: invalid reference: invalid repository "Org/App"
}

// Write an evidence pack to a layout, archive it with tar, and read it back from the archive
// through a parsed reference: the store is read-only and needs no network.
func ExampleReference_Open() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "pack")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	w, err := provoras.NewLayout(ctx, filepath.Join(dir, "layout"), provoras.WithClock(provenance.FixedClock(time.Unix(1700000000, 0))))
	if err != nil {
		panic(err)
	}
	image, err := orasgo.PackManifest(ctx, w.Target(), orasgo.PackManifestVersion1_1, "application/vnd.example.app",
		orasgo.PackManifestOptions{ManifestAnnotations: map[string]string{ocispec.AnnotationCreated: "2023-11-14T22:13:20Z"}})
	if err != nil {
		panic(err)
	}
	if err := w.Target().Tag(ctx, image, "v1"); err != nil {
		panic(err)
	}
	bundle := provenance.Bundle{MediaType: provenance.MediaTypeBundleV03, Data: []byte(`{}`), PredicateType: provenance.PredicateSLSAProvenanceV1}
	if _, err := w.Attach(ctx, image, bundle); err != nil {
		panic(err)
	}
	archive := filepath.Join(dir, "pack.tar")
	f, err := os.Create(archive)
	if err != nil {
		panic(err)
	}
	tw := tar.NewWriter(f)
	if err := tw.AddFS(os.DirFS(filepath.Join(dir, "layout"))); err != nil {
		panic(err)
	}
	if err := tw.Close(); err != nil {
		panic(err)
	}
	if err := f.Close(); err != nil {
		panic(err)
	}

	ref, err := provoras.ParseReference("oci-layout:" + archive + ":v1")
	if err != nil {
		panic(err)
	}
	store, err := ref.Open(ctx)
	if err != nil {
		panic(err)
	}
	desc, err := store.Resolve(ctx, ref.TagOrDigest())
	if err != nil {
		panic(err)
	}
	found, err := store.Discover(ctx, desc, provoras.Query{})
	if err != nil {
		panic(err)
	}
	for _, a := range found {
		b, err := store.FetchAttestation(ctx, a)
		if err != nil {
			panic(err)
		}
		fmt.Println(a.Source, b.PredicateType, string(b.Data))
	}
	_, err = store.Attach(ctx, desc, bundle)
	fmt.Println("attach:", errors.Is(err, provoras.ErrReadOnly))
	// Output:
	// graph https://slsa.dev/provenance/v1 {}
	// attach: true
}

// Open a layout that does not exist for reading: it fails and creates nothing.
func ExampleOpenLayout() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "layouts")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	missing := filepath.Join(dir, "missing")
	_, err = provoras.OpenLayout(ctx, missing)
	fmt.Println("not found:", errors.Is(err, provenance.ErrNotFound))
	_, statErr := os.Stat(missing)
	fmt.Println("created:", statErr == nil)
	// Output:
	// not found: true
	// created: false
}

// Read a layout held in any fs.FS, here an empty in-memory one.
func ExampleOpenLayoutFS() {
	_, err := provoras.OpenLayoutFS(context.Background(), fstest.MapFS{})
	fmt.Println(err)
	// Output:
	// oras: OCI layout: provenance: not found: no oci-layout file
}
