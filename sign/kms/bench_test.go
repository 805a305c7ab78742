package kms_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"testing"

	"github.com/provkit/provkit/sign"
	"github.com/provkit/provkit/sign/kms"
)

// BenchmarkSign measures one ECDSA P-256 signature through the plugin protocol, which starts
// the plugin program once per signature, against the same signature made in process, and a
// whole Sigstore bundle signed through the plugin with sign.NewKeySigner.
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
	b.Run("plugin", func(b *testing.B) {
		usePlugin(b)
		uri, _ := newKeyFile(b, elliptic.P256())
		s, err := kms.Open(context.Background(), uri)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.SignContext(context.Background(), d, crypto.SHA256); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("plugin-bundle", func(b *testing.B) {
		usePlugin(b)
		uri, _ := newKeyFile(b, elliptic.P256())
		key, err := kms.Open(context.Background(), uri)
		if err != nil {
			b.Fatal(err)
		}
		s, err := sign.NewKeySigner(key)
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
