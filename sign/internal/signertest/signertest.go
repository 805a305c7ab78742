package signertest

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/sign"
	sgbundle "github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	sgverify "github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/signature"
)

// Artifact is the artifact the conformance statements are about.
var artifact = []byte("provkit signer conformance artifact\n")

// Statement returns a valid SLSA provenance statement about a fixed artifact, with n bytes of
// filler in its predicate so that callers can vary its size and content.
func Statement(t testing.TB, n int) *intoto.Statement {
	t.Helper()
	sum := sha256.Sum256(artifact)
	st, err := provenance.NewStatement([]*intoto.ResourceDescriptor{{
		Name:   "artifact.txt",
		Digest: map[string]string{"sha256": hex.EncodeToString(sum[:])},
	}}, provenance.PredicateSLSAProvenanceV1, map[string]any{
		"buildDefinition": map[string]any{"buildType": "https://provkit.dev/conformance/v1", "filler": strings.Repeat("x", n)},
		"runDetails":      map[string]any{"builder": map[string]any{"id": "https://provkit.dev/conformance"}},
	})
	if err != nil {
		t.Fatalf("signertest: NewStatement: %v", err)
	}
	return st
}

// Verify checks b with sigstore-go's verifier against pub (with the hash and padding a
// provkit key signer uses for it: RSA-PSS when pss is set) and returns sigstore-go's error.
// The policy binds the statement to the conformance artifact.
func Verify(t testing.TB, b provenance.Bundle, pub crypto.PublicKey, pss bool) error {
	t.Helper()
	v, err := loadVerifier(pub, pss)
	if err != nil {
		t.Fatalf("signertest: load verifier for %T: %v", pub, err)
	}
	tm := root.NewTrustedPublicKeyMaterial(func(string) (root.TimeConstrainedVerifier, error) {
		return root.NewExpiringKey(v, time.Time{}, time.Time{}), nil
	})
	var sb sgbundle.Bundle
	if err := sb.UnmarshalJSON(b.Data); err != nil {
		return fmt.Errorf("bundle does not parse: %w", err)
	}
	verifier, err := sgverify.NewVerifier(tm, sgverify.WithNoObserverTimestamps())
	if err != nil {
		t.Fatalf("signertest: NewVerifier: %v", err)
	}
	sum := sha256.Sum256(artifact)
	_, err = verifier.Verify(&sb, sgverify.NewPolicy(sgverify.WithArtifactDigest("sha256", sum[:]), sgverify.WithKey()))
	return err
}

func loadVerifier(pub crypto.PublicKey, pss bool) (signature.Verifier, error) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P384():
			return signature.LoadVerifier(pub, crypto.SHA384)
		case elliptic.P521():
			return signature.LoadVerifier(pub, crypto.SHA512)
		}
		return signature.LoadVerifier(pub, crypto.SHA256)
	case ed25519.PublicKey:
		return signature.LoadVerifier(pub, crypto.Hash(0))
	case *rsa.PublicKey:
		if pss {
			return signature.LoadRSAPSSVerifier(k, crypto.SHA256, nil)
		}
		return signature.LoadVerifier(pub, crypto.SHA256)
	}
	return nil, fmt.Errorf("unsupported public key %T", pub)
}

// KeySigner runs the conformance test on key, which must be a key provkit supports. pss
// selects RSA-PSS for RSA keys. It checks that:
//   - NewKeySigner accepts the key and the bundle is a v0.3 bundle with the key's hint;
//   - sigstore-go verifies the bundle with the key's public key, and rejects it with another key;
//   - 64 statements signed from 8 goroutines with one signer all verify and each holds its own
//     statement;
//   - a cancelled context stops signing with context.Canceled.
func KeySigner(t *testing.T, key crypto.Signer, pss bool) {
	t.Helper()
	var opts []sign.Option
	if pss {
		opts = append(opts, sign.WithRSAPSS())
	}
	s, err := sign.NewKeySigner(key, opts...)
	if err != nil {
		t.Fatalf("signertest: NewKeySigner(%T): %v", key.Public(), err)
	}
	ctx := context.Background()

	t.Run("round trip", func(t *testing.T) {
		b, err := s.Sign(ctx, Statement(t, 32))
		if err != nil {
			t.Fatalf("Sign: %v", err)
		}
		if b.MediaType != provenance.MediaTypeBundleV03 || b.PredicateType != provenance.PredicateSLSAProvenanceV1 {
			t.Fatalf("bundle media type %q, predicate type %q", b.MediaType, b.PredicateType)
		}
		var sb sgbundle.Bundle
		if err := sb.UnmarshalJSON(b.Data); err != nil {
			t.Fatalf("bundle does not parse: %v", err)
		}
		hint, err := sign.KeyHint(key.Public())
		if err != nil {
			t.Fatal(err)
		}
		if got := sb.GetVerificationMaterial().GetPublicKey().GetHint(); got != hint {
			t.Errorf("bundle hint %q, want %q", got, hint)
		}
		if err := Verify(t, b, key.Public(), pss); err != nil {
			t.Fatalf("sigstore-go rejected the bundle: %v", err)
		}
		other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		// sigstore-go reports a bad signature with an anonymous error, so its text is matched.
		if err := Verify(t, b, other.Public(), false); err == nil || !strings.Contains(err.Error(), "failed to verify signature") {
			t.Fatalf("another key: got %v, want a signature verification failure", err)
		}
	})

	t.Run("concurrent", func(t *testing.T) {
		const total, workers = 64, 8
		bundles := make([]provenance.Bundle, total)
		errs := make([]error, total)
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for i := w; i < total; i += workers {
					bundles[i], errs[i] = s.Sign(ctx, Statement(t, i))
				}
			})
		}
		wg.Wait()
		for i := range total {
			if errs[i] != nil {
				t.Fatalf("statement %d: %v", i, errs[i])
			}
			if err := Verify(t, bundles[i], key.Public(), pss); err != nil {
				t.Fatalf("statement %d: %v", i, err)
			}
			var sb sgbundle.Bundle
			if err := sb.UnmarshalJSON(bundles[i].Data); err != nil {
				t.Fatal(err)
			}
			want, err := provenance.Marshal(Statement(t, i))
			if err != nil {
				t.Fatal(err)
			}
			if string(sb.GetDsseEnvelope().GetPayload()) != string(want) {
				t.Fatalf("bundle %d holds another statement", i)
			}
		}
	})

	t.Run("cancelled", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := s.Sign(cctx, Statement(t, 0)); !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v, want context.Canceled", err)
		}
	})
}
