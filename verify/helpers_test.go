package verify_test

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/verify"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/sigstore/sigstore-go/pkg/root"
	sgsign "github.com/sigstore/sigstore-go/pkg/sign"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"
	"github.com/sigstore/sigstore-go/pkg/tlog"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

const (
	testIssuer = "https://issuer.example"
	testSAN    = "builder@example.com"
)

var (
	artifact      = digest.FromString("the artifact")
	otherArtifact = digest.FromString("another artifact")
)

// statementBytes returns a canonical SLSA-shaped statement about subjects.
func statementBytes(t testing.TB, predicateType string, subjects ...digest.Digest) []byte {
	t.Helper()
	var rds []*intoto.ResourceDescriptor
	for i, s := range subjects {
		rds = append(rds, &intoto.ResourceDescriptor{
			Name:   "artifact-" + string(rune('a'+i)),
			Digest: map[string]string{s.Algorithm().String(): s.Encoded()},
		})
	}
	var pred any = map[string]any{"buildDefinition": map[string]any{"buildType": "https://example.com/build", "externalParameters": map[string]any{}}, "runDetails": map[string]any{"builder": map[string]any{"id": "https://example.com/builder"}}}
	st, err := provenance.NewStatement(rds, predicateType, pred)
	if err != nil {
		t.Fatal(err)
	}
	data, err := provenance.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// keyFixture is a signing key and the KeySet that trusts it.
type keyFixture struct {
	kp   *sgsign.EphemeralKeypair
	keys *verify.KeySet
}

func newKeyFixture(t testing.TB, id string) keyFixture {
	t.Helper()
	kp, err := sgsign.NewEphemeralKeypair(nil)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := verify.TrustedKeys(verify.PublicKey{ID: id, Key: kp.GetPublicKey()})
	if err != nil {
		t.Fatal(err)
	}
	return keyFixture{kp: kp, keys: keys}
}

// signKey returns a v0.3 bundle of payload signed by kp, without timestamps.
func signKey(t testing.TB, kp sgsign.Keypair, payloadType string, payload []byte) *protobundle.Bundle {
	t.Helper()
	pb, err := sgsign.Bundle(&sgsign.DSSEData{Data: payload, PayloadType: payloadType}, kp, sgsign.BundleOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return pb
}

// addTimestamp adds an RFC 3161 timestamp of vs's TSA over the bundle's signature.
func addTimestamp(t testing.TB, vs *ca.VirtualSigstore, pb *protobundle.Bundle) {
	t.Helper()
	tsr, err := vs.TimestampResponse(pb.GetDsseEnvelope().GetSignatures()[0].GetSig())
	if err != nil {
		t.Fatal(err)
	}
	pb.VerificationMaterial.TimestampVerificationData = &protobundle.TimestampVerificationData{
		Rfc3161Timestamps: []*protocommon.RFC3161SignedTimestamp{{SignedTimestamp: tsr}},
	}
}

func bundleOf(t testing.TB, pb *protobundle.Bundle) provenance.Bundle {
	t.Helper()
	data, err := protojson.Marshal(pb)
	if err != nil {
		t.Fatal(err)
	}
	return provenance.Bundle{MediaType: pb.GetMediaType(), Data: data}
}

// keylessBundle makes a v0.3 bundle with a certificate from vs's Fulcio, a Rekor dsse entry
// with inclusion proof and signed entry timestamp, and an RFC 3161 timestamp.
func keylessBundle(t testing.TB, vs *ca.VirtualSigstore, payload []byte) *protobundle.Bundle {
	t.Helper()
	integrated := time.Now().Add(time.Minute)
	ent, err := vs.AttestAtTime(testSAN, testIssuer, payload, integrated, true)
	if err != nil {
		t.Fatal(err)
	}
	vc, err := ent.VerificationContent()
	if err != nil {
		t.Fatal(err)
	}
	sc, err := ent.SignatureContent()
	if err != nil {
		t.Fatal(err)
	}
	raw := sc.EnvelopeContent().RawEnvelope()
	body, err := base64.StdEncoding.DecodeString(raw.Payload)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := base64.StdEncoding.DecodeString(raw.Signatures[0].Sig)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := ent.TlogEntries()
	if err != nil {
		t.Fatal(err)
	}
	tle := proto.Clone(entries[0].TransparencyLogEntry()).(*protorekor.TransparencyLogEntry)
	logID, err := vs.RekorLogID()
	if err != nil {
		t.Fatal(err)
	}
	set, err := vs.RekorSignPayload(tlog.RekorPayload{
		Body:           base64.StdEncoding.EncodeToString(tle.GetCanonicalizedBody()),
		IntegratedTime: tle.GetIntegratedTime(),
		LogIndex:       tle.GetLogIndex(),
		LogID:          logID,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hex.DecodeString(logID); err != nil {
		t.Fatal(err)
	}
	tle.KindVersion = &protorekor.KindVersion{Kind: "dsse", Version: "0.0.1"}
	tle.InclusionPromise = &protorekor.InclusionPromise{SignedEntryTimestamp: set}
	ts, err := ent.Timestamps()
	if err != nil {
		t.Fatal(err)
	}
	return &protobundle.Bundle{
		MediaType: provenance.MediaTypeBundleV03,
		VerificationMaterial: &protobundle.VerificationMaterial{
			Content: &protobundle.VerificationMaterial_Certificate{
				Certificate: &protocommon.X509Certificate{RawBytes: vc.Certificate().Raw},
			},
			TlogEntries: []*protorekor.TransparencyLogEntry{tle},
			TimestampVerificationData: &protobundle.TimestampVerificationData{
				Rfc3161Timestamps: []*protocommon.RFC3161SignedTimestamp{{SignedTimestamp: ts[0]}},
			},
		},
		Content: &protobundle.Bundle_DsseEnvelope{DsseEnvelope: &protodsse.Envelope{
			Payload:     body,
			PayloadType: raw.PayloadType,
			Signatures:  []*protodsse.Signature{{Sig: sig, Keyid: raw.Signatures[0].KeyID}},
		}},
	}
}

func newVirtualSigstore(t testing.TB) *ca.VirtualSigstore {
	t.Helper()
	vs, err := ca.NewVirtualSigstore()
	if err != nil {
		t.Fatal(err)
	}
	return vs
}

func newVerifier(t testing.TB, tm root.TrustedMaterial, opts ...verify.Option) *verify.Verifier {
	t.Helper()
	v, err := verify.New(tm, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func certIdentity(t testing.TB) verify.Identity {
	t.Helper()
	id, err := verify.Certificates(verify.CertificateMatch{Issuer: testIssuer, SubjectAlternativeName: testSAN})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func leafOf(t testing.TB, pb *protobundle.Bundle) *x509.Certificate {
	t.Helper()
	c, err := x509.ParseCertificate(pb.GetVerificationMaterial().GetCertificate().GetRawBytes())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// wantCheck fails unless err is a *VerificationError of check c wrapping ErrVerification.
func wantCheck(t testing.TB, err error, c verify.Check) {
	t.Helper()
	if err == nil {
		t.Fatalf("verified; want a %s failure", c)
	}
	var ve *verify.VerificationError
	if !errors.As(err, &ve) {
		t.Fatalf("error %v (%T) is not a *VerificationError; want check %s", err, err, c)
	}
	if !errors.Is(err, verify.ErrVerification) {
		t.Fatalf("error %v does not wrap ErrVerification", err)
	}
	if ve.Check != c {
		t.Fatalf("check %s (%v); want %s", ve.Check, err, c)
	}
}

var bg = context.Background()

func errorsIsUnsupported(err error) bool {
	return errors.Is(err, verify.ErrUnsupportedMediaType) && !errors.Is(err, verify.ErrVerification)
}

func hexBytes(d digest.Digest) ([]byte, error) { return hex.DecodeString(d.Encoded()) }
