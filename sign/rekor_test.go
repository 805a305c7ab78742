package sign_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	"github.com/provkit/provkit/internal/testenv"
	"github.com/provkit/provkit/sign"
	"github.com/sigstore/sigstore-go/pkg/root"
	sgverify "github.com/sigstore/sigstore-go/pkg/verify"
)

// rekorOrigin is the checkpoint origin the test log signs under.
const rekorOrigin = "rekor.provkit.test"

// startRekorV2 runs the real Rekor v2 server on loopback over a temporary POSIX tile store and
// returns its URL and its trust-root entry.
func startRekorV2(t *testing.T) (string, *root.TransparencyLog) {
	r := testenv.StartRekorV2(t, rekorOrigin)
	return r.URL, r.Log
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

// TestRealRekorV2ConcurrentSign signs from several goroutines through one signer that logs in
// the real Rekor v2 server, as the audit log's workers do; run with -race, it catches any
// unsynchronised state in the log client.
func TestRealRekorV2ConcurrentSign(t *testing.T) {
	rekorURL, _ := startRekorV2(t)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := sign.NewKeySigner(key, sign.WithTransparencyLog(rekorURL, 2))
	if err != nil {
		t.Fatal(err)
	}
	const n = 4
	errs := make(chan error, n)
	for i := range n {
		go func() {
			b, err := s.Sign(context.Background(), newStatement(t, i))
			if err == nil && len(mustParseBundle(t, b.Data).GetVerificationMaterial().GetTlogEntries()) != 1 {
				err = fmt.Errorf("bundle %d has no log entry", i)
			}
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
