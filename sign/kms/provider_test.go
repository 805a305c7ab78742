package kms_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"testing"

	"github.com/sigstore/sigstore/pkg/signature/kms/fake"

	"github.com/provkit/provkit/sign/kms"
)

// TestBuiltInProvider opens a key through a provider registered by blank import, the way the
// cloud providers are opted in. No cloud is reachable here, so the provider is sigstore's own
// in-memory one (package fake, scheme fakekms://), which holds the key the context gives it.
func TestBuiltInProvider(t *testing.T) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.WithValue(context.Background(), fake.KmsCtxKey{}, crypto.PrivateKey(priv))
	s, err := kms.Open(ctx, fake.ReferenceScheme+"release-key", kms.WithPublicKey(&priv.PublicKey))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	d := digest(crypto.SHA256, []byte("provkit"))
	sig, err := s.SignContext(ctx, d, crypto.SHA256)
	if err != nil {
		t.Fatalf("SignContext: %v", err)
	}
	if !ecdsa.VerifyASN1(&priv.PublicKey, d, sig) {
		t.Fatal("signature does not verify with the provider's key")
	}
	if err := verifyBundle(t, signBundle(t, s, testStatement(t)), &priv.PublicKey); err != nil {
		t.Fatalf("sigstore-go rejects a bundle signed through the provider: %v", err)
	}
}
