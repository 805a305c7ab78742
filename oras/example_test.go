package oras_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	provoras "github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/provenance"
	orasgo "oras.land/oras-go/v2"
)

// Attach a signed bundle to an image in a memory store, discover it and fetch it back.
func Example() {
	ctx := context.Background()
	store, err := provoras.NewMemory(provoras.WithClock(provenance.FixedClock(time.Unix(1700000000, 0))))
	if err != nil {
		panic(err)
	}
	// An image to attest: an OCI manifest with the empty config and no layers.
	image, err := orasgo.PackManifest(ctx, store.Target(), orasgo.PackManifestVersion1_1, "application/vnd.example.app",
		orasgo.PackManifestOptions{ManifestAnnotations: map[string]string{ocispec.AnnotationCreated: "2023-11-14T22:13:20Z"}})
	if err != nil {
		panic(err)
	}
	bundle := provenance.Bundle{
		MediaType:     provenance.MediaTypeBundleV03,
		Data:          []byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}`),
		PredicateType: provenance.PredicateSLSAProvenanceV1,
	}
	att, err := store.Attach(ctx, image, bundle)
	if err != nil {
		panic(err)
	}
	fmt.Println("created:", att.Annotations[ocispec.AnnotationCreated])

	found, err := store.Discover(ctx, image, provoras.Query{PredicateType: provenance.PredicateSLSAProvenanceV1})
	if err != nil {
		panic(err)
	}
	for _, a := range found {
		b, err := store.FetchAttestation(ctx, a)
		if err != nil {
			panic(err)
		}
		fmt.Println(a.Source, a.Signed, b.MediaType, b.PredicateType, len(b.Data), "bytes")
	}
	// Output:
	// created: 2023-11-14T22:13:20Z
	// graph true application/vnd.dev.sigstore.bundle.v0.3+json https://slsa.dev/provenance/v1 61 bytes
}

// Resolve a tag once, then check later that it still points where it did.
func ExampleStore_CheckDrift() {
	ctx := context.Background()
	store, err := provoras.NewMemory()
	if err != nil {
		panic(err)
	}
	push := func(app string) {
		desc, err := orasgo.PackManifest(ctx, store.Target(), orasgo.PackManifestVersion1_1, app,
			orasgo.PackManifestOptions{ManifestAnnotations: map[string]string{ocispec.AnnotationCreated: "2023-11-14T22:13:20Z"}})
		if err != nil {
			panic(err)
		}
		if err := store.Target().Tag(ctx, desc, "latest"); err != nil {
			panic(err)
		}
	}
	push("application/vnd.example.one")
	recorded, err := store.Resolve(ctx, "latest")
	if err != nil {
		panic(err)
	}
	push("application/vnd.example.two")
	_, err = store.CheckDrift(ctx, "latest", recorded.Digest)
	fmt.Println("drifted:", errors.Is(err, provoras.ErrDrift))
	// Output:
	// drifted: true
}
