package sign_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/sign"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	youmarkpkcs8 "github.com/youmark/pkcs8"
)

// samePublicKey reports whether two signers hold the same key.
func samePublicKey(t *testing.T, a, b crypto.Signer) bool {
	t.Helper()
	type equaler interface{ Equal(crypto.PublicKey) bool }
	return a.Public().(equaler).Equal(b.Public())
}

func TestParsePrivateKeyFormats(t *testing.T) {
	ec, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := cachedRSAKey(2048)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8 := func(k crypto.Signer) []byte {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	}
	sec1, err := x509.MarshalECPrivateKey(ec)
	if err != nil {
		t.Fatal(err)
	}
	sealed := func(k crypto.Signer, password string) []byte {
		out, err := sign.MarshalEncryptedPrivateKey(k, []byte(password))
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	cosignName := strings.ReplaceAll(string(sealed(ec, "pw")), "SIGSTORE", "COSIGN")
	encDER, err := youmarkpkcs8.MarshalPrivateKey(ec, []byte("pw"), nil)
	if err != nil {
		t.Fatal(err)
	}
	encPKCS8 := pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: encDER})
	tests := []struct {
		name     string
		data     []byte
		password string
		want     crypto.Signer
	}{
		{name: "PKCS#8 ECDSA", data: pkcs8(ec), want: ec},
		{name: "PKCS#8 Ed25519", data: pkcs8(ed), want: ed},
		{name: "PKCS#8 RSA", data: pkcs8(rsaKey), want: rsaKey},
		{name: "SEC1 EC", data: pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1}), want: ec},
		{name: "PKCS#1 RSA", data: pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)}), want: rsaKey},
		{name: "sigstore encrypted", data: sealed(ec, "pw"), password: "pw", want: ec},
		{name: "sigstore encrypted, empty password", data: sealed(ed, ""), want: ed},
		{name: "cosign encrypted", data: []byte(cosignName), password: "pw", want: ec},
		{name: "encrypted PKCS#8", data: encPKCS8, password: "pw", want: ec},
		{name: "leading text", data: append([]byte("a comment\n"), pkcs8(ec)...), want: ec},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := sign.ParsePrivateKey(tt.data, []byte(tt.password))
			if err != nil {
				t.Fatalf("ParsePrivateKey: %v", err)
			}
			if !samePublicKey(t, got, tt.want) {
				t.Fatal("parsed a different key")
			}
		})
	}
}

func TestParsePrivateKeyErrors(t *testing.T) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p224, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der224, err := x509.MarshalPKCS8PrivateKey(p224)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := sign.MarshalEncryptedPrivateKey(ec, []byte("right"))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(sealed)
	damaged := pem.EncodeToMemory(&pem.Block{Type: block.Type, Bytes: []byte(`{"kdf":{"name":"scrypt"},"cipher":{"name":"nacl/secretbox"}}`)})
	pub, err := sign.MarshalPublicKey(ec.Public())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		data     []byte
		password string
		want     error
	}{
		{name: "wrong password", data: sealed, password: "wrong", want: sign.ErrWrongPassword},
		{name: "no password", data: sealed, want: sign.ErrWrongPassword},
		{name: "damaged encrypted key", data: damaged, password: "right", want: sign.ErrInvalidKeyFile},
		{name: "not PEM", data: []byte("hello"), want: sign.ErrInvalidKeyFile},
		{name: "public key", data: pub, want: sign.ErrInvalidKeyFile},
		{name: "garbage DER", data: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1, 2, 3}}), want: sign.ErrInvalidKeyFile},
		{name: "PEM headers", data: pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED"}, Bytes: []byte{1}}), want: sign.ErrInvalidKeyFile},
		{name: "P-224", data: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der224}), want: sign.ErrUnsupportedKey},
		{name: "too large", data: make([]byte, sign.MaxKeyFileBytes+1), want: sign.ErrInvalidKeyFile},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := sign.ParsePrivateKey(tt.data, []byte(tt.password))
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			var kfe *sign.KeyFileError
			if !errors.As(err, &kfe) {
				t.Fatalf("got %T, want *sign.KeyFileError", err)
			}
		})
	}
}

