package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/sign"
	"github.com/provkit/provkit/verify"
)

func TestAttestDirSignsEveryArtifact(t *testing.T) {
	dist := t.TempDir()
	files := map[string]string{"app-linux-amd64": "binary one", "app-darwin-arm64": "binary two", "docs/README.txt": "read me"}
	for name, body := range files {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dist, name)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dist, name), []byte(body), 0o644))
	}
	pair, err := sign.GenerateKeyPair(0, []byte("pw"))
	require.NoError(t, err)
	keyPath := filepath.Join(t.TempDir(), "cosign.key")
	require.NoError(t, os.WriteFile(keyPath, pair.PrivatePEM, 0o600))
	out := filepath.Join(t.TempDir(), "release")

	var w bytes.Buffer
	err = run(context.Background(), &w, options{dir: dist, source: ".", keyPath: keyPath, out: out,
		env: map[string]string{"PROVKIT_PASSWORD": "pw", "API_TOKEN": "s3cr3t-value"}})
	require.NoError(t, err, w.String())
	assert.Contains(t, w.String(), "attested 3 artifacts in "+dist)
	assert.Contains(t, w.String(), "docs/README.txt")

	data, err := os.ReadFile(out + ".sigstore.json")
	require.NoError(t, err)
	bundle := provenance.Bundle{MediaType: provenance.MediaTypeBundleV03, Data: data}
	keys, err := verify.TrustedKeys(verify.PublicKey{ID: "release", Key: pair.Signer.Public()})
	require.NoError(t, err)
	v, err := verify.New(keys, verify.WithoutTransparencyLog(), verify.WithUntimestampedKeysUnsafe())
	require.NoError(t, err)
	for name, body := range files {
		d := digest.NewDigestFromBytes(digest.SHA256, sha256Sum(body))
		res, err := v.Verify(context.Background(), bundle, d, verify.KeyIDs("release"))
		require.NoError(t, err, name)
		assert.Equal(t, provenance.PredicateSLSAProvenanceV1, res.PredicateType())
		stmt, err := provenance.Marshal(res.Statement())
		require.NoError(t, err)
		assert.NotContains(t, string(stmt), "s3cr3t-value", "secrets in the environment are redacted")
	}

	// A file the build did not write is not covered.
	_, err = v.Verify(context.Background(), bundle, digest.FromString("something else"), verify.KeyIDs("release"))
	var subjectErr *verify.SubjectError
	assert.ErrorAs(t, err, &subjectErr)
	assert.ErrorIs(t, err, verify.ErrVerification)

	// The .intoto.jsonl file holds one DSSE envelope per line, with the same signed payload.
	jsonl, err := os.ReadFile(out + ".intoto.jsonl")
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSuffix(string(jsonl), "\n"), "\n")
	require.Len(t, lines, 1)
	var env struct {
		PayloadType string `json:"payloadType"`
		Signatures  []struct {
			Sig string `json:"sig"`
		} `json:"signatures"`
	}
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &env))
	assert.Equal(t, provenance.MediaTypeInToto, env.PayloadType)
	require.Len(t, env.Signatures, 1)
	envBundle := provenance.Bundle{MediaType: provenance.MediaTypeDSSE, Data: []byte(lines[0])}
	_, err = v.Verify(context.Background(), envBundle, digest.NewDigestFromBytes(digest.SHA256, sha256Sum("read me")), verify.KeyIDs("release"))
	assert.NoError(t, err, "the bare envelope verifies with the key alone")
}

func TestAttestDirEmptyFolder(t *testing.T) {
	var w bytes.Buffer
	err := run(context.Background(), &w, options{dir: t.TempDir(), source: ".", out: filepath.Join(t.TempDir(), "p")})
	assert.ErrorIs(t, err, provenance.ErrNoSubjects)
}

func sha256Sum(s string) []byte {
	sum := sha256.Sum256([]byte(s))
	return sum[:]
}
