package main

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/provkit/provkit/internal/testenv"
	"github.com/provkit/provkit/policy"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/sign"
	"github.com/provkit/provkit/verify"
)

// writePredicate writes a SLSA provenance v1 predicate file and returns its path.
func writePredicate(t *testing.T, dir string) string {
	t.Helper()
	pred := filepath.Join(dir, "pred.json")
	require.NoError(t, os.WriteFile(pred, []byte(`{"buildDefinition":{"buildType":"https://ci.example/build/v1","externalParameters":{"x":"1"}},"runDetails":{"builder":{"id":"https://ci.example/builder"}}}`), 0o600))
	return pred
}

// fingerprint returns the key id provctl gives the public key in a .pub file.
func fingerprint(t *testing.T, pub string) string {
	t.Helper()
	keys, err := loadTrustedKeys([]string{pub}, nil)
	require.NoError(t, err)
	require.Len(t, keys, 1)
	return keys[0].ID
}

// TestSeveralTrustedKeys trusts two keys, by repeating --key and by one file holding both: an
// attestation signed by either verifies, naming its key; one signed by a third key does not.
func TestSeveralTrustedKeys(t *testing.T) {
	host := testenv.OlaregServer(t)
	dir := t.TempDir()
	env := map[string]string{"PROVKIT_PASSWORD": "", "HOME": dir}
	pred := writePredicate(t, dir)
	for _, k := range []string{"a", "b", "c"} {
		mustRun(t, 0, env, "key", "generate", "--out", filepath.Join(dir, k))
		pushImage(t, host, "keys/"+k, "v1", k+"\n")
		mustRun(t, 0, env, "attest", "--key", filepath.Join(dir, k+".key"), "--predicate", pred, "--type", "slsaprovenance1", "--plain-http", host+"/keys/"+k+":v1")
	}
	pubA, pubB := filepath.Join(dir, "a.pub"), filepath.Join(dir, "b.pub")
	both := filepath.Join(dir, "both.pem")
	a, err := os.ReadFile(pubA)
	require.NoError(t, err)
	b, err := os.ReadFile(pubB)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(both, append(append(a, '\n'), b...), 0o644))

	for name, keyFlags := range map[string][]string{
		"repeated": {"--key", pubA, "--key", pubB},
		"one file": {"--key", both},
		"overlap":  {"--key", both, "--key", pubA},
	} {
		t.Run(name, func(t *testing.T) {
			for k, pub := range map[string]string{"a": pubA, "b": pubB} {
				out := verifyJSON(t, 0, env, append(keyFlags, "--insecure-ignore-tlog", "--plain-http", host+"/keys/"+k+":v1")...)
				require.Len(t, out.Attestations, 1)
				assert.Equal(t, fingerprint(t, pub), out.Attestations[0].Signer.KeyID)
			}
			out := verifyJSON(t, 1, env, append(keyFlags, "--insecure-ignore-tlog", "--plain-http", host+"/keys/c:v1")...)
			assert.Equal(t, policy.VerdictDeny, out.Verdict)
		})
	}
	t.Run("not a public key", func(t *testing.T) {
		key, err := os.ReadFile(filepath.Join(dir, "c.key"))
		require.NoError(t, err)
		mixed := filepath.Join(dir, "mixed.pem")
		require.NoError(t, os.WriteFile(mixed, append(append(a, '\n'), key...), 0o644))
		r := mustRun(t, 2, env, "verify", "--key", mixed, "--insecure-ignore-tlog", "--plain-http", host+"/keys/a:v1")
		assert.Contains(t, r.stderr, "PEM block 2")
	})
}

