package gate_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"

	intoto "github.com/in-toto/attestation/go/v1"
	orasgo "oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/policy"
	"github.com/provkit/provkit/policy/gate"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/sign"
	"github.com/provkit/provkit/verify"
)

// A CI step or admission check: from an image in a store to a decision, in one call.
func Example() {
	ctx := context.Background()
	store, _ := oras.NewMemory()
	image := pushExampleImage(ctx, store)

	// The release pipeline signs SLSA provenance for the image and attaches it.
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	subject, _ := provenance.SubjectFromDescriptor("registry.example/app", image)
	st, _ := (&provenance.Build{BuildType: "https://example.com/build/v1", BuilderID: "https://ci.example/release",
		ExternalParameters: map[string]any{"ref": "refs/heads/main"}}).Statement([]*intoto.ResourceDescriptor{subject})
	signer, _ := sign.NewKeySigner(key)
	b, _ := signer.Sign(ctx, st)
	if _, err := store.Attach(ctx, image, b); err != nil {
		fmt.Println(err)
		return
	}

	// The gate trusts the release key and asks for the release builder.
	keys, _ := verify.TrustedKeys(verify.PublicKey{ID: "release", Key: key.Public()})
	verifier, _ := verify.New(keys, verify.WithoutTransparencyLog(), verify.WithUntimestampedKeysUnsafe()) // offline: no log, no timestamp
	c, err := gate.New(verifier, verify.KeyIDs("release"), gate.WithPolicy(examplePolicy()))
	if err != nil {
		fmt.Println(err)
		return
	}
	report, err := c.Check(ctx, store, image)
	switch {
	case err == nil:
		fmt.Println("allowed:", len(report.Verified), "verified,", report.Decision.Verdict)
	case errors.Is(err, policy.ErrDenied):
		fmt.Println("denied:", err)
	default:
		fmt.Println("could not check:", err)
	}

	// An image nothing was attached to is denied, for that reason.
	bare := pushExampleImage(ctx, store)
	_, err = c.Check(ctx, store, bare)
	fmt.Println(errors.Is(err, policy.ErrDenied), errors.Is(err, gate.ErrNoAttestations))
	// Output:
	// allowed: 1 verified, allow
	// true true
}

var exampleImages int

func pushExampleImage(ctx context.Context, store *oras.Store) ocispec.Descriptor {
	exampleImages++
	layer := []byte(fmt.Sprintf("layer %d", exampleImages))
	desc := content.NewDescriptorFromBytes(ocispec.MediaTypeImageLayer, layer)
	_ = store.Target().Push(ctx, desc, bytes.NewReader(layer))
	image, _ := orasgo.PackManifest(ctx, store.Target(), orasgo.PackManifestVersion1_1, "application/vnd.example.app",
		orasgo.PackManifestOptions{Layers: []ocispec.Descriptor{desc}, ManifestAnnotations: map[string]string{ocispec.AnnotationCreated: "2026-01-01T00:00:00Z"}})
	return image
}

func examplePolicy() *policy.Policy {
	p, err := policy.Load(strings.NewReader(`apiVersion: provkit.dev/policy/v1
kind: Policy
metadata:
  name: release
rules:
  - name: built-by-release
    slsa:
      builders: [{id: "https://ci.example/release"}]
`))
	if err != nil {
		panic(err)
	}
	return p
}
