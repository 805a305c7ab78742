package main

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/digitorus/timestamp"
	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/sigstore/sigstore-go/pkg/root"
	sgsign "github.com/sigstore/sigstore-go/pkg/sign"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/provkit/provkit/internal/testenv"
	"github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/policy"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/collect"
	"github.com/provkit/provkit/sign"
	"github.com/provkit/provkit/verify"
)

// privateCA certifies any key for one fixed identity, as Fulcio does for a verified token.
type privateCA struct {
	root, intermediate *x509.Certificate
	intermediateKey    crypto.Signer
	email, issuer      string
}

var _ sgsign.CertificateProvider = (*privateCA)(nil)

// publicOnly hands ca.GenerateLeafCert the public key to certify.
type publicOnly struct{ pub crypto.PublicKey }

func (p publicOnly) Public() crypto.PublicKey { return p.pub }
func (p publicOnly) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return nil, errors.New("public key only")
}

// GetCertificate issues a short-lived code-signing certificate for the key pair.
func (c *privateCA) GetCertificate(_ context.Context, kp sgsign.Keypair, _ *sgsign.CertificateProviderOptions) ([]byte, error) {
	leaf, err := ca.GenerateLeafCert(c.email, c.issuer, time.Now().Add(-time.Minute), publicOnly{kp.GetPublicKey()}, c.intermediate, c.intermediateKey)
	if err != nil {
		return nil, err
	}
	return leaf.Raw, nil
}

// startTSA serves an RFC 3161 timestamp authority on loopback and returns its trust entry.
func startTSA(t *testing.T) (string, root.TimestampingAuthority) {
	t.Helper()
	rootCert, rootKey, err := ca.GenerateRootCa()
	require.NoError(t, err)
	inter, interKey, err := ca.GenerateTSAIntermediate(rootCert, rootKey)
	require.NoError(t, err)
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	leaf, err := ca.GenerateTSALeafCert(time.Now().Add(-time.Minute), leafKey, inter, interKey)
	require.NoError(t, err)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<16))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		req, err := timestamp.ParseRequest(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		ts := timestamp.Timestamp{HashAlgorithm: req.HashAlgorithm, HashedMessage: req.HashedMessage, Nonce: req.Nonce,
			Time: time.Now(), Policy: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 2}, AddTSACertificate: req.Certificates}
		resp, err := ts.CreateResponseWithOpts(leaf, leafKey, crypto.SHA256)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/timestamp-reply")
		_, _ = w.Write(resp)
	}))
	t.Cleanup(srv.Close)
	url := srv.URL + "/api/v1/timestamp"
	return url, &root.SigstoreTimestampingAuthority{Root: rootCert, Intermediates: []*x509.Certificate{inter}, Leaf: leaf, URI: url}
}

