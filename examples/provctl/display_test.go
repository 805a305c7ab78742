package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	orasgo "oras.land/oras-go/v2"
	"oras.land/oras-go/v2/registry/remote"

	"github.com/provkit/provkit/internal/testenv"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/sign"
)

// forgedLines is what a hostile referrer writes where provctl prints a value: lines that look
// like provctl's own ("verified ... signed by", "verdict  allow"), and the control characters
// that would hide the real ones (carriage return, ANSI erase and cursor-up, bidi override).
const forgedLines = "\nverified sha256:0000 referrers-api https://slsa.dev/provenance/v1 signed by key FORGED" +
	"\nverdict  allow FORGED (policy provctl-deny, prod)\r\x1b[2K\x1b[1Averdict  allow FORGED\u202e\u2028verdict  allow FORGED\x00"

// asciiForgedLines is forgedLines without what an e-mail address in a certificate cannot hold.
const asciiForgedLines = "\nverdict  allow FORGED (policy provctl-deny, prod)\r\x1b[2K\x1b[1Averdict  allow FORGED"

// requireInert fails when r printed a line the input wrote, or any character that moves the
// cursor, recolours the terminal or reorders text: every value from the registry, a bundle, a
// statement or a certificate reaches stdout and stderr escaped.
func requireInert(t *testing.T, r result) {
	t.Helper()
	for name, out := range map[string]string{"stdout": r.stdout, "stderr": r.stderr} {
		var bad []string
		for _, c := range out {
			if c != '\n' && c != '\t' && !unicode.IsPrint(c) {
				bad = append(bad, fmt.Sprintf("%U", c))
			}
		}
		for _, line := range strings.Split(out, "\n") {
			if l := strings.TrimLeft(line, " └─"); strings.HasPrefix(l, "verdict  allow FORGED") || strings.HasPrefix(l, "verified sha256:0000") {
				bad = append(bad, fmt.Sprintf("the line %q", line))
			}
		}
		if len(bad) > 0 {
			t.Errorf("%s holds %s:\n%s", name, strings.Join(bad, ", "), out)
		}
	}
}

// pushReferrer pushes a referrer of subject holding data as its one layer of mediaType, with
// annotations, with oras-go itself: what any client with push access can write.
func pushReferrer(t *testing.T, host, repo string, subject ocispec.Descriptor, mediaType string, data []byte, annotations map[string]string) {
	t.Helper()
	ctx := context.Background()
	r, err := remote.NewRepository(host + "/" + repo)
	require.NoError(t, err)
	r.PlainHTTP = true
	layer, err := orasgo.PushBytes(ctx, r, mediaType, data)
	require.NoError(t, err)
	_, err = orasgo.PackManifest(ctx, r, orasgo.PackManifestVersion1_1, mediaType, orasgo.PackManifestOptions{
		Subject: &subject, Layers: []ocispec.Descriptor{layer}, ManifestAnnotations: annotations,
	})
	require.NoError(t, err)
}

// TestReferrerCannotForgeOutput attaches, next to a real attestation that policy denies,
// referrers whose predicate type and annotations draw "verified" and "verdict  allow" lines:
// one signed by the trusted key, one not a bundle at all. No command prints them as lines.
func TestReferrerCannotForgeOutput(t *testing.T) {
	host := testenv.OlaregServer(t)
	dir := t.TempDir()
	env := map[string]string{"PROVKIT_PASSWORD": "", "HOME": dir}
	keyPrefix := filepath.Join(dir, "release")
	mustRun(t, 0, env, "key", "generate", "--out", keyPrefix)
	mustRun(t, 0, env, "key", "generate", "--out", filepath.Join(dir, "other"))
	image := pushImage(t, host, "team/app", "v1", "app v1\n")
	ref := host + "/team/app:v1"

	key, err := sign.LoadPrivateKey(keyPrefix+".key", nil)
	require.NoError(t, err)
	signer, err := sign.NewKeySigner(key)
	require.NoError(t, err)
	subject, err := provenance.SubjectFromDescriptor(host+"/team/app", image)
	require.NoError(t, err)
	st, err := provenance.NewStatement([]*intoto.ResourceDescriptor{subject}, provenance.PredicateSLSAProvenanceV1+forgedLines, map[string]any{"x": forgedLines})
	require.NoError(t, err)
	b, err := signer.Sign(context.Background(), st)
	require.NoError(t, err)
	annotations := map[string]string{
		provenance.AnnotationBundlePredicateType: provenance.PredicateSLSAProvenanceV1 + forgedLines,
		ocispec.AnnotationTitle:                  forgedLines,
	}
	pushReferrer(t, host, "team/app", image, b.MediaType, b.Data, annotations)
	pushReferrer(t, host, "team/app", image, provenance.MediaTypeBundleV03, []byte(`{"mediaType":"`+strings.ReplaceAll(forgedLines, "\n", `\n`)+`"}`), annotations)

	pub := keyPrefix + ".pub"
	deny := filepath.Join("testdata", "deny.yaml")
	trust := []string{"--key", pub, "--insecure-ignore-tlog", "--plain-http"}
	for _, tc := range []struct {
		name string
		code int
		args []string
	}{
		{"discover", 0, []string{"discover", "--plain-http", ref}},
		{"verify", 0, append(append([]string{"verify"}, trust...), ref)},
		{"verify with policy", 1, append(append([]string{"verify"}, trust...), "--policy", deny, "--env", "prod", ref)},
		{"verify with another key", 1, []string{"verify", "--key", filepath.Join(dir, "other.pub"), "--insecure-ignore-tlog", "--plain-http", ref}},
		{"lineage", 0, append(append([]string{"lineage"}, trust...), ref)},
		{"lineage with another key", 1, []string{"lineage", "--key", filepath.Join(dir, "other.pub"), "--insecure-ignore-tlog", "--plain-http", ref}},
		{"rebuild-check", 1, append(append([]string{"rebuild-check"}, trust...), "--file", pub, ref)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := provctl(t, env, tc.args...)
			require.Equalf(t, tc.code, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
			requireInert(t, r)
			if tc.name == "verify with policy" {
				var verdicts []string
				for _, line := range strings.Split(r.stdout, "\n") {
					if strings.HasPrefix(line, "verdict") {
						verdicts = append(verdicts, line)
					}
				}
				assert.Equal(t, []string{"verdict  deny (policy provctl-deny, prod)"}, verdicts, r.stdout)
			}
		})
	}
}

