package sign_test

import (
	"context"
	"crypto"
	"crypto/x509"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/provkit/provkit/internal/testenv"
	"github.com/provkit/provkit/sign"
	"github.com/sigstore/sigstore-go/pkg/root"
	sgverify "github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
)

// realTSA returns the timestamp endpoint of the sigstore timestamp-server that `make test`
// runs on loopback (memory signer), and its certificate chain as trusted material. It skips
// when the server is not running.
func realTSA(t *testing.T) (string, root.TimestampingAuthority) {
	t.Helper()
	url := testenv.TSAURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/certchain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("timestamp-server certchain: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("timestamp-server certchain: status %d", resp.StatusCode)
	}
	pemChain, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		t.Fatalf("timestamp-server certchain: %v", err)
	}
	chain, err := cryptoutils.UnmarshalCertificatesFromPEM(pemChain)
	if err != nil || len(chain) < 2 {
		t.Fatalf("timestamp-server certchain: %d certificates, %v", len(chain), err)
	}
	return url, &root.SigstoreTimestampingAuthority{
		Leaf:          chain[0],
		Intermediates: append([]*x509.Certificate(nil), chain[1:len(chain)-1]...),
		Root:          chain[len(chain)-1],
		URI:           url,
	}
}

// TestRealTimestampServer gets RFC 3161 timestamps from the real sigstore timestamp-server for
// a key-signed and a keyless bundle, and has sigstore-go verify them against its chain.
func TestRealTimestampServer(t *testing.T) {
	url, tsa := realTSA(t)
	t.Run("key", func(t *testing.T) {
		key, err := cachedRSAKey(3072)
		if err != nil {
			t.Fatal(err)
		}
		s, err := sign.NewKeySigner(key, sign.WithTimestampAuthority(url), sign.WithRSAPSS())
		if err != nil {
			t.Fatal(err)
		}
		b, err := s.Sign(context.Background(), newStatement(t, 100))
		if err != nil {
			t.Fatalf("Sign: %v", err)
		}
		tm := &keyAndTSA{TrustedMaterial: keyTrust(publicKeyVerifier(t, key.Public(), crypto.SHA256, true)), tsa: tsa}
		if err := verifyWith(t, b, tm, []sgverify.VerifierOption{sgverify.WithSignedTimestamps(1)}, sgverify.WithKey()); err != nil {
			t.Fatalf("sigstore-go rejected the bundle: %v", err)
		}
	})
	t.Run("keyless", func(t *testing.T) {
		issuer := newOIDCIssuer(t)
		lca := newLocalCA(t, issuer)
		tr := trustedRoot(t, []root.CertificateAuthority{lca.authority()}, []root.TimestampingAuthority{tsa})
		s, err := sign.NewKeylessSigner(sign.StaticToken(issuer.token(t, testEmail, time.Minute)),
			sign.WithCertificateProvider(lca), sign.WithTimestampAuthority(url), sign.WithVerification(tr))
		if err != nil {
			t.Fatal(err)
		}
		b, err := s.Sign(context.Background(), newStatement(t, 100))
		if err != nil {
			t.Fatalf("Sign: %v", err)
		}
		if err := verifyWith(t, b, tr, []sgverify.VerifierOption{sgverify.WithSignedTimestamps(1)}, identityPolicy(t, issuer.URL, testEmail)); err != nil {
			t.Fatalf("sigstore-go rejected the bundle: %v", err)
		}
	})
}
