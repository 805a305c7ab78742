package kms_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/sigstore/sigstore/pkg/cryptoutils"
	sigkms "github.com/sigstore/sigstore/pkg/signature/kms"
	"github.com/sigstore/sigstore/pkg/signature/kms/cliplugin"

	"github.com/provkit/provkit/sign/kms"
)

func TestPluginRoundTrip(t *testing.T) {
	usePlugin(t)
	ctx := context.Background()
	tests := []struct {
		name  string
		curve elliptic.Curve
		opts  []kms.Option
		hash  crypto.Hash
	}{
		{name: "P-256 default hash", curve: elliptic.P256(), hash: crypto.SHA256},
		{name: "P-384 default hash", curve: elliptic.P384(), hash: crypto.SHA384},
		{name: "P-521 default hash", curve: elliptic.P521(), hash: crypto.SHA512},
		{name: "P-256 with SHA-512", curve: elliptic.P256(), opts: []kms.Option{kms.WithHash(crypto.SHA512)}, hash: crypto.SHA512},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			uri, priv := newKeyFile(t, tc.curve)
			s, err := kms.Open(ctx, uri, tc.opts...)
			if err != nil {
				t.Fatalf("Open(%s): %v", uri, err)
			}
			if !priv.PublicKey.Equal(s.Public()) {
				t.Fatalf("Public() = %v, want the key file's public key", s.Public())
			}
			if s.HashFunc() != tc.hash {
				t.Fatalf("HashFunc() = %v, want %v", s.HashFunc(), tc.hash)
			}
			d := digest(tc.hash, []byte("provkit"))
			sig, err := s.Sign(rand.Reader, d, tc.hash)
			if err != nil {
				t.Fatalf("Sign: %v", err)
			}
			if !ecdsa.VerifyASN1(&priv.PublicKey, d, sig) {
				t.Fatal("signature made through the plugin does not verify with the plugin's key")
			}
			other, err := ecdsa.GenerateKey(tc.curve, rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			if ecdsa.VerifyASN1(&other.PublicKey, d, sig) {
				t.Fatal("signature verifies with an unrelated key")
			}
		})
	}
}

func TestPluginBundle(t *testing.T) {
	usePlugin(t)
	uri, priv := newKeyFile(t, elliptic.P256())
	s, err := kms.Open(context.Background(), uri)
	if err != nil {
		t.Fatal(err)
	}
	b := signBundle(t, s, testStatement(t))
	if err := verifyBundle(t, b, &priv.PublicKey); err != nil {
		t.Fatalf("sigstore-go rejects a bundle signed through the plugin: %v", err)
	}
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	// sigstore-go reports a bad envelope signature with an untyped error; the contrast with
	// the accepted key above is what shows the key is the cause.
	if err := verifyBundle(t, b, &other.PublicKey); err == nil || !strings.Contains(err.Error(), "envelope") {
		t.Fatalf("verifying with a different key: err = %v, want an envelope verification failure", err)
	}
}

func TestOpenErrors(t *testing.T) {
	usePlugin(t)
	ctx := context.Background()
	goodURI, _ := newKeyFile(t, elliptic.P256())
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	notAKey := t.TempDir() + "/not-a-key.pem"
	if err := os.WriteFile(notAKey, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		uri  string
		opts []kms.Option
		want error
		also error
	}{
		{name: "no scheme", uri: "just-a-key", want: kms.ErrInvalidURI},
		{name: "empty scheme", uri: "://key", want: kms.ErrInvalidURI},
		{name: "empty reference", uri: "awskms://", want: kms.ErrInvalidURI},
		{name: "path in scheme", uri: "../bin/x://key", want: kms.ErrInvalidURI},
		{name: "built-in provider not imported", uri: "awskms:///arn:aws:kms:eu-west-1:111122223333:key/k", want: kms.ErrProviderNotFound, also: &sigkms.ProviderNotFoundError{}},
		{name: "no such plugin", uri: "provkitnosuchplugin://key", want: kms.ErrProviderNotFound, also: &sigkms.ProviderNotFoundError{}},
		{name: "missing key file", uri: pluginScheme + ":///nonexistent/key.pem", want: kms.ErrPlugin, also: cliplugin.ErrorPluginReturnError},
		{name: "file is not a key", uri: pluginScheme + "://" + notAKey, want: kms.ErrPlugin, also: cliplugin.ErrorPluginReturnError},
		{name: "plugin answers garbage", uri: pluginScheme + "broken://key", want: kms.ErrPlugin, also: cliplugin.ErrorResponseParse},
		{name: "unexpected key", uri: goodURI, opts: []kms.Option{kms.WithPublicKey(&other.PublicKey)}, want: kms.ErrKeyMismatch},
		{name: "unsupported hash", uri: goodURI, opts: []kms.Option{kms.WithHash(crypto.SHA1)}, want: kms.ErrUnsupportedHash},
		{name: "empty key version", uri: goodURI, opts: []kms.Option{kms.WithKeyVersion("")}, want: kms.ErrInvalidOption},
		{name: "uncomparable expected key", uri: goodURI, opts: []kms.Option{kms.WithPublicKey(struct{}{})}, want: kms.ErrInvalidOption},
		{name: "missing key version", uri: goodURI, opts: []kms.Option{kms.WithKeyVersion("7")}, want: kms.ErrPlugin, also: cliplugin.ErrorPluginReturnError},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := kms.Open(ctx, tc.uri, tc.opts...)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Open(%q) = %v, %v; want %v", tc.uri, s, err, tc.want)
			}
			var kerr *kms.Error
			if !errors.As(err, &kerr) || kerr.URI != tc.uri {
				t.Fatalf("error %v is not a *kms.Error naming %q", err, tc.uri)
			}
			if tc.also == nil {
				return
			}
			if target, ok := tc.also.(*sigkms.ProviderNotFoundError); ok {
				if !errors.As(err, &target) {
					t.Fatalf("error %v does not keep sigstore's %T", err, target)
				}
			} else if !errors.Is(err, tc.also) {
				t.Fatalf("error %v does not keep sigstore's %v", err, tc.also)
			}
		})
	}
}

