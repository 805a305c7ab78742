//go:build cgo

package pkcs11_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	p11 "github.com/miekg/pkcs11"
	sgbundle "github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/provkit/provkit/sign"
	"github.com/provkit/provkit/sign/pkcs11"
)

// openKey opens a key and closes it when the test ends.
func openKey(t *testing.T, cfg pkcs11.Config) *pkcs11.Key {
	t.Helper()
	k, err := pkcs11.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := k.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return k
}

func TestRoundTrip(t *testing.T) {
	tok := newToken(t)
	specs := []keySpec{
		{label: "p256", id: []byte{1}, curve: elliptic.P256()},
		{label: "p384", id: []byte{2}, curve: elliptic.P384()},
		{label: "rsa2048", id: []byte{3}, bits: 2048},
		{label: "p521", id: []byte{4}, curve: elliptic.P521()},
	}
	pubs := tok.generate(t, specs...)
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		spec     keySpec
		pub      crypto.PublicKey
		opts     []sign.Option
		verifier func(t *testing.T, pub crypto.PublicKey) signature.Verifier
	}{
		{name: "ECDSA P-256", spec: specs[0], pub: pubs[0]},
		{name: "ECDSA P-384", spec: specs[1], pub: pubs[1]},
		{name: "ECDSA P-521", spec: specs[3], pub: pubs[3]},
		{name: "RSA-2048 PKCS1v15", spec: specs[2], pub: pubs[2]},
		{name: "RSA-2048 PSS", spec: specs[2], pub: pubs[2], opts: []sign.Option{sign.WithRSAPSS()},
			verifier: func(t *testing.T, pub crypto.PublicKey) signature.Verifier {
				v, err := signature.LoadRSAPSSVerifier(pub.(*rsa.PublicKey), crypto.SHA256, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256})
				if err != nil {
					t.Fatal(err)
				}
				return v
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k := openKey(t, pkcs11.Config{Module: tok.module, TokenLabel: tok.label, PIN: tok.pin, KeyLabel: tc.spec.label})
			if !tc.pub.(interface{ Equal(crypto.PublicKey) bool }).Equal(k.Public()) {
				t.Fatalf("Public() = %v, want the generated key", k.Public())
			}
			b := signBundle(t, k, testStatement(t), tc.opts...)
			verifier := tc.verifier
			if verifier == nil {
				verifier = func(t *testing.T, pub crypto.PublicKey) signature.Verifier {
					v, err := signature.LoadDefaultVerifier(pub)
					if err != nil {
						t.Fatal(err)
					}
					return v
				}
			}
			if err := verifyBundle(b, verifier(t, tc.pub)); err != nil {
				t.Fatalf("sigstore-go rejects a bundle signed on the token: %v", err)
			}
			otherVerifier, err := signature.LoadDefaultVerifier(&other.PublicKey)
			if err != nil {
				t.Fatal(err)
			}
			// sigstore-go reports a bad envelope signature with an untyped error; the contrast
			// with the accepted key above is what shows the key is the cause.
			if err := verifyBundle(b, otherVerifier); err == nil || !strings.Contains(err.Error(), "envelope") {
				t.Fatalf("verifying with a different key: err = %v, want an envelope verification failure", err)
			}
		})
	}
}

