package verify_test

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"testing"

	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/verify"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
)

// cosignLayer rewrites a keyless bundle made by keylessBundle as cosign's legacy ".att" layer
// stores it: the bare envelope, with the certificate, chain and Rekor bundle as annotations.
func cosignLayer(t testing.TB, vs *ca.VirtualSigstore, pb *protobundle.Bundle) (provenance.Bundle, map[string]string) {
	t.Helper()
	leaf, err := cryptoutils.MarshalCertificateToPEM(leafOf(t, pb))
	if err != nil {
		t.Fatal(err)
	}
	fca := vs.FulcioCertificateAuthorities()[0].(*root.FulcioCertificateAuthority)
	chain, err := cryptoutils.MarshalCertificatesToPEM(append(append([]*x509.Certificate(nil), fca.Intermediates...), fca.Root))
	if err != nil {
		t.Fatal(err)
	}
	tle := pb.GetVerificationMaterial().GetTlogEntries()[0]
	rekor := map[string]any{
		"SignedEntryTimestamp": tle.GetInclusionPromise().GetSignedEntryTimestamp(),
		"Payload": map[string]any{
			"body":           base64.StdEncoding.EncodeToString(tle.GetCanonicalizedBody()),
			"integratedTime": tle.GetIntegratedTime(),
			"logIndex":       tle.GetLogIndex(),
			"logID":          hex.EncodeToString(tle.GetLogId().GetKeyId()),
		},
	}
	rb, err := json.Marshal(rekor)
	if err != nil {
		t.Fatal(err)
	}
	ann := map[string]string{
		provenance.AnnotationCosignPredicateType: provenance.PredicateSLSAProvenanceV1,
		verify.AnnotationCosignCertificate:       string(leaf),
		verify.AnnotationCosignBundle:            string(rb),
	}
	ann[verify.AnnotationCosignChain] = string(chain)
	return provenance.Bundle{MediaType: provenance.MediaTypeDSSE, Data: envelopeJSON(t, pb)}, ann
}

func TestCosignLayerKeyless(t *testing.T) { cosignLayerKeyless(t) }

func cosignLayerKeyless(t *testing.T) []error {
	var errs []error
	vs := newVirtualSigstore(t)
	pb := keylessBundle(t, vs, statementBytes(t, provenance.PredicateSLSAProvenanceV1, artifact))
	layer, ann := cosignLayer(t, vs, pb)
	v := newVerifier(t, vs, verify.WithoutCertificateTransparencyUnsafe())
	res, err := v.VerifyCosignLayer(bg, layer, ann, artifact, certIdentity(t))
	if err != nil {
		t.Fatal(err)
	}
	if res.Signer().Certificate.SubjectAlternativeName != testSAN || len(res.Timestamps()) != 1 || res.Timestamps()[0].Kind != verify.TimestampTransparencyLog {
		t.Fatalf("result: %+v %+v", res.Signer(), res.Timestamps())
	}

	for _, tc := range []struct {
		name  string
		alter func(ann map[string]string)
		want  verify.Check
	}{
		{"no Rekor bundle", func(a map[string]string) { delete(a, verify.AnnotationCosignBundle) }, verify.CheckTransparencyLog},
		{"Rekor bundle not JSON", func(a map[string]string) { a[verify.AnnotationCosignBundle] = "{" }, verify.CheckTransparencyLog},
		{"certificate not PEM", func(a map[string]string) { a[verify.AnnotationCosignCertificate] = "junk" }, verify.CheckCertificate},
		{"certificate of another signer", func(a map[string]string) {
			leaf, _, err := vs.GenerateLeafCert(testSAN, testIssuer)
			if err != nil {
				t.Fatal(err)
			}
			p, err := cryptoutils.MarshalCertificateToPEM(leaf)
			if err != nil {
				t.Fatal(err)
			}
			a[verify.AnnotationCosignCertificate] = string(p)
		}, verify.CheckTransparencyLog},
		{"timestamp not JSON", func(a map[string]string) { a[verify.AnnotationCosignRFC3161] = "[" }, verify.CheckTimestamp},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := map[string]string{}
			for k, v := range ann {
				a[k] = v
			}
			tc.alter(a)
			_, err := v.VerifyCosignLayer(bg, layer, a, artifact, certIdentity(t))
			wantCheck(t, err, tc.want)
			errs = append(errs, err)
		})
	}
	t.Run("another artifact", func(t *testing.T) {
		_, err := v.VerifyCosignLayer(bg, layer, ann, otherArtifact, certIdentity(t))
		wantCheck(t, err, verify.CheckSubject)
		errs = append(errs, err)
	})
	return errs
}

func TestCosignLayerKey(t *testing.T) {
	kf := newKeyFixture(t, "cosign")
	pb := signKey(t, kf.kp, provenance.MediaTypeInToto, statementBytes(t, provenance.PredicateSLSAProvenanceV1, artifact))
	pb.GetDsseEnvelope().GetSignatures()[0].Keyid = ""
	layer := provenance.Bundle{MediaType: provenance.MediaTypeDSSE, Data: envelopeJSON(t, pb)}
	ann := map[string]string{provenance.AnnotationCosignPredicateType: provenance.PredicateSLSAProvenanceV1}
	t.Run("refused without a timestamp by default", func(t *testing.T) {
		_, err := newVerifier(t, kf.keys).VerifyCosignLayer(bg, layer, ann, artifact, verify.KeyIDs("cosign"))
		wantCheck(t, err, verify.CheckTransparencyLog)
	})
	v := newVerifier(t, kf.keys, verify.WithUntimestampedKeysUnsafe())
	res, err := v.VerifyCosignLayer(bg, layer, ann, artifact, verify.KeyIDs("cosign"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Signer().KeyID != "cosign" {
		t.Fatalf("KeyID %q", res.Signer().KeyID)
	}
	t.Run("batch item", func(t *testing.T) {
		out := v.VerifyAll(bg, []verify.Item{{Bundle: layer, Annotations: ann, Subject: artifact, Identity: verify.KeyIDs("cosign")}}, 1)
		if out[0].Err != nil {
			t.Fatal(out[0].Err)
		}
	})
	t.Run("wrong media type", func(t *testing.T) {
		_, err := v.VerifyCosignLayer(bg, provenance.Bundle{MediaType: provenance.MediaTypeBundleV03, Data: layer.Data}, ann, artifact, verify.KeyIDs("cosign"))
		if !errorsIsUnsupported(err) {
			t.Fatalf("err = %v", err)
		}
	})
}
