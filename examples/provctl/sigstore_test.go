package main

// A local Sigstore for provctl's tests: the real timestamp-server (PROVKIT_TEST_TSA_URL, from
// internal/tools/services.sh), the real Fulcio server with its ephemeral CA (PROVKIT_TEST_FULCIO)
// and Rekor v2 server (PROVKIT_TEST_REKOR_V2), both started here per test, an OIDC issuer over
// httptest whose tokens Fulcio accepts, and a TUF repository over httptest serving a
// trusted_root.json of these services. Each test skips when its programs are not configured.

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/stretchr/testify/require"
	"github.com/theupdateframework/go-tuf/v2/metadata"

	"github.com/provkit/provkit/internal/testenv"
)

// realTSA returns the real timestamp-server's endpoint, its trust entry, and a file holding its
// PEM certificate chain as --timestamp-certificate-chain reads it.
func realTSA(t *testing.T) (string, root.TimestampingAuthority, string) {
	t.Helper()
	url, tsa, chainPEM := testenv.TSA(t)
	path := filepath.Join(t.TempDir(), "tsa-chain.pem")
	require.NoError(t, os.WriteFile(path, chainPEM, 0o644))
	return url, tsa, path
}

// oidcIssuer is an OpenID Connect issuer serving discovery and JWKS, signing tokens with ES256.
type oidcIssuer struct {
	URL    string
	signer jose.Signer
}

func newOIDCIssuer(t *testing.T) *oidcIssuer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "test-key"))
	require.NoError(t, err)
	iss := &oidcIssuer{signer: signer}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer": iss.URL, "jwks_uri": iss.URL + "/jwks", "id_token_signing_alg_values_supported": []string{"ES256"},
			"response_types_supported": []string{"id_token"}, "subject_types_supported": []string{"public"},
		})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "test-key", Algorithm: "ES256", Use: "sig"}}})
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	iss.URL = "http://" + l.Addr().String()
	return iss
}

// token returns an ID token for email with audience sigstore, valid for ttl.
func (i *oidcIssuer) token(t *testing.T, email string, ttl time.Duration) string {
	t.Helper()
	now := time.Now()
	raw, err := jwt.Signed(i.signer).Claims(map[string]any{
		"iss": i.URL, "sub": "subject-" + email, "aud": "sigstore", "iat": now.Unix(),
		"nbf": now.Add(-time.Minute).Unix(), "exp": now.Add(ttl).Unix(), "email": email, "email_verified": true,
	}).Serialize()
	require.NoError(t, err)
	return raw
}

// startFulcio runs the real Fulcio server with its ephemeral CA, trusting issuerURL for email
// identities and with no CT log, and returns its URL and its CA.
func startFulcio(t *testing.T, issuerURL string) (string, root.CertificateAuthority) {
	t.Helper()
	bin := testenv.Lookup(t, "PROVKIT_TEST_FULCIO")
	dir := t.TempDir()
	config, err := json.Marshal(map[string]any{"OIDCIssuers": map[string]any{
		issuerURL: map[string]any{"IssuerURL": issuerURL, "ClientID": "sigstore", "Type": "email"},
	}})
	require.NoError(t, err)
	configPath := filepath.Join(dir, "config.yaml") // JSON is YAML
	require.NoError(t, os.WriteFile(configPath, config, 0o600))
	socket := make([]byte, 8)
	_, err = rand.Read(socket)
	require.NoError(t, err)
	port := testenv.FreePort(t)
	cmd := exec.Command(bin, "serve", "--ca", "ephemeralca", "--ct-log-url", "", "--config-path", configPath,
		"--host", "127.0.0.1", "--port", port, "--grpc-host", "127.0.0.1", "--grpc-port", testenv.FreePort(t),
		"--metrics-port", testenv.FreePort(t), "--legacy-unix-domain-socket", "@provctl-fulcio-"+hex.EncodeToString(socket))
	url := "http://127.0.0.1:" + port
	body := testenv.StartServer(t, "fulcio", cmd, url+"/api/v2/trustBundle")
	var tb struct {
		Chains []struct {
			Certificates []string `json:"certificates"`
		} `json:"chains"`
	}
	require.NoError(t, json.Unmarshal(body, &tb))
	require.NotEmpty(t, tb.Chains)
	var chain []*x509.Certificate
	for _, p := range tb.Chains[0].Certificates {
		certs, err := cryptoutils.UnmarshalCertificatesFromPEM([]byte(p))
		require.NoError(t, err)
		chain = append(chain, certs...)
	}
	require.NotEmpty(t, chain)
	return url, &root.FulcioCertificateAuthority{Root: chain[len(chain)-1], Intermediates: chain[:len(chain)-1], URI: url}
}

