//go:build cgo

package pkcs11_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"testing"

	"github.com/provkit/provkit/sign"
	"github.com/provkit/provkit/sign/pkcs11"
)

// BenchmarkSign measures one ECDSA P-256 signature on a SoftHSM2 token against the same
// signature made in process, and a whole Sigstore bundle signed on the token through
// sign.NewKeySigner.
func BenchmarkSign(b *testing.B) {
	d := digest(crypto.SHA256, []byte("provkit"))
	b.Run("in-process", func(b *testing.B) {
		priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := priv.Sign(rand.Reader, d, crypto.SHA256); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("softhsm", func(b *testing.B) {
		k := benchKey(b)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := k.Sign(rand.Reader, d, crypto.SHA256); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("softhsm-bundle", func(b *testing.B) {
		s, err := sign.NewKeySigner(benchKey(b))
		if err != nil {
			b.Fatal(err)
		}
		st := testStatement(b)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.Sign(context.Background(), st); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// benchKey opens an ECDSA P-256 key on a fresh token, closed when the benchmark ends.
func benchKey(b *testing.B) *pkcs11.Key {
	b.Helper()
	tok := newToken(b)
	tok.generate(b, keySpec{label: "k", id: []byte{1}, curve: elliptic.P256()})
	k, err := pkcs11.Open(context.Background(), pkcs11.Config{Module: tok.module, TokenLabel: tok.label, PIN: tok.pin, KeyLabel: "k"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := k.Close(); err != nil {
			b.Error(err)
		}
	})
	return k
}
