package sign_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/provkit/provkit/internal/testenv"
	"github.com/provkit/provkit/sign"
	"github.com/sigstore/rekor-tiles/v2/pkg/note"
	"github.com/sigstore/sigstore-go/pkg/root"
	sgverify "github.com/sigstore/sigstore-go/pkg/verify"
)

// envRekor names the absolute path of a Rekor v2 server binary with POSIX storage
// (github.com/sigstore/rekor-tiles/v2/cmd/rekor-server/posix, v2.3.0). internal/testenv has no
// getter of its own for it; its generic Lookup skips when unset.
const envRekor = "PROVKIT_TEST_REKOR_V2"

// rekorOrigin is the checkpoint origin the test log signs under.
const rekorOrigin = "rekor.provkit.test"

// startRekorV2 runs the real Rekor v2 server on loopback over a temporary POSIX tile store and
// returns its URL and its trust-root entry.
func startRekorV2(t *testing.T) (string, *root.TransparencyLog) {
	t.Helper()
	bin := testenv.Lookup(t, envRekor)
	dir := t.TempDir()
	logKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(logKey)
	if err != nil {
		t.Fatal(err)
	}
	keyPath := filepath.Join(dir, "log.pem")
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	storage := filepath.Join(dir, "tiles")
	if err := os.Mkdir(storage, 0o700); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	cmd := exec.Command(bin, "serve", "--hostname", rekorOrigin, "--storage-dir", storage, "--signer-filepath", keyPath,
		"--http-address", "127.0.0.1", "--http-port", port, "--grpc-address", "127.0.0.1", "--grpc-port", freePort(t),
		"--http-metrics-port", freePort(t), "--batch-max-age", "50ms", "--checkpoint-interval", "200ms")
	url := "http://127.0.0.1:" + port
	testenv.StartServer(t, "rekor", cmd, url+"/healthz")
	_, logID, err := note.KeyHash(rekorOrigin, logKey.Public())
	if err != nil {
		t.Fatal(err)
	}
	return url, &root.TransparencyLog{
		BaseURL:             "https://" + rekorOrigin,
		ID:                  logID,
		ValidityPeriodStart: time.Now().Add(-time.Hour),
		HashFunc:            crypto.SHA256,
		PublicKey:           logKey.Public(),
		SignatureHashFunc:   crypto.SHA256,
	}
}

// TestRealRekorV2 logs keyless bundles (local CA, in-process TSA) in the real Rekor v2 server
// and has sigstore-go verify the entries' inclusion proofs and signed checkpoints. It skips
// unless PROVKIT_TEST_REKOR_V2 names a rekor-server binary.
func TestRealRekorV2(t *testing.T) {
	rekorURL, tlog := startRekorV2(t)
	issuer := newOIDCIssuer(t)
	lca := newLocalCA(t, issuer)
	tsa := newLocalTSA(t)
	tr, err := root.NewTrustedRoot(root.TrustedRootMediaType01, []root.CertificateAuthority{lca.authority()}, nil,
		[]root.TimestampingAuthority{tsa.authority()}, map[string]*root.TransparencyLog{hex.EncodeToString(tlog.ID): tlog})
	if err != nil {
		t.Fatal(err)
	}
	s, err := sign.NewKeylessSigner(sign.StaticToken(issuer.token(t, testEmail, 5*time.Minute)),
		sign.WithCertificateProvider(lca), sign.WithTimestampAuthority(tsa.URL),
		sign.WithTransparencyLog(rekorURL, 2), sign.WithVerification(tr), sign.WithTimeout(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for i := range 2 {
		b, err := s.Sign(ctx, newStatement(t, i))
		if err != nil {
			t.Fatalf("Sign: %v", err)
		}
		entries := mustParseBundle(t, b.Data).GetVerificationMaterial().GetTlogEntries()
		if len(entries) != 1 || entries[0].GetInclusionProof() == nil {
			t.Fatalf("bundle has %d log entries, want 1 with an inclusion proof", len(entries))
		}
		if err := verifyWith(t, b, tr, []sgverify.VerifierOption{sgverify.WithSignedTimestamps(1), sgverify.WithTransparencyLog(1)},
			identityPolicy(t, issuer.URL, testEmail)); err != nil {
			t.Fatalf("sigstore-go rejected the bundle: %v", err)
		}
	}
}

// TestRealRekorV2KeySigner logs a key-signed bundle (no certificate, no timestamp) in the real
// Rekor v2 server.
func TestRealRekorV2KeySigner(t *testing.T) {
	rekorURL, tlog := startRekorV2(t)
	key, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := sign.NewKeySigner(key, sign.WithTransparencyLog(rekorURL, 2))
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Sign(context.Background(), newStatement(t, 0))
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	tm := &keyAndLog{TrustedMaterial: keyTrust(publicKeyVerifier(t, key.Public(), crypto.SHA384, false)),
		logs: map[string]*root.TransparencyLog{hex.EncodeToString(tlog.ID): tlog}}
	if err := verifyWith(t, b, tm, []sgverify.VerifierOption{sgverify.WithTransparencyLog(1), sgverify.WithNoObserverTimestamps()}, sgverify.WithKey()); err != nil {
		t.Fatalf("sigstore-go rejected the bundle: %v", err)
	}
}

// keyAndLog is trusted material holding a public key and transparency logs.
type keyAndLog struct {
	root.TrustedMaterial
	logs map[string]*root.TransparencyLog
}

func (k *keyAndLog) RekorLogs() map[string]*root.TransparencyLog { return k.logs }
