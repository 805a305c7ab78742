package testenv

import (
	"context"
	"crypto"
	"testing"

	intoto "github.com/in-toto/attestation/go/v1"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/sign"
)

// AttestSLSA signs, with key, SLSA provenance saying builder built image from a fixed source,
// and attaches it to image in s. It returns the attestation's descriptor.
func AttestSLSA(t testing.TB, s *oras.Store, repo string, image ocispec.Descriptor, key crypto.Signer, builder string) ocispec.Descriptor {
	t.Helper()
	fail := func(err error) {
		if err != nil {
			t.Helper()
			t.Fatalf("attest: %v", err)
		}
	}
	subject, err := provenance.SubjectFromDescriptor(repo, image)
	fail(err)
	build := &provenance.Build{
		BuildType:          "https://provkit.dev/build/v1",
		BuilderID:          builder,
		ExternalParameters: map[string]any{"source": "git+https://git.example/app@refs/heads/main"},
	}
	st, err := build.Statement([]*intoto.ResourceDescriptor{subject})
	fail(err)
	signer, err := sign.NewKeySigner(key)
	fail(err)
	b, err := signer.Sign(context.Background(), st)
	fail(err)
	desc, err := s.Attach(context.Background(), image, b)
	fail(err)
	return desc
}
