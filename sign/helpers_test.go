package sign_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"sync"
	"testing"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/provkit/provkit/provenance"
	sgbundle "github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	sgverify "github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/signature"
)

// testArtifact is the artifact every test statement is about.
var testArtifact = []byte("provkit test artifact\n")

func artifactDigest() []byte {
	sum := sha256.Sum256(testArtifact)
	return sum[:]
}

// newStatement returns a SLSA-typed statement about testArtifact whose predicate holds pad
// bytes of filler, so tests can size it.
func newStatement(t testing.TB, pad int) *intoto.Statement {
	t.Helper()
	st, err := provenance.NewStatement([]*intoto.ResourceDescriptor{{
		Name:   "artifact.txt",
		Digest: map[string]string{"sha256": hex.EncodeToString(artifactDigest())},
	}}, provenance.PredicateSLSAProvenanceV1, map[string]any{
		"buildDefinition": map[string]any{"buildType": "https://provkit.dev/test/v1", "filler": strings.Repeat("x", pad)},
		"runDetails":      map[string]any{"builder": map[string]any{"id": "https://provkit.dev/test-builder"}},
	})
	if err != nil {
		t.Fatalf("NewStatement: %v", err)
	}
	return st
}

// keyKind is one kind of signing key under test.
type keyKind struct {
	name string
	pss  bool
	hash crypto.Hash // hash the verifier expects; 0 for pure Ed25519
	gen  func() (crypto.Signer, error)
}

func keyKinds() []keyKind {
	ec := func(c elliptic.Curve) func() (crypto.Signer, error) {
		return func() (crypto.Signer, error) { return ecdsa.GenerateKey(c, rand.Reader) }
	}
	rsaKey := func(bits int) func() (crypto.Signer, error) {
		return func() (crypto.Signer, error) { return cachedRSAKey(bits) }
	}
	return []keyKind{
		{name: "ecdsa-p256", hash: crypto.SHA256, gen: ec(elliptic.P256())},
		{name: "ecdsa-p384", hash: crypto.SHA384, gen: ec(elliptic.P384())},
		{name: "ecdsa-p521", hash: crypto.SHA512, gen: ec(elliptic.P521())},
		{name: "ed25519", gen: func() (crypto.Signer, error) { _, k, err := ed25519.GenerateKey(rand.Reader); return k, err }},
		{name: "rsa2048-pkcs1v15", hash: crypto.SHA256, gen: rsaKey(2048)},
		{name: "rsa3072-pkcs1v15", hash: crypto.SHA256, gen: rsaKey(3072)},
		{name: "rsa4096-pkcs1v15", hash: crypto.SHA256, gen: rsaKey(4096)},
		{name: "rsa2048-pss", pss: true, hash: crypto.SHA256, gen: rsaKey(2048)},
		{name: "rsa4096-pss", pss: true, hash: crypto.SHA256, gen: rsaKey(4096)},
	}
}

var (
	rsaMu   sync.Mutex
	rsaKeys = map[int]*rsa.PrivateKey{}
)

// cachedRSAKey returns one RSA key per size for the whole test binary: generating 4096-bit keys
// takes seconds.
func cachedRSAKey(bits int) (*rsa.PrivateKey, error) {
	rsaMu.Lock()
	defer rsaMu.Unlock()
	if k, ok := rsaKeys[bits]; ok {
		return k, nil
	}
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		return nil, err
	}
	rsaKeys[bits] = k
	return k, nil
}

// publicKeyVerifier loads pub as sigstore's verifier for the algorithm the signer used.
func publicKeyVerifier(t testing.TB, pub crypto.PublicKey, hash crypto.Hash, pss bool) signature.Verifier {
	t.Helper()
	var v signature.Verifier
	var err error
	if pss {
		v, err = signature.LoadRSAPSSVerifier(pub.(*rsa.PublicKey), hash, nil)
	} else {
		v, err = signature.LoadVerifier(pub, hash)
	}
	if err != nil {
		t.Fatalf("load verifier: %v", err)
	}
	return v
}

// keyTrust is trusted material holding one public key under any hint.
func keyTrust(v signature.Verifier) root.TrustedMaterial {
	return root.NewTrustedPublicKeyMaterial(func(string) (root.TimeConstrainedVerifier, error) {
		return root.NewExpiringKey(v, time.Time{}, time.Time{}), nil
	})
}

// verifyWith runs sigstore-go's verifier over b and returns its error; the policy binds the
// statement to testArtifact's digest.
func verifyWith(t testing.TB, b provenance.Bundle, trusted root.TrustedMaterial, vopts []sgverify.VerifierOption, identity sgverify.PolicyOption) error {
	t.Helper()
	var sb sgbundle.Bundle
	if err := sb.UnmarshalJSON(b.Data); err != nil {
		t.Fatalf("bundle does not parse: %v", err)
	}
	v, err := sgverify.NewVerifier(trusted, vopts...)
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	res, err := v.Verify(&sb, sgverify.NewPolicy(sgverify.WithArtifactDigest("sha256", artifactDigest()), identity))
	if err != nil {
		return err
	}
	if res.Statement == nil || res.Statement.GetPredicateType() != b.PredicateType {
		t.Fatalf("verified statement has predicate type %q, bundle says %q", res.Statement.GetPredicateType(), b.PredicateType)
	}
	return nil
}

// verifyKeyBundle checks b against pub with sigstore-go's verifier and fails the test if it
// does not verify.
func verifyKeyBundle(t testing.TB, b provenance.Bundle, pub crypto.PublicKey, hash crypto.Hash, pss bool) {
	t.Helper()
	tm := keyTrust(publicKeyVerifier(t, pub, hash, pss))
	if err := verifyWith(t, b, tm, []sgverify.VerifierOption{sgverify.WithNoObserverTimestamps()}, sgverify.WithKey()); err != nil {
		t.Fatalf("sigstore-go rejected the bundle: %v", err)
	}
}

func mustParseBundle(t testing.TB, data []byte) *sgbundle.Bundle {
	t.Helper()
	var sb sgbundle.Bundle
	if err := sb.UnmarshalJSON(data); err != nil {
		t.Fatalf("bundle does not parse: %v", err)
	}
	return &sb
}

// wantSignatureRejected checks that sigstore-go refused a bundle because its signature does not
// verify. sigstore-go reports this with an anonymous error ("failed to verify signature: ...")
// rather than a sentinel, so its text is all there is to match.
func wantSignatureRejected(t testing.TB, err error) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), "failed to verify signature") {
		t.Fatalf("got %v, want a signature verification failure", err)
	}
}

func sha256Sum(data []byte) []byte {
	sum := sha256.Sum256(data)
	return sum[:]
}