func TestSignDigest(t *testing.T) {
	tok := newToken(t)
	pubs := tok.generate(t,
		keySpec{label: "ec", id: []byte{1}, curve: elliptic.P256()},
		keySpec{label: "rsa", id: []byte{2}, bits: 2048},
	)
	d := digest(crypto.SHA256, []byte("provkit"))
	tests := []struct {
		name   string
		cfg    pkcs11.Config
		opts   crypto.SignerOpts
		verify func(sig []byte) error
	}{
		{name: "ECDSA by label", cfg: pkcs11.Config{KeyLabel: "ec"}, opts: crypto.SHA256, verify: func(sig []byte) error {
			if !ecdsa.VerifyASN1(pubs[0].(*ecdsa.PublicKey), d, sig) {
				return errors.New("ECDSA signature does not verify")
			}
			return nil
		}},
		{name: "ECDSA by id", cfg: pkcs11.Config{KeyID: []byte{1}}, opts: crypto.SHA256, verify: func(sig []byte) error {
			if !ecdsa.VerifyASN1(pubs[0].(*ecdsa.PublicKey), d, sig) {
				return errors.New("ECDSA signature does not verify")
			}
			return nil
		}},
		{name: "RSA PKCS1v15 by label and id", cfg: pkcs11.Config{KeyLabel: "rsa", KeyID: []byte{2}}, opts: crypto.SHA256, verify: func(sig []byte) error {
			return rsa.VerifyPKCS1v15(pubs[1].(*rsa.PublicKey), crypto.SHA256, d, sig)
		}},
		{name: "RSA PSS", cfg: pkcs11.Config{KeyLabel: "rsa"}, opts: &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256}, verify: func(sig []byte) error {
			return rsa.VerifyPSS(pubs[1].(*rsa.PublicKey), crypto.SHA256, d, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		}},
		{name: "by slot", cfg: pkcs11.Config{Slot: &tok.slot, KeyLabel: "ec"}, opts: crypto.SHA256, verify: func(sig []byte) error {
			if !ecdsa.VerifyASN1(pubs[0].(*ecdsa.PublicKey), d, sig) {
				return errors.New("ECDSA signature does not verify")
			}
			return nil
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.Module, cfg.PIN = tok.module, tok.pin
			if cfg.Slot == nil {
				cfg.TokenLabel = tok.label
			}
			k := openKey(t, cfg)
			sig, err := k.Sign(rand.Reader, d, tc.opts)
			if err != nil {
				t.Fatalf("Sign: %v", err)
			}
			if err := tc.verify(sig); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	tok := newToken(t)
	tok.generate(t,
		keySpec{label: "release", id: []byte{1}, curve: elliptic.P256()},
		keySpec{label: "twin", id: []byte{2}, curve: elliptic.P256()},
		keySpec{label: "twin", id: []byte{3}, curve: elliptic.P256()},
	)
	notAModule := filepath.Join(t.TempDir(), "not-a-module.so")
	if err := os.WriteFile(notAModule, []byte("not a shared library"), 0o600); err != nil {
		t.Fatal(err)
	}
	badSlot := tok.slot + 1
	negSlot := -1
	good := pkcs11.Config{Module: tok.module, TokenLabel: tok.label, PIN: tok.pin, KeyLabel: "release"}
	with := func(f func(*pkcs11.Config)) pkcs11.Config {
		c := good
		f(&c)
		return c
	}
	tests := []struct {
		name string
		cfg  pkcs11.Config
		want error
		rv   p11.Error // the module's return value kept in the chain, when not zero
	}{
		{name: "wrong PIN", cfg: with(func(c *pkcs11.Config) { c.PIN = "0000" }), want: pkcs11.ErrIncorrectPIN, rv: p11.CKR_PIN_INCORRECT},
		{name: "missing key label", cfg: with(func(c *pkcs11.Config) { c.KeyLabel = "nonexistent" }), want: pkcs11.ErrKeyNotFound},
		{name: "missing key id", cfg: with(func(c *pkcs11.Config) { c.KeyLabel, c.KeyID = "", []byte{9} }), want: pkcs11.ErrKeyNotFound},
		{name: "label and id of different keys", cfg: with(func(c *pkcs11.Config) { c.KeyID = []byte{2} }), want: pkcs11.ErrKeyNotFound},
		{name: "two keys with the label", cfg: with(func(c *pkcs11.Config) { c.KeyLabel = "twin" }), want: pkcs11.ErrAmbiguousKey},
		{name: "unknown token label", cfg: with(func(c *pkcs11.Config) { c.TokenLabel = "nonexistent" }), want: pkcs11.ErrTokenNotFound},
		{name: "unknown slot", cfg: with(func(c *pkcs11.Config) { c.TokenLabel, c.Slot = "", &badSlot }), want: pkcs11.ErrTokenNotFound},
		{name: "module missing", cfg: with(func(c *pkcs11.Config) { c.Module = filepath.Join(t.TempDir(), "nonexistent.so") }), want: pkcs11.ErrModule},
		{name: "module not a library", cfg: with(func(c *pkcs11.Config) { c.Module = notAModule }), want: pkcs11.ErrModule},
		{name: "no module", cfg: with(func(c *pkcs11.Config) { c.Module = "" }), want: pkcs11.ErrInvalidConfig},
		{name: "no token", cfg: with(func(c *pkcs11.Config) { c.TokenLabel = "" }), want: pkcs11.ErrInvalidConfig},
		{name: "label and slot", cfg: with(func(c *pkcs11.Config) { c.Slot = &tok.slot }), want: pkcs11.ErrInvalidConfig},
		{name: "negative slot", cfg: with(func(c *pkcs11.Config) { c.TokenLabel, c.Slot = "", &negSlot }), want: pkcs11.ErrInvalidConfig},
		{name: "no key", cfg: with(func(c *pkcs11.Config) { c.KeyLabel = "" }), want: pkcs11.ErrInvalidConfig},
		{name: "one session", cfg: with(func(c *pkcs11.Config) { c.MaxSessions = 1 }), want: pkcs11.ErrInvalidConfig},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k, err := pkcs11.Open(context.Background(), tc.cfg)
			if err == nil {
				_ = k.Close()
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("Open = %v; want %v", err, tc.want)
			}
			var perr *pkcs11.Error
			if !errors.As(err, &perr) || perr.Op != "open" || perr.Module != tc.cfg.Module {
				t.Fatalf("error %v is not a *pkcs11.Error for open of %s", err, tc.cfg.Module)
			}
			if tc.cfg.PIN != "" && strings.Contains(err.Error(), tc.cfg.PIN) {
				t.Fatalf("error %q shows the PIN", err)
			}
			if tc.rv != 0 {
				var rv p11.Error
				if !errors.As(err, &rv) || rv != tc.rv {
					t.Fatalf("error %v does not keep the module's %v", err, tc.rv)
				}
			}
		})
	}
}

func TestOpenCanceled(t *testing.T) {
	tok := newToken(t)
	tok.generate(t, keySpec{label: "k", id: []byte{1}, curve: elliptic.P256()})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	k, err := pkcs11.Open(ctx, pkcs11.Config{Module: tok.module, TokenLabel: tok.label, PIN: tok.pin, KeyLabel: "k"})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Open with a canceled context = %v, %v; want context.Canceled", k, err)
	}
}

