package gate_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"

	intoto "github.com/in-toto/attestation/go/v1"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/policy/gate"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/sign"
	"github.com/provkit/provkit/verify"
)

// The release key of 2026 is retired: what it signed is re-signed with the 2027 key, each new
// bundle attached beside the old one and naming it. Running the rotation again, as after an
// interruption, re-signs nothing.
func ExampleChecker_Rotate() {
	ctx := context.Background()
	store, _ := oras.NewMemory()
	image := pushExampleImage(ctx, store)
	oldKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	newKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)

	subject, _ := provenance.SubjectFromDescriptor("registry.example/app", image)
	st, _ := (&provenance.Build{BuildType: "https://example.com/build/v1", BuilderID: "https://ci.example/release",
		ExternalParameters: map[string]any{"ref": "refs/heads/main"}}).Statement([]*intoto.ResourceDescriptor{subject})
	oldSigner, _ := sign.NewKeySigner(oldKey)
	b, _ := oldSigner.Sign(ctx, st)
	if _, err := store.Attach(ctx, image, b); err != nil {
		fmt.Println(err)
		return
	}

	// The rotation trusts both keys: the old one to verify what it re-signs, the new one to
	// check each replacement before attaching it.
	keys, _ := verify.TrustedKeys(verify.PublicKey{ID: "release-2026", Key: oldKey.Public()}, verify.PublicKey{ID: "release-2027", Key: newKey.Public()})
	verifier, _ := verify.New(keys, verify.WithoutTransparencyLog(), verify.WithUntimestampedKeysUnsafe()) // offline: no log, no timestamp
	c, _ := gate.New(verifier, verify.KeyIDs("release-2026"))
	newSigner, _ := sign.NewKeySigner(newKey)
	rotation := gate.Rotation{Signer: newSigner, Identity: verify.KeyIDs("release-2027")}

	rows, err := c.Rotate(ctx, store, []ocispec.Descriptor{image}, rotation)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range rows {
		replacement, _ := store.Fetch(ctx, r.Replacement)
		fmt.Println("re-signed:", r.Resigned, "- was signed by", r.Signer.KeyID, "- replacement names it:", replacement.Replaces == r.Bundle)
	}
	refs, _ := store.Referrers(ctx, image, "")
	fmt.Println("attestations now:", len(refs))

	rows, _ = c.Rotate(ctx, store, []ocispec.Descriptor{image}, rotation)
	fmt.Println("again, re-signed:", rows[0].Resigned, "- error:", rows[0].Err)
	// Output:
	// re-signed: true - was signed by release-2026 - replacement names it: true
	// attestations now: 2
	// again, re-signed: false - error: <nil>
}
