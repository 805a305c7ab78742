package main

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/sigstore/sigstore/pkg/signature/kms/cliplugin/handler"
)

const algorithmP256 = "ecdsa-p256-sha256"

func main() {
	args, err := handler.GetPluginArgs(os.Args)
	if err != nil {
		_ = handler.WriteErrorResponse(os.Stdout, err)
		os.Exit(1)
	}
	key := &fileKey{path: args.InitOptions.KeyResourceID, hash: args.InitOptions.HashFunc}
	if _, err := handler.Dispatch(os.Stdout, os.Stdin, args, key); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// fileKey is an ECDSA key kept in a PEM file.
type fileKey struct {
	path string
	hash crypto.Hash
}

// keyVersion returns the key version that opts ask for.
func keyVersion[O signature.RPCOption](opts []O) string {
	var v string
	for _, o := range opts {
		o.ApplyKeyVersion(&v)
	}
	return v
}

func (k *fileKey) load(version string) (*signature.ECDSASignerVerifier, error) {
	path := k.path
	if version != "" && version != "1" {
		path += ".v" + version
	}
	pemBytes, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	priv, err := cryptoutils.UnmarshalPEMToPrivateKey(pemBytes, cryptoutils.SkipPassword)
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	ec, ok := priv.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("key file %s holds a %T, want an ECDSA key", path, priv)
	}
	return signature.LoadECDSASignerVerifier(ec, k.hash)
}

func (k *fileKey) DefaultAlgorithm() string { return algorithmP256 }

func (k *fileKey) SupportedAlgorithms() []string { return []string{algorithmP256} }

func (k *fileKey) CreateKey(_ context.Context, algorithm string) (crypto.PublicKey, error) {
	if algorithm != algorithmP256 {
		return nil, fmt.Errorf("unsupported algorithm %q", algorithm)
	}
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	pemBytes, err := cryptoutils.MarshalPrivateKeyToPEM(priv)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(k.path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	if _, err := f.Write(pemBytes); err != nil {
		return nil, errors.Join(err, f.Close())
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	return priv.Public(), nil
}

func (k *fileKey) PublicKey(opts ...signature.PublicKeyOption) (crypto.PublicKey, error) {
	sv, err := k.load(keyVersion(opts))
	if err != nil {
		return nil, err
	}
	return sv.PublicKey(opts...)
}

func (k *fileKey) SignMessage(message io.Reader, opts ...signature.SignOption) ([]byte, error) {
	sv, err := k.load(keyVersion(opts))
	if err != nil {
		return nil, err
	}
	return sv.SignMessage(message, opts...)
}

func (k *fileKey) VerifySignature(sig, message io.Reader, opts ...signature.VerifyOption) error {
	sv, err := k.load(keyVersion(opts))
	if err != nil {
		return err
	}
	return sv.VerifySignature(sig, message, opts...)
}

func (k *fileKey) CryptoSigner(_ context.Context, _ func(error)) (crypto.Signer, crypto.SignerOpts, error) {
	sv, err := k.load("")
	if err != nil {
		return nil, nil, err
	}
	return sv, k.hash, nil
}