func TestClose(t *testing.T) {
	tok := newToken(t)
	tok.generate(t, keySpec{label: "k", id: []byte{1}, curve: elliptic.P256()})
	k, err := pkcs11.Open(context.Background(), pkcs11.Config{Module: tok.module, TokenLabel: tok.label, PIN: tok.pin, KeyLabel: "k"})
	if err != nil {
		t.Fatal(err)
	}
	if err := k.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := k.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	_, err = k.Sign(rand.Reader, digest(crypto.SHA256, nil), crypto.SHA256)
	if !errors.Is(err, pkcs11.ErrClosed) {
		t.Fatalf("Sign after Close = %v, want ErrClosed", err)
	}
}

func TestSignWrongDigestLength(t *testing.T) {
	tok := newToken(t)
	tok.generate(t, keySpec{label: "k", id: []byte{1}, curve: elliptic.P256()})
	k := openKey(t, pkcs11.Config{Module: tok.module, TokenLabel: tok.label, PIN: tok.pin, KeyLabel: "k"})
	_, err := k.Sign(rand.Reader, []byte{1, 2, 3}, crypto.SHA256)
	var perr *pkcs11.Error
	if !errors.As(err, &perr) || perr.Op != "sign" {
		t.Fatalf("Sign of a 3-byte SHA-256 digest = %v, want a *pkcs11.Error for sign", err)
	}
}

func TestTwoKeysOneModule(t *testing.T) {
	tok := newToken(t)
	pubs := tok.generate(t,
		keySpec{label: "a", id: []byte{1}, curve: elliptic.P256()},
		keySpec{label: "b", id: []byte{2}, curve: elliptic.P256()},
	)
	a := openKey(t, pkcs11.Config{Module: tok.module, TokenLabel: tok.label, PIN: tok.pin, KeyLabel: "a"})
	b, err := pkcs11.Open(context.Background(), pkcs11.Config{Module: tok.module, TokenLabel: tok.label, PIN: tok.pin, KeyLabel: "b"})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	// Closing b must leave the module loaded and logged in for a.
	d := digest(crypto.SHA256, []byte("a"))
	sig, err := a.Sign(rand.Reader, d, crypto.SHA256)
	if err != nil {
		t.Fatalf("Sign with a after closing b: %v", err)
	}
	if !ecdsa.VerifyASN1(pubs[0].(*ecdsa.PublicKey), d, sig) {
		t.Fatal("signature does not verify")
	}
}

func TestConcurrentSign(t *testing.T) {
	tok := newToken(t)
	pubs := tok.generate(t, keySpec{label: "k", id: []byte{1}, curve: elliptic.P256()})
	k := openKey(t, pkcs11.Config{Module: tok.module, TokenLabel: tok.label, PIN: tok.pin, KeyLabel: "k"})
	s, err := sign.NewKeySigner(k)
	if err != nil {
		t.Fatal(err)
	}
	v, err := signature.LoadDefaultVerifier(pubs[0])
	if err != nil {
		t.Fatal(err)
	}
	const goroutines, each = 16, 63 // 1,008 statements
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*each)
	st := testStatement(t)
	for range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				pb, err := s.Sign(context.Background(), st)
				if err != nil {
					errs <- err
					continue
				}
				var b sgbundle.Bundle
				if err := b.UnmarshalJSON(pb.Data); err != nil {
					errs <- err
					continue
				}
				if err := verifyBundle(&b, v); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
