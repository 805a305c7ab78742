package verify_test

import (
	"context"
	"errors"
	"fmt"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/verify"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	"github.com/sigstore/sigstore-go/pkg/root"
	sgsign "github.com/sigstore/sigstore-go/pkg/sign"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"
	"google.golang.org/protobuf/encoding/protojson"
)

// exampleBundle signs a SLSA statement about subject with a fresh key, as a signer would.
func exampleBundle(subject digest.Digest) (provenance.Bundle, *sgsign.EphemeralKeypair) {
	kp, _ := sgsign.NewEphemeralKeypair(nil)
	st, _ := (&provenance.Build{
		BuildType:          "https://example.com/build/v1",
		ExternalParameters: map[string]any{"ref": "refs/tags/v1.0.0"},
		BuilderID:          "https://example.com/builder",
	}).Statement([]*intoto.ResourceDescriptor{{Name: "app", Digest: map[string]string{"sha256": subject.Encoded()}}})
	payload, _ := provenance.Marshal(st)
	pb, _ := sgsign.Bundle(&sgsign.DSSEData{Data: payload, PayloadType: provenance.MediaTypeInToto}, kp, sgsign.BundleOptions{})
	data, _ := protojson.Marshal(pb)
	return provenance.Bundle{MediaType: provenance.MediaTypeBundleV03, Data: data}, kp
}

func Example() {
	image := digest.FromString("an image")
	bundle, kp := exampleBundle(image)

	keys, err := verify.TrustedKeys(verify.PublicKey{ID: "release", Key: kp.GetPublicKey()})
	if err != nil {
		fmt.Println(err)
		return
	}
	// This bundle has no log entry or timestamp, which the default refuses.
	v, err := verify.New(keys, verify.WithUntimestampedKeysUnsafe())
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := v.Verify(context.Background(), bundle, image, verify.KeyIDs("release"))
	if err != nil {
		fmt.Println(err)
		return
	}
	p, _ := res.SLSAProvenance()
	fmt.Println(res.Signer().KeyID, res.PredicateType())
	fmt.Println(p.GetRunDetails().GetBuilder().GetId())
	// Output:
	// release https://slsa.dev/provenance/v1
	// https://example.com/builder
}

func ExampleVerifier_Verify_denied() {
	image := digest.FromString("an image")
	bundle, kp := exampleBundle(image)
	keys, _ := verify.TrustedKeys(verify.PublicKey{ID: "release", Key: kp.GetPublicKey()})
	v, _ := verify.New(keys, verify.WithUntimestampedKeysUnsafe())

	other := digest.Digest("sha256:cd34000000000000000000000000000000000000000000000000000000000000")
	_, err := v.Verify(context.Background(), bundle, other, verify.KeyIDs("release"))
	var ve *verify.VerificationError
	if errors.As(err, &ve) {
		fmt.Println("denied:", ve.Check, errors.Is(err, verify.ErrVerification))
	}
	_, err = v.Verify(context.Background(), bundle, image, verify.Identity{})
	fmt.Println("could not check:", errors.Is(err, verify.ErrInvalidIdentity), errors.Is(err, verify.ErrVerification))
	// Output:
	// denied: subject true
	// could not check: true false
}

func ExampleCertificates() {
	id, err := verify.Certificates(verify.CertificateMatch{
		Issuer:                       "https://token.actions.githubusercontent.com",
		SubjectAlternativeNameRegexp: `^https://github\.com/example/app/\.github/workflows/release\.yml@refs/tags/v`,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(id)
	// Output:
	// certificate ~^https://github\.com/example/app/\.github/workflows/release\.yml@refs/tags/v from https://token.actions.githubusercontent.com
}

// A private deployment signs with a key and dates each signature with its own RFC 3161
// timestamp authority, and runs no transparency log. Here sigstore-go's in-memory test
// authority stands in for it; in production its certificate chain comes from the authority's
// /certchain endpoint (see TimestampAuthority).
func ExampleWithoutTransparencyLog() {
	image := digest.FromString("an image")
	bundle, kp := exampleBundle(image)
	tsa, _ := ca.NewVirtualSigstore()
	bundle = exampleTimestamp(bundle, tsa)

	keys, _ := verify.TrustedKeys(verify.PublicKey{ID: "release", Key: kp.GetPublicKey()})
	trusted := root.TrustedMaterialCollection{keys, tsa}

	v, _ := verify.New(trusted) // the default wants a log entry too
	_, err := v.Verify(context.Background(), bundle, image, verify.KeyIDs("release"))
	var ve *verify.VerificationError
	if errors.As(err, &ve) {
		fmt.Println("default:", ve.Check)
	}

	v, _ = verify.New(trusted, verify.WithoutTransparencyLog())
	res, err := v.Verify(context.Background(), bundle, image, verify.KeyIDs("release"))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("WithoutTransparencyLog:", res.Signer().KeyID, res.Timestamps()[0].Kind)
	// Output:
	// default: transparency-log
	// WithoutTransparencyLog: release rfc3161
}

// exampleTimestamp adds tsa's RFC 3161 timestamp over the bundle's signature, as a signer with
// a timestamp authority does.
func exampleTimestamp(b provenance.Bundle, tsa *ca.VirtualSigstore) provenance.Bundle {
	pb := &protobundle.Bundle{}
	_ = protojson.Unmarshal(b.Data, pb)
	tsr, _ := tsa.TimestampResponse(pb.GetDsseEnvelope().GetSignatures()[0].GetSig())
	pb.VerificationMaterial.TimestampVerificationData = &protobundle.TimestampVerificationData{
		Rfc3161Timestamps: []*protocommon.RFC3161SignedTimestamp{{SignedTimestamp: tsr}},
	}
	b.Data, _ = protojson.Marshal(pb)
	return b
}
