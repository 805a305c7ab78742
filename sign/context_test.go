package sign_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"io"
	"testing"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/sign"
)

// cancellableKey is a key whose signatures take a context, as KMS and plugin keys do.
type cancellableKey struct {
	*ecdsa.PrivateKey
	seen context.Context
}

func (k *cancellableKey) SignContext(ctx context.Context, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	k.seen = ctx
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return k.PrivateKey.Sign(rand.Reader, digest, opts)
}

func (k *cancellableKey) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	panic("Sign called although SignContext is available")
}

type ctxKey struct{}

func TestKeySignerPassesContextToKeysThatTakeOne(t *testing.T) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	key := &cancellableKey{PrivateKey: priv}
	signer, err := sign.NewKeySigner(key)
	require.NoError(t, err)
	st, err := provenance.NewStatement([]*intoto.ResourceDescriptor{{Name: "a", Digest: map[string]string{"sha256": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}}},
		"https://example.com/p", map[string]any{"k": "v"})
	require.NoError(t, err)

	ctx := context.WithValue(context.Background(), ctxKey{}, "request-42")
	_, err = signer.Sign(ctx, st)
	require.NoError(t, err)
	require.NotNil(t, key.seen)
	assert.Equal(t, "request-42", key.seen.Value(ctxKey{}))
}
