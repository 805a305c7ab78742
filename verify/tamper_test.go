package verify_test

import (
	"testing"

	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/verify"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	"github.com/sigstore/sigstore-go/pkg/root"
	"google.golang.org/protobuf/proto"
)

// tamper is one alteration of a valid bundle and the check that must reject it.
type tamper struct {
	name  string
	alter func(t *testing.T, pb *protobundle.Bundle) *protobundle.Bundle
	want  verify.Check
}

func flip(b []byte) []byte {
	out := append([]byte(nil), b...)
	out[len(out)/2] ^= 0x01
	return out
}

// runTampers checks each alteration of valid and returns the errors they were denied with.
func runTampers(t *testing.T, v *verify.Verifier, valid *protobundle.Bundle, id verify.Identity, tampers []tamper) []error {
	t.Helper()
	if _, err := v.Verify(bg, bundleOf(t, valid), artifact, id); err != nil {
		t.Fatalf("the untampered bundle fails: %v", err)
	}
	var errs []error
	for _, tc := range tampers {
		t.Run(tc.name, func(t *testing.T) {
			pb := tc.alter(t, proto.Clone(valid).(*protobundle.Bundle))
			_, err := v.Verify(bg, bundleOf(t, pb), artifact, id)
			wantCheck(t, err, tc.want)
			errs = append(errs, err)
		})
	}
	return errs
}

