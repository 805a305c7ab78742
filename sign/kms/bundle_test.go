package kms_test

import (
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"testing"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	sgbundle "github.com/sigstore/sigstore-go/pkg/bundle"
	sgroot "github.com/sigstore/sigstore-go/pkg/root"
	sgsign "github.com/sigstore/sigstore-go/pkg/sign"
	sgverify "github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/provkit/provkit/provenance"
)

// keypair adapts a crypto.Signer to sigstore-go's sign.Keypair, so the tests can build a
// Sigstore bundle with sigstore-go itself.
type keypair struct {
	key     crypto.Signer
	details signature.AlgorithmDetails
	hint    []byte
}

func newKeypair(t testing.TB, key crypto.Signer) *keypair {
	t.Helper()
	details, err := signature.GetDefaultAlgorithmDetails(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	return &keypair{key: key, details: details, hint: keyHint(t, key.Public())}
}

func keyHint(t testing.TB, pub crypto.PublicKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(der)
	return []byte(base64.StdEncoding.EncodeToString(sum[:]))
}

func (k *keypair) GetHashAlgorithm() protocommon.HashAlgorithm { return k.details.GetProtoHashType() }
func (k *keypair) GetSigningAlgorithm() protocommon.PublicKeyDetails {
	return k.details.GetSignatureAlgorithm()
}
func (k *keypair) GetHint() []byte                { return k.hint }
func (k *keypair) GetKeyAlgorithm() string        { return "ECDSA" }
func (k *keypair) GetPublicKey() crypto.PublicKey { return k.key.Public() }
func (k *keypair) GetPublicKeyPem() (string, error) {
	b, err := cryptoutils.MarshalPublicKeyToPEM(k.key.Public())
	return string(b), err
}
func (k *keypair) SignData(_ context.Context, data []byte) ([]byte, []byte, error) {
	h := k.details.GetHashType()
	d := h.New()
	d.Write(data)
	sum := d.Sum(nil)
	sig, err := k.key.Sign(nil, sum, h)
	return sig, sum, err
}

// testStatement returns the canonical JSON of a small in-toto statement.
func testStatement(t testing.TB) []byte {
	t.Helper()
	st, err := provenance.NewStatement([]*intoto.ResourceDescriptor{{
		Name:   "app.tar",
		Digest: map[string]string{"sha256": "4d7ab1c1a8bd21dcd9a4e1b3a2c8f4de7a5d8b0f6b3c2e1a0f9e8d7c6b5a4f3e"},
	}}, "https://example.com/predicate/v1", map[string]any{"ok": true})
	if err != nil {
		t.Fatal(err)
	}
	b, err := provenance.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// signBundle signs payload as a DSSE envelope in a Sigstore bundle through key.
func signBundle(t testing.TB, key crypto.Signer, payload []byte) *sgbundle.Bundle {
	t.Helper()
	pb, err := sgsign.Bundle(&sgsign.DSSEData{Data: payload, PayloadType: "application/vnd.in-toto+json"}, newKeypair(t, key), sgsign.BundleOptions{})
	if err != nil {
		t.Fatalf("signing bundle: %v", err)
	}
	b, err := sgbundle.NewBundle(pb)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// verifyBundle verifies b with sigstore-go against the single trusted key pub.
func verifyBundle(t testing.TB, b *sgbundle.Bundle, pub crypto.PublicKey) error {
	t.Helper()
	sv, err := signature.LoadDefaultVerifier(pub)
	if err != nil {
		t.Fatal(err)
	}
	hint := string(b.VerificationMaterial.GetPublicKey().GetHint())
	tm := sgroot.NewTrustedPublicKeyMaterialFromMapping(map[string]*sgroot.ExpiringKey{
		hint: sgroot.NewExpiringKey(sv, time0, time0),
	})
	v, err := sgverify.NewVerifier(tm, sgverify.WithNoObserverTimestamps())
	if err != nil {
		t.Fatal(err)
	}
	_, err = v.Verify(b, sgverify.NewPolicy(sgverify.WithoutArtifactUnsafe(), sgverify.WithKey()))
	return err
}

// time0 leaves a trusted key's validity period open at both ends.
var time0 time.Time
