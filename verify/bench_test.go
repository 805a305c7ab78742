package verify_test

import (
	"testing"

	"github.com/opencontainers/go-digest"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/verify"
	sgbundle "github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	sgverify "github.com/sigstore/sigstore-go/pkg/verify"
)

// sigstoreGo verifies b with sigstore-go alone, as a caller would without provkit: parse the
// bundle, check signature and material, the artifact digest in the statement, and the signer.
func sigstoreGo(b *testing.B, v *sgverify.Verifier, data []byte, policy sgverify.PolicyBuilder) {
	var sb sgbundle.Bundle
	if err := sb.UnmarshalJSON(data); err != nil {
		b.Fatal(err)
	}
	if _, err := v.Verify(&sb, policy); err != nil {
		b.Fatal(err)
	}
}

func artifactDigest(b *testing.B) sgverify.ArtifactPolicyOption {
	raw, err := hexBytes(artifact)
	if err != nil {
		b.Fatal(err)
	}
	return sgverify.WithArtifactDigest("sha256", raw)
}

func BenchmarkVerifyKeySigned(b *testing.B) {
	kf := newKeyFixture(b, "k")
	bundle := bundleOf(b, signKey(b, kf.kp, provenance.MediaTypeInToto, statementBytes(b, provenance.PredicateSLSAProvenanceV1, artifact)))
	b.Run("provkit", func(b *testing.B) {
		v := newVerifier(b, kf.keys, verify.WithUntimestampedKeysUnsafe())
		id := verify.KeyIDs("k")
		b.ReportAllocs()
		b.SetBytes(int64(len(bundle.Data)))
		for b.Loop() {
			if _, err := v.Verify(bg, bundle, artifact, id); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("sigstore-go", func(b *testing.B) {
		v, err := sgverify.NewVerifier(kf.keys, sgverify.WithNoObserverTimestamps())
		if err != nil {
			b.Fatal(err)
		}
		policy := sgverify.NewPolicy(artifactDigest(b), sgverify.WithKey())
		b.ReportAllocs()
		b.SetBytes(int64(len(bundle.Data)))
		for b.Loop() {
			sigstoreGo(b, v, bundle.Data, policy)
		}
	})
}

func BenchmarkVerifyKeyless(b *testing.B) {
	vs := newVirtualSigstore(b)
	bundle := bundleOf(b, keylessBundle(b, vs, statementBytes(b, provenance.PredicateSLSAProvenanceV1, artifact)))
	b.Run("provkit", func(b *testing.B) {
		v := newVerifier(b, vs, verify.WithSignedTimestamps(1), verify.WithoutCertificateTransparencyUnsafe())
		id := certIdentity(b)
		b.ReportAllocs()
		b.SetBytes(int64(len(bundle.Data)))
		for b.Loop() {
			if _, err := v.Verify(bg, bundle, artifact, id); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("sigstore-go", func(b *testing.B) {
		v, err := sgverify.NewVerifier(vs, sgverify.WithTransparencyLog(1), sgverify.WithObserverTimestamps(1), sgverify.WithSignedTimestamps(1))
		if err != nil {
			b.Fatal(err)
		}
		ci, err := sgverify.NewShortCertificateIdentity(testIssuer, "", testSAN, "")
		if err != nil {
			b.Fatal(err)
		}
		policy := sgverify.NewPolicy(artifactDigest(b), sgverify.WithCertificateIdentity(ci))
		b.ReportAllocs()
		b.SetBytes(int64(len(bundle.Data)))
		for b.Loop() {
			sigstoreGo(b, v, bundle.Data, policy)
		}
	})
}

func BenchmarkVerifyAll(b *testing.B) {
	kf := newKeyFixture(b, "k")
	items := make([]verify.Item, 1000)
	for i := range items {
		s := digest.FromBytes([]byte{byte(i), byte(i >> 8)})
		items[i] = verify.Item{
			Bundle:   bundleOf(b, signKey(b, kf.kp, provenance.MediaTypeInToto, statementBytes(b, provenance.PredicateSLSAProvenanceV1, s))),
			Subject:  s,
			Identity: verify.KeyIDs("k"),
		}
	}
	v := newVerifier(b, root.TrustedMaterialCollection{kf.keys}, verify.WithUntimestampedKeysUnsafe())
	for _, workers := range []int{1, 2} {
		b.Run("workers="+string(rune('0'+workers)), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				for i, o := range v.VerifyAll(bg, items, workers) {
					if o.Err != nil {
						b.Fatalf("item %d: %v", i, o.Err)
					}
				}
			}
			b.ReportMetric(float64(len(items)*b.N)/b.Elapsed().Seconds(), "bundles/s")
		})
	}
}