// TestAttestTimestampAuthority attests with the real timestamp-server: verify passes with its
// defaults given the authority's chain, and the blob form verifies a bundle file likewise,
// including one written by cosign attest-blob.
func TestAttestTimestampAuthority(t *testing.T) {
	tsaURL, _, chain := realTSA(t)
	host := testenv.OlaregServer(t)
	dir := t.TempDir()
	env := map[string]string{"PROVKIT_PASSWORD": "", "HOME": dir}
	pred := writePredicate(t, dir)
	mustRun(t, 0, env, "key", "generate", "--out", filepath.Join(dir, "k"))
	mustRun(t, 0, env, "key", "generate", "--out", filepath.Join(dir, "other"))
	key, pub := filepath.Join(dir, "k.key"), filepath.Join(dir, "k.pub")
	pushImage(t, host, "tsa/app", "v1", "tsa app\n")
	ref := host + "/tsa/app:v1"
	mustRun(t, 0, env, "attest", "--key", key, "--timestamp-server-url", tsaURL, "--predicate", pred, "--type", "slsaprovenance1", "--plain-http", ref)

	t.Run("DefaultsPass", func(t *testing.T) {
		out := verifyJSON(t, 0, env, "--key", pub, "--timestamp-certificate-chain", chain, "--plain-http", ref)
		assert.True(t, out.Attestations[0].Verified, out.Attestations[0].Error)
	})
	t.Run("WithoutChain", func(t *testing.T) {
		out := verifyJSON(t, 1, env, "--key", pub, "--plain-http", ref)
		assert.Equal(t, verify.CheckTransparencyLog, out.Attestations[0].Check)
	})
	t.Run("WrongKey", func(t *testing.T) {
		verifyJSON(t, 1, env, "--key", filepath.Join(dir, "other.pub"), "--timestamp-certificate-chain", chain, "--plain-http", ref)
	})
	t.Run("OtherAuthority", func(t *testing.T) {
		_, other := startTSA(t) // an authority that did not sign the timestamp
		otherChain := filepath.Join(dir, "other-chain.pem")
		writeChain(t, otherChain, other)
		out := verifyJSON(t, 1, env, "--key", pub, "--timestamp-certificate-chain", otherChain, "--plain-http", ref)
		assert.Equal(t, verify.CheckTimestamp, out.Attestations[0].Check)
	})

	// A bundle file about a local file, signed with the key and timestamped.
	blob := filepath.Join(dir, "app.tar.gz")
	require.NoError(t, os.WriteFile(blob, []byte("release tarball\n"), 0o644))
	subject, err := provenance.SubjectFromFile(blob)
	require.NoError(t, err)
	st, err := provenance.NewStatement([]*intoto.ResourceDescriptor{subject}, provenance.PredicateSLSAProvenanceV1, json.RawMessage(`{"buildDefinition":{"buildType":"https://ci.example/build/v1"}}`))
	require.NoError(t, err)
	signerKey, err := sign.LoadPrivateKey(key, nil)
	require.NoError(t, err)
	signer, err := sign.NewKeySigner(signerKey, sign.WithTimestampAuthority(tsaURL))
	require.NoError(t, err)
	bundle, err := signer.Sign(context.Background(), st)
	require.NoError(t, err)
	bundlePath := filepath.Join(dir, "app.tar.gz.sigstore.json")
	require.NoError(t, os.WriteFile(bundlePath, bundle.Data, 0o644))
	other := filepath.Join(dir, "other.tar.gz")
	require.NoError(t, os.WriteFile(other, []byte("another tarball\n"), 0o644))

	blobVerify := func(want int, args ...string) blobOutput {
		t.Helper()
		r := mustRun(t, want, env, append([]string{"verify-blob-attestation", "--output", "json"}, args...)...)
		var out blobOutput
		require.NoError(t, json.Unmarshal([]byte(r.stdout), &out), r.stdout)
		return out
	}
	t.Run("Blob", func(t *testing.T) {
		out := blobVerify(0, "--bundle", bundlePath, "--key", pub, "--timestamp-certificate-chain", chain, "--type", "slsaprovenance1", blob)
		assert.True(t, out.Verified, out.Error)
		assert.Equal(t, provenance.PredicateSLSAProvenanceV1, out.PredicateType)
		r := mustRun(t, 0, env, "verify-blob-attestation", "--bundle", bundlePath, "--key", pub, "--timestamp-certificate-chain", chain, blob)
		assert.Contains(t, r.stdout, "verified "+blob)
	})
	t.Run("BlobOtherFile", func(t *testing.T) {
		out := blobVerify(1, "--bundle", bundlePath, "--key", pub, "--timestamp-certificate-chain", chain, other)
		assert.Equal(t, verify.CheckSubject, out.Check)
	})
	t.Run("BlobWrongKey", func(t *testing.T) {
		blobVerify(1, "--bundle", bundlePath, "--key", filepath.Join(dir, "other.pub"), "--timestamp-certificate-chain", chain, blob)
	})
	t.Run("BlobOtherType", func(t *testing.T) {
		out := blobVerify(1, "--bundle", bundlePath, "--key", pub, "--timestamp-certificate-chain", chain, "--type", "spdxjson", blob)
		assert.Equal(t, verify.CheckPredicateType, out.Check)
	})
	t.Run("BlobTampered", func(t *testing.T) {
		forged := filepath.Join(dir, "forged.json")
		require.NoError(t, os.WriteFile(forged, tamper(t, bundle, "https://ci.example/build/v1", "https://ci.example/build/v2").Data, 0o644))
		out := blobVerify(1, "--bundle", forged, "--key", pub, "--timestamp-certificate-chain", chain, blob)
		assert.False(t, out.Verified)
	})
	t.Run("BlobMissingBundle", func(t *testing.T) {
		mustRun(t, 2, env, "verify-blob-attestation", "--bundle", filepath.Join(dir, "none.json"), "--key", pub, blob)
		mustRun(t, 2, env, "verify-blob-attestation", "--key", pub, blob)
	})
	t.Run("BlobByCosign", func(t *testing.T) {
		cosign := testenv.Cosign(t)
		cosignEnv := []string{"COSIGN_PASSWORD=", "HOME=" + dir, "TUF_ROOT=" + filepath.Join(dir, "tuf")}
		sc := filepath.Join(dir, "sc.json")
		runTool(t, cosignEnv, cosign, "signing-config", "create", "--tsa=url="+tsaURL+",api-version=1,start-time=2024-01-01T00:00:00Z,operator=local",
			"--tsa-config=EXACT:1", "--out", sc)
		cosignBundle := filepath.Join(dir, "cosign.sigstore.json")
		runTool(t, cosignEnv, cosign, "attest-blob", "--key", key, "--type", "slsaprovenance1", "--predicate", pred,
			"--signing-config", sc, "--bundle", cosignBundle, "-y", blob)
		out := blobVerify(0, "--bundle", cosignBundle, "--key", pub, "--timestamp-certificate-chain", chain, "--type", "slsaprovenance1", blob)
		assert.True(t, out.Verified, out.Error)
		blobVerify(1, "--bundle", cosignBundle, "--key", pub, "--timestamp-certificate-chain", chain, other)
	})
}