func TestOpenCanceled(t *testing.T) {
	usePlugin(t)
	uri, _ := newKeyFile(t, elliptic.P256())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s, err := kms.Open(ctx, uri)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Open with a canceled context = %v, %v; want context.Canceled", s, err)
	}
}

// TestKeyVersion checks that WithKeyVersion reaches the provider on every call: the test plugin
// keeps version 2 of a key in <path>.v2.
func TestKeyVersion(t *testing.T) {
	usePlugin(t)
	uri, v1 := newKeyFile(t, elliptic.P256())
	v2, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pemBytes, err := cryptoutils.MarshalPrivateKeyToPEM(v2)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(strings.TrimPrefix(uri, pluginScheme+"://")+".v2", pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		opts []kms.Option
		want *ecdsa.PrivateKey
	}{
		{name: "default version", want: v1},
		{name: "version 1", opts: []kms.Option{kms.WithKeyVersion("1")}, want: v1},
		{name: "version 2", opts: []kms.Option{kms.WithKeyVersion("2")}, want: v2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := kms.Open(context.Background(), uri, tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			if !tc.want.PublicKey.Equal(s.Public()) {
				t.Fatal("Public() is not the requested version's key")
			}
			d := digest(crypto.SHA256, []byte(tc.name))
			sig, err := s.SignContext(context.Background(), d, crypto.SHA256)
			if err != nil {
				t.Fatal(err)
			}
			if !ecdsa.VerifyASN1(&tc.want.PublicKey, d, sig) {
				t.Fatal("signature was not made with the requested version")
			}
		})
	}
}

func TestOpenExpectedKey(t *testing.T) {
	usePlugin(t)
	uri, priv := newKeyFile(t, elliptic.P256())
	s, err := kms.Open(context.Background(), uri, kms.WithPublicKey(&priv.PublicKey))
	if err != nil {
		t.Fatalf("Open with the right expected key: %v", err)
	}
	if !priv.PublicKey.Equal(s.Public()) {
		t.Fatal("Public() differs from the expected key")
	}
}

func TestSignErrors(t *testing.T) {
	usePlugin(t)
	uri, _ := newKeyFile(t, elliptic.P256())
	s, err := kms.Open(context.Background(), uri)
	if err != nil {
		t.Fatal(err)
	}
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name   string
		ctx    context.Context
		digest []byte
		opts   crypto.SignerOpts
		want   error
	}{
		{name: "digest of another hash", ctx: context.Background(), digest: digest(crypto.SHA384, nil), opts: crypto.SHA384, want: kms.ErrUnsupportedHash},
		{name: "short digest", ctx: context.Background(), digest: []byte{1, 2, 3}, opts: crypto.SHA256, want: kms.ErrInvalidDigest},
		{name: "canceled context", ctx: canceled, digest: digest(crypto.SHA256, nil), opts: crypto.SHA256, want: context.Canceled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sig, err := s.SignContext(tc.ctx, tc.digest, tc.opts)
			if !errors.Is(err, tc.want) {
				t.Fatalf("SignContext = %x, %v; want %v", sig, err, tc.want)
			}
			var kerr *kms.Error
			if !errors.As(err, &kerr) || kerr.Op != "sign" {
				t.Fatalf("error %v is not a *kms.Error for op sign", err)
			}
		})
	}
}

func TestSignKeyGone(t *testing.T) {
	usePlugin(t)
	uri, _ := newKeyFile(t, elliptic.P256())
	s, err := kms.Open(context.Background(), uri)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(strings.TrimPrefix(uri, pluginScheme+"://")); err != nil {
		t.Fatal(err)
	}
	_, err = s.Sign(rand.Reader, digest(crypto.SHA256, nil), crypto.SHA256)
	if !errors.Is(err, kms.ErrPlugin) {
		t.Fatalf("Sign after the key was removed: %v, want ErrPlugin", err)
	}
}

func TestConcurrentSign(t *testing.T) {
	usePlugin(t)
	uri, priv := newKeyFile(t, elliptic.P256())
	s, err := kms.Open(context.Background(), uri)
	if err != nil {
		t.Fatal(err)
	}
	// Each signature runs the plugin once, so this stays well under the
	// 1,000-statement load that in-process keys are tested with.
	const goroutines, each = 16, 4
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*each)
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				d := digest(crypto.SHA256, []byte{byte(g), byte(i)})
				sig, err := s.SignContext(context.Background(), d, crypto.SHA256)
				if err != nil {
					errs <- err
					continue
				}
				if !ecdsa.VerifyASN1(&priv.PublicKey, d, sig) {
					errs <- errors.New("signature does not verify")
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
