package kms_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
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

func TestEd25519Rejected(t *testing.T) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.WithValue(context.Background(), fake.KmsCtxKey{}, crypto.PrivateKey(priv))
	tests := []struct {
		name string
		opts []kms.Option
	}{
		{name: "default hash"},
		{name: "explicit hash", opts: []kms.Option{kms.WithHash(crypto.SHA512)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := kms.Open(ctx, fake.ReferenceScheme+"ed25519-key", tc.opts...)
			if !errors.Is(err, kms.ErrUnsupportedHash) {
				t.Fatalf("Open of an Ed25519 key = %v, %v; want ErrUnsupportedHash", s, err)
			}
		})
	}
}