// TestVerifyCertificateIdentity verifies a certificate-signed, timestamped attestation against a
// trusted_root.json of a private Sigstore (CA and timestamp authority, no transparency log).
func TestVerifyCertificateIdentity(t *testing.T) {
	ctx := context.Background()
	host := testenv.OlaregServer(t)
	dir := t.TempDir()
	env := map[string]string{"HOME": dir}

	rootCert, rootKey, err := ca.GenerateRootCa()
	require.NoError(t, err)
	inter, interKey, err := ca.GenerateFulcioIntermediate(rootCert, rootKey)
	require.NoError(t, err)
	authority := &privateCA{root: rootCert, intermediate: inter, intermediateKey: interKey,
		email: "release@example.com", issuer: "https://issuer.example"}
	tsaURL, tsa := startTSA(t)
	tr, err := root.NewTrustedRoot(root.TrustedRootMediaType01,
		[]root.CertificateAuthority{&root.FulcioCertificateAuthority{Root: rootCert, Intermediates: []*x509.Certificate{inter}, URI: "https://ca.example"}},
		nil, []root.TimestampingAuthority{tsa}, nil)
	require.NoError(t, err)
	trJSON, err := tr.MarshalJSON()
	require.NoError(t, err)
	trPath := filepath.Join(dir, "trusted_root.json")
	require.NoError(t, os.WriteFile(trPath, trJSON, 0o644))

	image := pushImage(t, host, "keyless/app", "v1", "keyless\n")
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	signer, err := sign.NewKeySigner(key, sign.WithCertificateProvider(authority), sign.WithTimestampAuthority(tsaURL))
	require.NoError(t, err)
	subject, err := provenance.SubjectFromDescriptor(host+"/keyless/app", image)
	require.NoError(t, err)
	build := &provenance.Build{BuildType: collect.BuildTypeV1, BuilderID: "https://ci.example/builder",
		ExternalParameters: map[string]any{"source": "git+https://git.example/app@refs/heads/main"}}
	st, err := build.Statement([]*intoto.ResourceDescriptor{subject})
	require.NoError(t, err)
	b, err := signer.Sign(ctx, st)
	require.NoError(t, err)
	s, err := oras.NewRemote(host+"/keyless/app", oras.WithPlainHTTPUnsafe())
	require.NoError(t, err)
	_, err = s.Attach(ctx, image, b)
	require.NoError(t, err)

	ref := host + "/keyless/app:v1"
	keyless := func(identity ...string) []string {
		return append(append([]string{"verify", "--trusted-root", trPath, "--plain-http", "--output", "json"}, identity...), ref)
	}
	decode := func(r result) verifyOutput {
		t.Helper()
		var out verifyOutput
		require.NoError(t, json.Unmarshal([]byte(r.stdout), &out), r.stdout)
		require.Len(t, out.Attestations, 1)
		return out
	}

	t.Run("Exact", func(t *testing.T) {
		out := decode(mustRun(t, 0, env, keyless("--insecure-ignore-tlog", "--certificate-identity", "release@example.com",
			"--certificate-oidc-issuer", "https://issuer.example")...))
		a := out.Attestations[0]
		require.True(t, a.Verified, a.Error)
		require.NotNil(t, a.Signer.Certificate)
		assert.Equal(t, "release@example.com", a.Signer.Certificate.SubjectAlternativeName)
		assert.Equal(t, policy.VerdictAllow, out.Verdict)
	})
	t.Run("Regexp", func(t *testing.T) {
		mustRun(t, 0, env, keyless("--insecure-ignore-tlog", "--certificate-identity-regexp", `^release@example\.com$`,
			"--certificate-oidc-issuer-regexp", `^https://issuer\.`)...)
	})
	t.Run("OtherIdentity", func(t *testing.T) {
		out := decode(mustRun(t, 1, env, keyless("--insecure-ignore-tlog", "--certificate-identity", "mallory@example.com",
			"--certificate-oidc-issuer", "https://issuer.example")...))
		assert.Equal(t, verify.CheckIdentity, out.Attestations[0].Check)
	})
	t.Run("TimestampEnoughWhenTrustHasNoLog", func(t *testing.T) {
		// The trusted root has a timestamp authority and no log: its timestamp dates the
		// signature, and no log entry can be asked for.
		out := decode(mustRun(t, 0, env, keyless("--certificate-identity", "release@example.com",
			"--certificate-oidc-issuer", "https://issuer.example")...))
		assert.True(t, out.Attestations[0].Verified, out.Attestations[0].Error)
	})
	t.Run("LogRequiredWhenTrustHasOne", func(t *testing.T) {
		logKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		der, err := x509.MarshalPKIXPublicKey(logKey.Public())
		require.NoError(t, err)
		id := sha256.Sum256(der)
		withLog, err := root.NewTrustedRoot(root.TrustedRootMediaType01,
			[]root.CertificateAuthority{&root.FulcioCertificateAuthority{Root: rootCert, Intermediates: []*x509.Certificate{inter}, URI: "https://ca.example"}},
			nil, []root.TimestampingAuthority{tsa}, map[string]*root.TransparencyLog{hex.EncodeToString(id[:]): {
				BaseURL: "https://rekor.example", ID: id[:], HashFunc: crypto.SHA256, PublicKey: logKey.Public(),
				SignatureHashFunc: crypto.SHA256, ValidityPeriodStart: time.Now().Add(-time.Hour)}})
		require.NoError(t, err)
		data, err := withLog.MarshalJSON()
		require.NoError(t, err)
		path := filepath.Join(dir, "with-log.json")
		require.NoError(t, os.WriteFile(path, data, 0o644))
		out := decode(mustRun(t, 1, env, "verify", "--trusted-root", path, "--plain-http", "--output", "json",
			"--certificate-identity", "release@example.com", "--certificate-oidc-issuer", "https://issuer.example", ref))
		assert.Equal(t, verify.CheckTransparencyLog, out.Attestations[0].Check)
	})
	t.Run("KeyInsteadOfCertificate", func(t *testing.T) {
		mustRun(t, 0, env, "key", "generate", "--out", filepath.Join(dir, "k"))
		out := decode(mustRun(t, 1, env, "verify", "--key", filepath.Join(dir, "k.pub"), "--insecure-ignore-tlog", "--plain-http", "--output", "json", ref))
		assert.False(t, out.Attestations[0].Verified)
	})
}