// Alterations shared by key-signed and keyless bundles.
func envelopeTampers(t *testing.T, resign func(payloadType string, payload []byte) *protobundle.Bundle, sigWant verify.Check) []tamper {
	return []tamper{
		{"payload bytes", func(t *testing.T, pb *protobundle.Bundle) *protobundle.Bundle {
			e := pb.GetDsseEnvelope()
			e.Payload = append(append([]byte(nil), e.Payload[:len(e.Payload)-1]...), ' ')
			return pb
		}, sigWant},
		{"payload type", func(t *testing.T, pb *protobundle.Bundle) *protobundle.Bundle {
			pb.GetDsseEnvelope().PayloadType = "application/json"
			return pb
		}, verify.CheckSignature},
		{"signature", func(t *testing.T, pb *protobundle.Bundle) *protobundle.Bundle {
			s := pb.GetDsseEnvelope().GetSignatures()[0]
			s.Sig = flip(s.Sig)
			return pb
		}, sigWant},
		{"second signature", func(t *testing.T, pb *protobundle.Bundle) *protobundle.Bundle {
			e := pb.GetDsseEnvelope()
			e.Signatures = append(e.Signatures, e.Signatures[0])
			return pb
		}, verify.CheckSignature},
		{"statement for another artifact, signed by the trusted signer", func(t *testing.T, _ *protobundle.Bundle) *protobundle.Bundle {
			return resign(provenance.MediaTypeInToto, statementBytes(t, provenance.PredicateSLSAProvenanceV1, otherArtifact))
		}, verify.CheckSubject},
		{"predicate type, signed by the trusted signer", func(t *testing.T, _ *protobundle.Bundle) *protobundle.Bundle {
			return resign(provenance.MediaTypeInToto, statementBytes(t, provenance.PredicateSPDX, artifact))
		}, verify.CheckPredicateType},
		{"payload type, signed by the trusted signer", func(t *testing.T, _ *protobundle.Bundle) *protobundle.Bundle {
			return resign("application/json", statementBytes(t, provenance.PredicateSLSAProvenanceV1, artifact))
		}, verify.CheckPayloadType},
		{"payload not a statement, signed by the trusted signer", func(t *testing.T, _ *protobundle.Bundle) *protobundle.Bundle {
			return resign(provenance.MediaTypeInToto, []byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[]}`))
		}, verify.CheckStatement},
	}
}

func TestTamperKeySigned(t *testing.T) { tamperKeySigned(t) }

func tamperKeySigned(t *testing.T) []error {
	kf := newKeyFixture(t, "release")
	second := newKeyFixture(t, "second")
	untrusted := newKeyFixture(t, "release")
	keys, err := verify.TrustedKeys(
		verify.PublicKey{ID: "release", Key: kf.kp.GetPublicKey()},
		verify.PublicKey{ID: "second", Key: second.kp.GetPublicKey()},
	)
	if err != nil {
		t.Fatal(err)
	}
	v := newVerifier(t, keys, verify.WithUntimestampedKeysUnsafe(), verify.WithPredicateTypes(provenance.PredicateSLSAProvenanceV1))
	valid := signKey(t, kf.kp, provenance.MediaTypeInToto, statementBytes(t, provenance.PredicateSLSAProvenanceV1, artifact))
	resign := func(pt string, payload []byte) *protobundle.Bundle { return signKey(t, kf.kp, pt, payload) }
	tampers := append(envelopeTampers(t, resign, verify.CheckSignature),
		tamper{"key hint naming another trusted key", func(t *testing.T, pb *protobundle.Bundle) *protobundle.Bundle {
			pb.GetVerificationMaterial().GetPublicKey().Hint = "second"
			return pb
		}, verify.CheckSignature},
		tamper{"statement for another artifact, signed by an untrusted key", func(t *testing.T, _ *protobundle.Bundle) *protobundle.Bundle {
			return signKey(t, untrusted.kp, provenance.MediaTypeInToto, statementBytes(t, provenance.PredicateSLSAProvenanceV1, otherArtifact))
		}, verify.CheckSignature},
		tamper{"signed by an untrusted key with the trusted key's hint", func(t *testing.T, _ *protobundle.Bundle) *protobundle.Bundle {
			pb := signKey(t, untrusted.kp, provenance.MediaTypeInToto, statementBytes(t, provenance.PredicateSLSAProvenanceV1, artifact))
			pb.GetVerificationMaterial().GetPublicKey().Hint = string(kf.kp.GetHint())
			return pb
		}, verify.CheckSignature},
		tamper{"certificate instead of the key", func(t *testing.T, pb *protobundle.Bundle) *protobundle.Bundle {
			vs := newVirtualSigstore(t)
			leaf, _, err := vs.GenerateLeafCert(testSAN, testIssuer)
			if err != nil {
				t.Fatal(err)
			}
			pb.VerificationMaterial.Content = &protobundle.VerificationMaterial_Certificate{Certificate: &protocommon.X509Certificate{RawBytes: leaf.Raw}}
			return pb
		}, verify.CheckIdentity},
	)
	errs := runTampers(t, v, valid, verify.KeyIDs("release"), tampers)

	t.Run("unknown key hint is not evidence", func(t *testing.T) {
		pb := proto.Clone(valid).(*protobundle.Bundle)
		pb.GetVerificationMaterial().GetPublicKey().Hint = "no-such-key"
		res, err := v.Verify(bg, bundleOf(t, pb), artifact, verify.KeyIDs("release", "second"))
		if err != nil {
			t.Fatal(err)
		}
		if res.Signer().KeyID != "release" {
			t.Fatalf("KeyID = %q, want the key that signed", res.Signer().KeyID)
		}
	})
	return errs
}

func TestTamperKeySignedTimestamp(t *testing.T) { tamperKeySignedTimestamp(t) }

func tamperKeySignedTimestamp(t *testing.T) []error {
	kf := newKeyFixture(t, "release")
	vs := newVirtualSigstore(t)
	valid := signKey(t, kf.kp, provenance.MediaTypeInToto, statementBytes(t, provenance.PredicateSLSAProvenanceV1, artifact))
	addTimestamp(t, vs, valid)
	v := newVerifier(t, root.TrustedMaterialCollection{vs, kf.keys}, verify.WithoutTransparencyLog(), verify.WithSignedTimestamps(1))
	return runTampers(t, v, valid, verify.KeyIDs("release"), []tamper{
		{"timestamp bytes", func(t *testing.T, pb *protobundle.Bundle) *protobundle.Bundle {
			ts := pb.GetVerificationMaterial().GetTimestampVerificationData().GetRfc3161Timestamps()[0]
			ts.SignedTimestamp = flip(ts.SignedTimestamp)
			return pb
		}, verify.CheckTimestamp},
		{"timestamp removed", func(t *testing.T, pb *protobundle.Bundle) *protobundle.Bundle {
			pb.VerificationMaterial.TimestampVerificationData = nil
			return pb
		}, verify.CheckTimestamp},
		{"timestamp from an untrusted authority", func(t *testing.T, pb *protobundle.Bundle) *protobundle.Bundle {
			addTimestamp(t, newVirtualSigstore(t), pb)
			return pb
		}, verify.CheckTimestamp},
		{"signature (the timestamp covers it)", func(t *testing.T, pb *protobundle.Bundle) *protobundle.Bundle {
			s := pb.GetDsseEnvelope().GetSignatures()[0]
			s.Sig = flip(s.Sig)
			return pb
		}, verify.CheckTimestamp},
	})
}

// caOverride is trust material whose certificate authorities are replaced: the logs and
// timestamp authorities stay trusted while the CA that issued the certificate does not.
type caOverride struct {
	root.TrustedMaterial
	cas []root.CertificateAuthority
}

func (c caOverride) FulcioCertificateAuthorities() []root.CertificateAuthority { return c.cas }

func TestTamperKeyless(t *testing.T) { tamperKeyless(t) }

func tamperKeyless(t *testing.T) []error {
	vs := newVirtualSigstore(t)
	other := newVirtualSigstore(t)
	opts := []verify.Option{verify.WithoutCertificateTransparencyUnsafe(), verify.WithSignedTimestamps(1), verify.WithPredicateTypes(provenance.PredicateSLSAProvenanceV1)}
	v := newVerifier(t, vs, opts...)
	valid := keylessBundle(t, vs, statementBytes(t, provenance.PredicateSLSAProvenanceV1, artifact))
	resign := func(pt string, payload []byte) *protobundle.Bundle { return keylessBundle(t, vs, payload) }
	var tampers []tamper
	for _, tc := range envelopeTampers(t, resign, verify.CheckTransparencyLog) {
		// VirtualSigstore only attests in-toto payloads: re-signing with another payload
		// type is covered by the key-signed matrix.
		if tc.name == "payload type, signed by the trusted signer" {
			continue
		}
		tampers = append(tampers, tc)
	}
	tampers = append(tampers,
		tamper{"certificate of another identity from the same CA", func(t *testing.T, pb *protobundle.Bundle) *protobundle.Bundle {
			leaf, _, err := vs.GenerateLeafCert("mallory@example.com", testIssuer)
			if err != nil {
				t.Fatal(err)
			}
			pb.GetVerificationMaterial().GetCertificate().RawBytes = leaf.Raw
			return pb
		}, verify.CheckTransparencyLog},
		// Cut short, the DER never parses. (A flipped bit can land in the key or signature
		// and leave a well-formed certificate, which another check then refuses.)
		tamper{"certificate bytes", func(t *testing.T, pb *protobundle.Bundle) *protobundle.Bundle {
			c := pb.GetVerificationMaterial().GetCertificate()
			c.RawBytes = c.RawBytes[:len(c.RawBytes)/2]
			return pb
		}, verify.CheckFormat},
		tamper{"log entry body", func(t *testing.T, pb *protobundle.Bundle) *protobundle.Bundle {
			e := pb.GetVerificationMaterial().GetTlogEntries()[0]
			e.CanonicalizedBody = flip(e.CanonicalizedBody)
			return pb
		}, verify.CheckTransparencyLog},
		tamper{"log entry integrated time", func(t *testing.T, pb *protobundle.Bundle) *protobundle.Bundle {
			pb.GetVerificationMaterial().GetTlogEntries()[0].IntegratedTime += 60
			return pb
		}, verify.CheckTransparencyLog},
		tamper{"log entry signed entry timestamp", func(t *testing.T, pb *protobundle.Bundle) *protobundle.Bundle {
			p := pb.GetVerificationMaterial().GetTlogEntries()[0].GetInclusionPromise()
			p.SignedEntryTimestamp = flip(p.SignedEntryTimestamp)
			return pb
		}, verify.CheckTransparencyLog},
		tamper{"log entry inclusion proof root hash", func(t *testing.T, pb *protobundle.Bundle) *protobundle.Bundle {
			p := pb.GetVerificationMaterial().GetTlogEntries()[0].GetInclusionProof()
			p.RootHash = flip(p.RootHash)
			return pb
		}, verify.CheckTransparencyLog},
		tamper{"log entry removed", func(t *testing.T, pb *protobundle.Bundle) *protobundle.Bundle {
			pb.VerificationMaterial.TlogEntries = nil
			return pb
		}, verify.CheckTransparencyLog},
		tamper{"timestamp bytes", func(t *testing.T, pb *protobundle.Bundle) *protobundle.Bundle {
			ts := pb.GetVerificationMaterial().GetTimestampVerificationData().GetRfc3161Timestamps()[0]
			ts.SignedTimestamp = flip(ts.SignedTimestamp)
			return pb
		}, verify.CheckTimestamp},
		tamper{"timestamp removed", func(t *testing.T, pb *protobundle.Bundle) *protobundle.Bundle {
			pb.VerificationMaterial.TimestampVerificationData = nil
			return pb
		}, verify.CheckTimestamp},
		tamper{"public key instead of the certificate", func(t *testing.T, pb *protobundle.Bundle) *protobundle.Bundle {
			pb.VerificationMaterial.Content = &protobundle.VerificationMaterial_PublicKey{PublicKey: &protocommon.PublicKeyIdentifier{Hint: "x"}}
			return pb
		}, verify.CheckIdentity},
	)
	errs := runTampers(t, v, valid, certIdentity(t), tampers)

	t.Run("certificate from an untrusted CA, logs and TSA trusted", func(t *testing.T) {
		foreign := keylessBundle(t, other, statementBytes(t, provenance.PredicateSLSAProvenanceV1, artifact))
		v := newVerifier(t, caOverride{TrustedMaterial: other, cas: vs.FulcioCertificateAuthorities()}, opts...)
		_, err := v.Verify(bg, bundleOf(t, foreign), artifact, certIdentity(t))
		wantCheck(t, err, verify.CheckCertificate)
		errs = append(errs, err)
	})
	t.Run("whole bundle from an untrusted instance", func(t *testing.T) {
		foreign := keylessBundle(t, other, statementBytes(t, provenance.PredicateSLSAProvenanceV1, otherArtifact))
		_, err := v.Verify(bg, bundleOf(t, foreign), artifact, certIdentity(t))
		wantCheck(t, err, verify.CheckTransparencyLog)
		errs = append(errs, err)
	})
	return errs
}

func TestEvidenceCountLimits(t *testing.T) { evidenceCountLimits(t) }

func evidenceCountLimits(t *testing.T) []error {
	var errs []error
	vs := newVirtualSigstore(t)
	v := newVerifier(t, vs, verify.WithoutCertificateTransparencyUnsafe())
	valid := keylessBundle(t, vs, statementBytes(t, provenance.PredicateSLSAProvenanceV1, artifact))
	for _, tc := range []struct {
		name  string
		alter func(pb *protobundle.Bundle)
		want  verify.Check
	}{
		// sigstore-go's bundle parser refuses more than 32 entries itself.
		{"log entries", func(pb *protobundle.Bundle) {
			vm := pb.GetVerificationMaterial()
			for len(vm.TlogEntries) <= 32 {
				vm.TlogEntries = append(vm.TlogEntries, vm.TlogEntries[0])
			}
		}, verify.CheckFormat},
		{"timestamps", func(pb *protobundle.Bundle) {
			td := pb.GetVerificationMaterial().GetTimestampVerificationData()
			for len(td.Rfc3161Timestamps) <= 32 {
				td.Rfc3161Timestamps = append(td.Rfc3161Timestamps, td.Rfc3161Timestamps[0])
			}
		}, verify.CheckSize},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pb := proto.Clone(valid).(*protobundle.Bundle)
			tc.alter(pb)
			_, err := v.Verify(bg, bundleOf(t, pb), artifact, certIdentity(t))
			wantCheck(t, err, tc.want)
			errs = append(errs, err)
		})
	}
	return errs
}
