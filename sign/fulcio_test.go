package sign_test

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/provkit/provkit/internal/testenv"
	"github.com/provkit/provkit/sign"
	"github.com/sigstore/sigstore-go/pkg/root"
	sgverify "github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
)

// envFulcio names the absolute path of a fulcio binary (github.com/sigstore/fulcio v1.8.8).
// internal/testenv has no getter of its own for it; its generic Lookup skips when unset.
const envFulcio = "PROVKIT_TEST_FULCIO"

// startFulcio runs the real Fulcio server on loopback with its ephemeral CA, trusting the
// given OIDC issuer for email identities and with no CT log, and returns its URL and its CA as
// trusted material.
func startFulcio(t *testing.T, issuerURL string) (string, root.CertificateAuthority) {
	t.Helper()
	bin := testenv.Lookup(t, envFulcio)
	dir := t.TempDir()
	config, err := json.Marshal(map[string]any{"OIDCIssuers": map[string]any{
		issuerURL: map[string]any{"IssuerURL": issuerURL, "ClientID": "sigstore", "Type": "email"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	configPath := filepath.Join(dir, "config.yaml") // JSON is YAML
	if err := os.WriteFile(configPath, config, 0o600); err != nil {
		t.Fatal(err)
	}
	socket := make([]byte, 8)
	if _, err := rand.Read(socket); err != nil {
		t.Fatal(err)
	}
	port := testenv.FreePort(t)
	cmd := exec.Command(bin, "serve", "--ca", "ephemeralca", "--ct-log-url", "", "--config-path", configPath,
		"--host", "127.0.0.1", "--port", port, "--grpc-host", "127.0.0.1", "--grpc-port", testenv.FreePort(t),
		"--metrics-port", testenv.FreePort(t), "--legacy-unix-domain-socket", "@provkit-fulcio-"+hex.EncodeToString(socket))
	url := "http://127.0.0.1:" + port
	body := testenv.StartServer(t, "fulcio", cmd, url+"/api/v2/trustBundle")
	return url, fulcioAuthority(t, body, url)
}

// fulcioAuthority reads Fulcio's /api/v2/trustBundle answer.
func fulcioAuthority(t *testing.T, body []byte, url string) root.CertificateAuthority {
	t.Helper()
	var tb struct {
		Chains []struct {
			Certificates []string `json:"certificates"`
		} `json:"chains"`
	}
	if err := json.Unmarshal(body, &tb); err != nil || len(tb.Chains) == 0 {
		t.Fatalf("fulcio trust bundle %s: %v", body, err)
	}
	var chain []*x509.Certificate
	for _, p := range tb.Chains[0].Certificates {
		certs, err := cryptoutils.UnmarshalCertificatesFromPEM([]byte(p))
		if err != nil {
			t.Fatal(err)
		}
		chain = append(chain, certs...)
	}
	if len(chain) == 0 {
		t.Fatal("fulcio trust bundle has no certificates")
	}
	return &root.FulcioCertificateAuthority{
		Root:          chain[len(chain)-1],
		Intermediates: chain[:len(chain)-1],
		URI:           url,
	}
}

// TestRealFulcio has the real Fulcio server certify ephemeral keys for tokens from the test's
// OIDC issuer, through sigstore-go's Fulcio client, with timestamps from the in-process TSA,
// and sigstore-go verify the bundles against Fulcio's CA and the expected identity. It skips
// unless PROVKIT_TEST_FULCIO names a fulcio binary.
func TestRealFulcio(t *testing.T) {
	issuer := newOIDCIssuer(t)
	fulcioURL, fca := startFulcio(t, issuer.URL)
	tsa := newLocalTSA(t)
	tr := trustedRoot(t, []root.CertificateAuthority{fca}, []root.TimestampingAuthority{tsa.authority()})
	tokens := sign.TokenFunc(func(context.Context) (string, error) { return issuer.token(t, testEmail, 5*time.Minute), nil })
	s, err := sign.NewKeylessSigner(tokens, sign.WithSigningConfig(signingConfig(t, fulcioURL, tsa.URL)), sign.WithVerification(tr))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		b, err := s.Sign(context.Background(), newStatement(t, i))
		if err != nil {
			t.Fatalf("Sign: %v", err)
		}
		if err := verifyWith(t, b, tr, []sgverify.VerifierOption{sgverify.WithSignedTimestamps(1)}, identityPolicy(t, issuer.URL, testEmail)); err != nil {
			t.Fatalf("sigstore-go rejected the bundle: %v", err)
		}
	}
}