// TestCertificateIdentityCannotForgeOutput verifies an attestation whose certificate's e-mail
// address and issuer hold forged lines, against identity expressions that do not anchor their
// end: the signer is printed escaped.
func TestCertificateIdentityCannotForgeOutput(t *testing.T) {
	ctx := context.Background()
	host := testenv.OlaregServer(t)
	dir := t.TempDir()
	env := map[string]string{"HOME": dir}

	rootCert, rootKey, err := ca.GenerateRootCa()
	require.NoError(t, err)
	inter, interKey, err := ca.GenerateFulcioIntermediate(rootCert, rootKey)
	require.NoError(t, err)
	authority := &privateCA{root: rootCert, intermediate: inter, intermediateKey: interKey,
		email: "release@example.com" + asciiForgedLines, issuer: "https://issuer.example" + forgedLines}
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
	st, err := (&provenance.Build{BuildType: "https://ci.example/build/v1", BuilderID: "https://ci.example/builder", ExternalParameters: map[string]any{"x": "y"}}).Statement([]*intoto.ResourceDescriptor{subject})
	require.NoError(t, err)
	b, err := signer.Sign(ctx, st)
	require.NoError(t, err)
	pushReferrer(t, host, "keyless/app", image, b.MediaType, b.Data, map[string]string{provenance.AnnotationBundlePredicateType: st.GetPredicateType()})

	r := mustRun(t, 0, env, "verify", "--trusted-root", trPath, "--plain-http", "--insecure-ignore-tlog",
		"--certificate-identity-regexp", `^release@example\.com`, "--certificate-oidc-issuer-regexp", `^https://issuer\.example`, host+"/keyless/app:v1")
	requireInert(t, r)
	assert.Contains(t, r.stdout, `signed by "release@example.com\nverdict  allow FORGED`)
	assert.Equal(t, 1, strings.Count(r.stdout, "\nverdict "), r.stdout)
}

// TestRegistryErrorCannotForgeOutput talks to a registry that answers every request with an
// error whose message draws lines: the error provctl prints on stderr is escaped.
func TestRegistryErrorCannotForgeOutput(t *testing.T) {
	manifest := []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead && strings.HasSuffix(r.URL.Path, "/manifests/v1") {
			// The tag resolves; everything after that fails with the forged message.
			w.Header().Set("Content-Type", ocispec.MediaTypeImageManifest)
			w.Header().Set("Docker-Content-Digest", digest.FromBytes(manifest).String())
			w.Header().Set("Content-Length", strconv.Itoa(len(manifest)))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		body, _ := json.Marshal(map[string]any{"errors": []map[string]string{{"code": "DENIED", "message": forgedLines}}})
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	env := map[string]string{"HOME": t.TempDir()}
	for _, cmd := range []string{"discover", "copy"} {
		args := []string{cmd, "--plain-http", host + "/team/app:v1"}
		if cmd == "copy" {
			args = append(args, "oci-layout:"+filepath.Join(t.TempDir(), "pack"))
		}
		r := mustRun(t, 2, env, args...) // a registry that fails is "could not check"
		requireInert(t, r)
		assert.Contains(t, r.stderr, `verdict allow FORGED (policy provctl-deny, prod) \x1b[2K`, "the message is shown on one line, escaped")
	}
}
