package sign_test

import (
	"bytes"
	"context"
	"crypto"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/provkit/provkit/internal/testenv"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/sign"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	sgverify "github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
)

// cosignFixturePassword is the password of testdata/cosign.key, which `cosign generate-key-pair`
// (cosign v3.1.3) wrote.
const cosignFixturePassword = "provkit-test"

func loadPublicKey(t *testing.T, path string) crypto.PublicKey {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := cryptoutils.UnmarshalPEMToPublicKey(data)
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

// signAndVerify signs a statement with key and has sigstore-go verify it against pub.
func signAndVerify(t *testing.T, key crypto.Signer, pub crypto.PublicKey) provenance.Bundle {
	t.Helper()
	s, err := sign.NewKeySigner(key)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Sign(context.Background(), newStatement(t, 0))
	if err != nil {
		t.Fatal(err)
	}
	verifyKeyBundle(t, b, pub, crypto.SHA256, false)
	return b
}

// TestCosignKeyFixture loads the encrypted key cosign wrote into testdata and signs with it.
func TestCosignKeyFixture(t *testing.T) {
	key, err := sign.LoadPrivateKey(filepath.Join("testdata", "cosign.key"), []byte(cosignFixturePassword))
	if err != nil {
		t.Fatalf("LoadPrivateKey: %v", err)
	}
	pub := loadPublicKey(t, filepath.Join("testdata", "cosign.pub"))
	signAndVerify(t, key, pub)
	if _, err := sign.LoadPrivateKey(filepath.Join("testdata", "cosign.key"), []byte("wrong")); !errors.Is(err, sign.ErrWrongPassword) {
		t.Fatalf("wrong password: got %v", err)
	}
}

// cosignCmd runs the cosign binary in dir with COSIGN_PASSWORD set and returns its stdout.
func cosignCmd(t *testing.T, cosign, dir, password string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(cosign, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "COSIGN_PASSWORD="+password, "COSIGN_YES=true", "HOME="+dir, "TUF_ROOT="+filepath.Join(dir, "tuf"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("cosign %v: %v\n%s", args, err, stderr.String())
	}
	return stdout.Bytes()
}

// TestCosignInterop checks key files both ways with the real cosign binary: a key pair from
// `cosign generate-key-pair` loads and signs here, and key pairs made by GenerateKeyPair load
// in cosign, which signs a blob with them offline into a bundle that sigstore-go verifies with
// our public key.
func TestCosignInterop(t *testing.T) {
	cosign := testenv.Cosign(t)
	t.Run("cosign key signs here", func(t *testing.T) {
		dir := t.TempDir()
		cosignCmd(t, cosign, dir, "pw", "generate-key-pair", "--output-key-prefix", "k")
		key, err := sign.LoadPrivateKey(filepath.Join(dir, "k.key"), []byte("pw"))
		if err != nil {
			t.Fatalf("LoadPrivateKey: %v", err)
		}
		signAndVerify(t, key, loadPublicKey(t, filepath.Join(dir, "k.pub")))
	})
	t.Run("cosign verifies our bundle", func(t *testing.T) {
		dir := t.TempDir()
		kp, err := sign.GenerateKeyPair(protocommon.PublicKeyDetails_PKIX_ECDSA_P256_SHA_256, nil)
		if err != nil {
			t.Fatal(err)
		}
		b := signAndVerify(t, kp.Signer, kp.Signer.Public())
		for name, data := range map[string][]byte{"k.pub": kp.PublicPEM, "b.sigstore.json": b.Data, "blob.txt": testArtifact} {
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		cosignCmd(t, cosign, dir, "", "verify-blob-attestation", "--bundle", "b.sigstore.json", "--key", "k.pub",
			"--insecure-ignore-tlog=true", "--type", provenance.PredicateSLSAProvenanceV1, "blob.txt")
		// The same bundle does not vouch for another blob.
		if err := os.WriteFile(filepath.Join(dir, "other.txt"), []byte("other"), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(cosign, "verify-blob-attestation", "--bundle", "b.sigstore.json", "--key", "k.pub",
			"--insecure-ignore-tlog=true", "--type", provenance.PredicateSLSAProvenanceV1, "other.txt")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "HOME="+dir)
		var exitErr *exec.ExitError
		if out, err := cmd.CombinedOutput(); !errors.As(err, &exitErr) {
			t.Fatalf("cosign accepted the bundle for another blob: %v\n%s", err, out)
		}
	})
	for _, tt := range []struct {
		name string
		alg  protocommon.PublicKeyDetails
	}{
		{name: "ecdsa-p256", alg: protocommon.PublicKeyDetails_PKIX_ECDSA_P256_SHA_256},
		{name: "ecdsa-p384", alg: protocommon.PublicKeyDetails_PKIX_ECDSA_P384_SHA_384},
	} {
		t.Run("our "+tt.name+" key in cosign", func(t *testing.T) {
			dir := t.TempDir()
			kp, err := sign.GenerateKeyPair(tt.alg, []byte("pw"))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "ours.key"), kp.PrivatePEM, 0o600); err != nil {
				t.Fatal(err)
			}
			got := cosignCmd(t, cosign, dir, "pw", "public-key", "--key", "ours.key")
			if !bytes.Equal(bytes.TrimSpace(got), bytes.TrimSpace(kp.PublicPEM)) {
				t.Fatalf("cosign derived public key\n%s\nwant\n%s", got, kp.PublicPEM)
			}
			if err := os.WriteFile(filepath.Join(dir, "blob.txt"), testArtifact, 0o600); err != nil {
				t.Fatal(err)
			}
			cosignCmd(t, cosign, dir, "", "signing-config", "create", "--out", "sc.json")
			cosignCmd(t, cosign, dir, "pw", "sign-blob", "--key", "ours.key", "--signing-config", "sc.json",
				"--bundle", "blob.sigstore.json", "-y", "blob.txt")
			data, err := os.ReadFile(filepath.Join(dir, "blob.sigstore.json"))
			if err != nil {
				t.Fatal(err)
			}
			sb := mustParseBundle(t, data)
			hash := crypto.SHA256
			if tt.alg == protocommon.PublicKeyDetails_PKIX_ECDSA_P384_SHA_384 {
				hash = crypto.SHA384
			}
			v, err := sgverify.NewVerifier(keyTrust(publicKeyVerifier(t, kp.Signer.Public(), hash, false)), sgverify.WithNoObserverTimestamps())
			if err != nil {
				t.Fatal(err)
			}
			if _, err := v.Verify(sb, sgverify.NewPolicy(sgverify.WithArtifact(bytes.NewReader(testArtifact)), sgverify.WithKey())); err != nil {
				t.Fatalf("cosign's signature with our key does not verify: %v", err)
			}
		})
	}
}