func TestGenerateKeyPair(t *testing.T) {
	tests := []struct {
		name string
		alg  protocommon.PublicKeyDetails
		want string // PKIX algorithm of the public key
	}{
		{name: "default is P-256", want: "ECDSA"},
		{name: "P-521", alg: protocommon.PublicKeyDetails_PKIX_ECDSA_P521_SHA_512, want: "ECDSA"},
		{name: "Ed25519", alg: protocommon.PublicKeyDetails_PKIX_ED25519, want: "Ed25519"},
		{name: "RSA 2048", alg: protocommon.PublicKeyDetails_PKIX_RSA_PKCS1V15_2048_SHA256, want: "RSA"},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kp, err := sign.GenerateKeyPair(tt.alg, []byte("s3cret"))
			if err != nil {
				t.Fatalf("GenerateKeyPair: %v", err)
			}
			if b, _ := pem.Decode(kp.PrivatePEM); b == nil || b.Type != sign.PEMTypeSigstoreKey {
				t.Fatalf("private PEM is not %s", sign.PEMTypeSigstoreKey)
			}
			pubBlock, _ := pem.Decode(kp.PublicPEM)
			if pubBlock == nil || pubBlock.Type != sign.PEMTypePublicKey {
				t.Fatal("public PEM is not a PUBLIC KEY block")
			}
			pub, err := x509.ParsePKIXPublicKey(pubBlock.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			if got := x509PublicKeyAlgorithm(pub); got != tt.want {
				t.Errorf("public key is %s, want %s", got, tt.want)
			}
			path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_")+".key")
			if err := os.WriteFile(path, kp.PrivatePEM, 0o600); err != nil {
				t.Fatal(err)
			}
			loaded, err := sign.LoadPrivateKey(path, []byte("s3cret"))
			if err != nil {
				t.Fatalf("LoadPrivateKey: %v", err)
			}
			if !samePublicKey(t, loaded, kp.Signer) {
				t.Fatal("loaded a different key")
			}
			if _, err := sign.LoadPrivateKey(path, []byte("nope")); !errors.Is(err, sign.ErrWrongPassword) {
				t.Fatalf("wrong password: got %v", err)
			}
		})
	}
	t.Run("unsupported algorithm", func(t *testing.T) {
		_, err := sign.GenerateKeyPair(protocommon.PublicKeyDetails_PKIX_RSA_PKCS1V15_2048_SHA256+1000, nil)
		if !errors.Is(err, sign.ErrUnsupportedKey) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("missing file", func(t *testing.T) {
		_, err := sign.LoadPrivateKey(filepath.Join(dir, "absent.key"), nil)
		if !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("oversized file", func(t *testing.T) {
		path := filepath.Join(dir, "big.key")
		if err := os.WriteFile(path, make([]byte, sign.MaxKeyFileBytes+10), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := sign.LoadPrivateKey(path, nil)
		if !errors.Is(err, provenance.ErrTooLarge) || !errors.Is(err, sign.ErrInvalidKeyFile) {
			t.Fatalf("got %v", err)
		}
	})
}

func x509PublicKeyAlgorithm(pub any) string {
	switch pub.(type) {
	case *ecdsa.PublicKey:
		return "ECDSA"
	case ed25519.PublicKey:
		return "Ed25519"
	default:
		if _, ok := pub.(interface{ Size() int }); ok {
			return "RSA"
		}
	}
	return "unknown"
}

// FuzzParsePrivateKey feeds arbitrary bytes to the key file parser: it must never panic, and
// must fail with a *KeyFileError whenever it fails.
func FuzzParsePrivateKey(f *testing.F) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(ec)
	if err != nil {
		f.Fatal(err)
	}
	sec1, err := x509.MarshalECPrivateKey(ec)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), []byte(""))
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1}), []byte(""))
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED SIGSTORE PRIVATE KEY", Bytes: []byte(`{"kdf":{"name":"scrypt","params":{"N":1,"r":1,"p":1},"salt":"AAAA"},"cipher":{"name":"nacl/secretbox","nonce":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},"ciphertext":"AAAA"}`)}), []byte("pw"))
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{0x30, 0x03, 0x02, 0x01, 0x00}}), []byte("pw"))
	f.Add([]byte("-----BEGIN RSA PRIVATE KEY-----\nMAA=\n-----END RSA PRIVATE KEY-----\n"), []byte(nil))
	f.Fuzz(func(t *testing.T, data, password []byte) {
		key, err := sign.ParsePrivateKey(data, password)
		if err != nil {
			var kfe *sign.KeyFileError
			if !errors.As(err, &kfe) {
				t.Fatalf("error %v is not a *KeyFileError", err)
			}
			if !errors.Is(err, sign.ErrInvalidKeyFile) && !errors.Is(err, sign.ErrWrongPassword) && !errors.Is(err, sign.ErrUnsupportedKey) {
				t.Fatalf("error %v wraps no sentinel", err)
			}
			return
		}
		if _, err := sign.NewKeySigner(key); err != nil {
			t.Fatalf("parsed key %T does not make a signer: %v", key, err)
		}
	})
}