// rekorOrigin is the checkpoint origin the test log signs under.
const rekorOrigin = "rekor.provctl.test"

// startRekorV2 runs the real Rekor v2 server over a temporary POSIX tile store and returns its
// URL and its trust-root entry.
func startRekorV2(t *testing.T) (string, *root.TransparencyLog) {
	r := testenv.StartRekorV2(t, rekorOrigin)
	return r.URL, r.Log
}

// writeTrustedRoot writes a trusted_root.json of the given services and returns its path and bytes.
func writeTrustedRoot(t *testing.T, cas []root.CertificateAuthority, tsas []root.TimestampingAuthority, logs ...*root.TransparencyLog) (string, []byte) {
	t.Helper()
	tlogs := map[string]*root.TransparencyLog{}
	for _, l := range logs {
		tlogs[hex.EncodeToString(l.ID)] = l
	}
	tr, err := root.NewTrustedRoot(root.TrustedRootMediaType01, cas, nil, tsas, tlogs)
	require.NoError(t, err)
	data, err := tr.MarshalJSON()
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "trusted_root.json")
	require.NoError(t, os.WriteFile(path, data, 0o644))
	return path, data
}

// tufRepository writes a one-key TUF repository serving target "trusted_root.json" into dir,
// with consistent snapshots as Sigstore's, built with go-tuf's metadata API, and returns the
// initial root.json.
func tufRepository(t *testing.T, dir string, target []byte) []byte {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	signer, err := signature.LoadSigner(priv, crypto.Hash(0))
	require.NoError(t, err)
	key, err := metadata.KeyFromPublicKey(priv.Public())
	require.NoError(t, err)
	expires := time.Now().Add(24 * time.Hour)
	rt := metadata.Root(expires)
	for _, role := range []string{metadata.ROOT, metadata.TARGETS, metadata.SNAPSHOT, metadata.TIMESTAMP} {
		require.NoError(t, rt.Signed.AddKey(key, role))
	}
	tg := metadata.Targets(expires)
	tf, err := metadata.TargetFile().FromBytes("trusted_root.json", target, "sha256")
	require.NoError(t, err)
	tg.Signed.Targets["trusted_root.json"] = tf
	sn := metadata.Snapshot(expires)
	ts := metadata.Timestamp(expires)
	_, err = tg.Sign(signer)
	require.NoError(t, err)
	_, err = sn.Sign(signer)
	require.NoError(t, err)
	_, err = ts.Sign(signer)
	require.NoError(t, err)
	_, err = rt.Sign(signer)
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "targets"), 0o755))
	require.NoError(t, rt.ToFile(filepath.Join(dir, "1.root.json"), true))
	require.NoError(t, tg.ToFile(filepath.Join(dir, "1.targets.json"), true))
	require.NoError(t, sn.ToFile(filepath.Join(dir, "1.snapshot.json"), true))
	require.NoError(t, ts.ToFile(filepath.Join(dir, "timestamp.json"), true))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "targets", hex.EncodeToString(tf.Hashes["sha256"])+".trusted_root.json"), target, 0o644))
	data, err := os.ReadFile(filepath.Join(dir, "1.root.json"))
	require.NoError(t, err)
	return data
}
