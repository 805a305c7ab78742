package kms_test

import (
	"context"
	"crypto"
	"testing"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	sgbundle "github.com/sigstore/sigstore-go/pkg/bundle"
	sgroot "github.com/sigstore/sigstore-go/pkg/root"
	sgverify "github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/sign"
)

// testStatement returns a small in-toto statement.
func testStatement(t testing.TB) *intoto.Statement {
	t.Helper()
	st, err := provenance.NewStatement([]*intoto.ResourceDescriptor{{
		Name:   "app.tar",
		Digest: map[string]string{"sha256": "4d7ab1c1a8bd21dcd9a4e1b3a2c8f4de7a5d8b0f6b3c2e1a0f9e8d7c6b5a4f3e"},
	}}, "https://example.com/predicate/v1", map[string]any{"ok": true})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// signBundle signs st with key through sign.NewKeySigner and parses the Sigstore bundle.
func signBundle(t testing.TB, key crypto.Signer, st *intoto.Statement) *sgbundle.Bundle {
	t.Helper()
	s, err := sign.NewKeySigner(key)
	if err != nil {
		t.Fatalf("NewKeySigner: %v", err)
	}
	pb, err := s.Sign(context.Background(), st)
	if err != nil {
		t.Fatalf("signing bundle: %v", err)
	}
	if pb.MediaType != provenance.MediaTypeBundleV03 {
		t.Fatalf("bundle media type %q, want %q", pb.MediaType, provenance.MediaTypeBundleV03)
	}
	var b sgbundle.Bundle
	if err := b.UnmarshalJSON(pb.Data); err != nil {
		t.Fatalf("parsing bundle: %v", err)
	}
	return &b
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