// writeChain writes a timestamp authority's chain as PEM, leaf first.
func writeChain(t *testing.T, path string, tsa root.TimestampingAuthority) {
	t.Helper()
	s := tsa.(*root.SigstoreTimestampingAuthority)
	var data []byte
	for _, c := range append(append([]*x509.Certificate{s.Leaf}, s.Intermediates...), s.Root) {
		data = append(data, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	require.NoError(t, os.WriteFile(path, data, 0o644))
}

// TestKeylessLocalSigstore attests keyless through the real Fulcio, Rekor v2 and timestamp
// servers, with a token from a file and from SIGSTORE_ID_TOKEN; verify passes with its defaults
// against a trusted_root.json of those services, and against the same root distributed by a
// local TUF repository, online and then offline from the cache.
func TestKeylessLocalSigstore(t *testing.T) {
	tsaURL, tsa, _ := realTSA(t)
	issuer := newOIDCIssuer(t)
	fulcioURL, fca := startFulcio(t, issuer.URL)
	rekorURL, tlog := startRekorV2(t)
	trPath, trJSON := writeTrustedRoot(t, []root.CertificateAuthority{fca}, []root.TimestampingAuthority{tsa}, tlog)

	host := testenv.OlaregServer(t)
	dir := t.TempDir()
	env := map[string]string{"HOME": dir}
	pred := writePredicate(t, dir)
	const email = "release@example.com"
	tokenFile := filepath.Join(dir, "token")
	require.NoError(t, os.WriteFile(tokenFile, []byte(issuer.token(t, email, 10*time.Minute)), 0o600))
	services := []string{"--fulcio-url", fulcioURL, "--rekor-url", rekorURL, "--rekor-version", "2", "--timestamp-server-url", tsaURL, "--trusted-root", trPath}

	pushImage(t, host, "keyless/file", "v1", "keyless file\n")
	pushImage(t, host, "keyless/env", "v1", "keyless env\n")
	mustRun(t, 0, env, append(append([]string{"attest"}, services...), "--identity-token", tokenFile, "--predicate", pred, "--type", "slsaprovenance1", "--plain-http", host+"/keyless/file:v1")...)
	envToken := map[string]string{"HOME": dir, sign.EnvSigstoreIDToken: issuer.token(t, email, 10*time.Minute)}
	mustRun(t, 0, envToken, append(append([]string{"attest"}, services...), "--predicate", pred, "--type", "slsaprovenance1", "--plain-http", host+"/keyless/env:v1")...)

	// GitHub Actions' ID-token endpoint, as a job with id-token: write permission sees it.
	actions := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "bearer job-token" || r.URL.Query().Get("audience") != "sigstore" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"value": issuer.token(t, email, 10*time.Minute)})
	}))
	t.Cleanup(actions.Close)
	pushImage(t, host, "keyless/actions", "v1", "keyless actions\n")
	envActions := map[string]string{"HOME": dir, sign.EnvGitHubTokenRequestURL: actions.URL + "/token?api-version=2", sign.EnvGitHubTokenRequestToken: "job-token"}
	mustRun(t, 0, envActions, append(append([]string{"attest"}, services...), "--predicate", pred, "--type", "slsaprovenance1", "--plain-http", host+"/keyless/actions:v1")...)

	// A key signature logged in Rekor v2 and timestamped: verify takes the log and the
	// authority from the trusted root.
	mustRun(t, 0, env, "key", "generate", "--out", filepath.Join(dir, "k"))
	pushImage(t, host, "keyed/logged", "v1", "keyed logged\n")
	mustRun(t, 0, env, "attest", "--key", filepath.Join(dir, "k.key"), "--rekor-url", rekorURL, "--rekor-version", "2", "--timestamp-server-url", tsaURL,
		"--predicate", pred, "--type", "slsaprovenance1", "--plain-http", host+"/keyed/logged:v1")
	t.Run("KeyWithLog", func(t *testing.T) {
		out := verifyJSON(t, 0, env, "--key", filepath.Join(dir, "k.pub"), "--trusted-root", trPath, "--plain-http", host+"/keyed/logged:v1")
		require.True(t, out.Attestations[0].Verified, out.Attestations[0].Error)
	})

	identity := []string{"--certificate-identity", email, "--certificate-oidc-issuer", issuer.URL, "--plain-http"}
	for _, repo := range []string{"file", "env", "actions"} {
		t.Run("TrustedRoot/"+repo, func(t *testing.T) {
			out := verifyJSON(t, 0, env, append(append([]string{"--trusted-root", trPath}, identity...), host+"/keyless/"+repo+":v1")...)
			a := out.Attestations[0]
			require.True(t, a.Verified, a.Error)
			assert.Equal(t, email, a.Signer.Certificate.SubjectAlternativeName)
		})
	}
	t.Run("OtherIdentity", func(t *testing.T) {
		out := verifyJSON(t, 1, env, "--trusted-root", trPath, "--certificate-identity", "mallory@example.com", "--certificate-oidc-issuer", issuer.URL, "--plain-http", host+"/keyless/file:v1")
		assert.Equal(t, verify.CheckIdentity, out.Attestations[0].Check)
	})

	// The same trusted root, from a TUF repository.
	repo := t.TempDir()
	initial := tufRepository(t, repo, trJSON)
	rootFile := filepath.Join(dir, "tuf-root.json")
	require.NoError(t, os.WriteFile(rootFile, initial, 0o644))
	srv := httptest.NewServer(http.FileServer(http.Dir(repo)))
	tufEnv := map[string]string{"HOME": dir, envTUFRoot: filepath.Join(dir, "tuf-cache")}
	tufFlags := []string{"--tuf-url", srv.URL, "--tuf-root", rootFile}
	t.Run("TUF", func(t *testing.T) {
		out := verifyJSON(t, 0, tufEnv, append(append(tufFlags, identity...), host+"/keyless/file:v1")...)
		require.True(t, out.Attestations[0].Verified, out.Attestations[0].Error)
		assert.DirExists(t, filepath.Join(dir, "tuf-cache"), "TUF_ROOT holds the cache")
	})
	srv.Close()
	t.Run("TUFOffline", func(t *testing.T) {
		out := verifyJSON(t, 0, tufEnv, append(append(append(tufFlags, "--offline"), identity...), host+"/keyless/env:v1")...)
		require.True(t, out.Attestations[0].Verified, out.Attestations[0].Error)
	})
	t.Run("TUFUnreachable", func(t *testing.T) {
		r := mustRun(t, 2, tufEnv, append(append(append([]string{"verify"}, tufFlags...), identity...), host+"/keyless/env:v1")...)
		assert.Contains(t, r.stderr, "TUF")
	})
	t.Run("TUFOfflineEmptyCache", func(t *testing.T) {
		mustRun(t, 2, env, append(append(append([]string{"verify", "--tuf-cache", t.TempDir(), "--offline"}, tufFlags...), identity...), host+"/keyless/env:v1")...)
	})
}
