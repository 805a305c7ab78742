package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/stretchr/testify/require"

	"github.com/provkit/provkit/internal/testenv"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/sign"
)

// TestExitCodes runs every command against the outcomes a script tells apart: 0 when it passed,
// 1 when the evidence says no (nothing attached, a wrong key, a forged attestation), and 2 when
// it could not check (an unreachable registry) or was used wrongly (a bad flag).
func TestExitCodes(t *testing.T) {
	host := testenv.OlaregServer(t)
	dir := t.TempDir()
	env := map[string]string{"PROVKIT_PASSWORD": "", "HOME": dir}
	mustRun(t, 0, env, "key", "generate", "--out", filepath.Join(dir, "k"))
	mustRun(t, 0, env, "key", "generate", "--out", filepath.Join(dir, "other"))
	key, pub, otherPub := filepath.Join(dir, "k.key"), filepath.Join(dir, "k.pub"), filepath.Join(dir, "other.pub")
	pred := filepath.Join(dir, "pred.json")
	require.NoError(t, os.WriteFile(pred, []byte(`{"buildDefinition":{"buildType":"https://ci.example/build/v1","externalParameters":{"x":"1"}},"runDetails":{"builder":{"id":"https://ci.example/builder"}}}`), 0o600))

	pushImage(t, host, "exit/app", "v1", "app\n")
	pushImage(t, host, "exit/bare", "v1", "bare\n")   // attest attaches to it
	pushImage(t, host, "exit/bare2", "v1", "bare2\n") // stays without attestations
	app, bare := host+"/exit/app:v1", host+"/exit/bare:v1"
	unreachable := "127.0.0.1:1/exit/app:v1" // nothing listens on port 1
	mustRun(t, 0, env, "attest", "--key", key, "--predicate", pred, "--type", "slsaprovenance1", "--plain-http", app)

	// A bundle file about a local file, for verify-blob-attestation.
	blob, otherBlob := filepath.Join(dir, "blob"), filepath.Join(dir, "other-blob")
	require.NoError(t, os.WriteFile(blob, []byte("blob\n"), 0o644))
	require.NoError(t, os.WriteFile(otherBlob, []byte("other blob\n"), 0o644))
	subject, err := provenance.SubjectFromFile(blob)
	require.NoError(t, err)
	st, err := provenance.NewStatement([]*intoto.ResourceDescriptor{subject}, provenance.PredicateSLSAProvenanceV1, json.RawMessage(`{}`))
	require.NoError(t, err)
	signerKey, err := sign.LoadPrivateKey(key, nil)
	require.NoError(t, err)
	signer, err := sign.NewKeySigner(signerKey)
	require.NoError(t, err)
	b, err := signer.Sign(context.Background(), st)
	require.NoError(t, err)
	bundle := filepath.Join(dir, "blob.sigstore.json")
	require.NoError(t, os.WriteFile(bundle, b.Data, 0o644))

	trusted := []string{"--key", pub, "--insecure-ignore-tlog", "--plain-http"}
	wrong := []string{"--key", otherPub, "--insecure-ignore-tlog", "--plain-http"}
	with := func(cmd string, flags []string, args ...string) []string {
		return append(append([]string{cmd}, flags...), args...)
	}
	type cell struct {
		outcome string
		code    int
		args    []string
	}
	for _, tc := range []struct {
		cmd   string
		cells []cell
	}{
		{"key generate", []cell{
			{"pass", 0, []string{"key", "generate", "--out", filepath.Join(dir, "new")}},
			{"bad flag", 2, []string{"key", "generate", "--frobnicate", "--out", filepath.Join(dir, "new2")}},
			{"exists", 2, []string{"key", "generate", "--out", filepath.Join(dir, "k")}},
		}},
		{"attest", []cell{
			{"pass", 0, []string{"attest", "--key", key, "--predicate", pred, "--type", "slsaprovenance1", "--plain-http", bare}},
			{"wrong key", 2, []string{"attest", "--key", pub, "--predicate", pred, "--type", "slsaprovenance1", "--plain-http", bare}},
			{"bad flag", 2, []string{"attest", "--frobnicate", "--key", key, "--plain-http", bare}},
			{"unreachable registry", 2, []string{"attest", "--key", key, "--predicate", pred, "--type", "slsaprovenance1", "--plain-http", unreachable}},
		}},
		{"discover", []cell{
			{"pass", 0, []string{"discover", "--plain-http", app}},
			{"nothing attached", 1, []string{"discover", "--plain-http", host + "/exit/bare2:v1"}},
			{"nothing attached json", 1, []string{"discover", "--plain-http", "--output", "json", host + "/exit/bare2:v1"}},
			{"bad flag", 2, []string{"discover", "--frobnicate", "--plain-http", app}},
			{"unreachable registry", 2, []string{"discover", "--plain-http", unreachable}},
		}},
		{"verify", []cell{
			{"pass", 0, with("verify", trusted, app)},
			{"nothing attached", 1, with("verify", trusted, host+"/exit/bare2:v1")},
			{"wrong key", 1, with("verify", wrong, app)},
			{"bad flag", 2, with("verify", trusted, "--frobnicate", app)},
			{"unreachable registry", 2, with("verify", trusted, unreachable)},
		}},
		{"verify-blob-attestation", []cell{
			{"pass", 0, with("verify-blob-attestation", trusted[:3], "--bundle", bundle, blob)},
			{"nothing attested", 1, with("verify-blob-attestation", trusted[:3], "--bundle", bundle, otherBlob)},
			{"wrong key", 1, with("verify-blob-attestation", wrong[:3], "--bundle", bundle, blob)},
			{"bad flag", 2, with("verify-blob-attestation", trusted[:3], "--frobnicate", "--bundle", bundle, blob)},
			{"missing bundle", 2, with("verify-blob-attestation", trusted[:3], "--bundle", filepath.Join(dir, "none.json"), blob)},
		}},
		{"lineage", []cell{
			{"pass", 0, with("lineage", trusted, app)},
			{"nothing attached", 1, with("lineage", trusted, host+"/exit/bare2:v1")},
			{"wrong key", 1, with("lineage", wrong, app)},
			{"bad flag", 2, with("lineage", trusted, "--frobnicate", app)},
			{"unreachable registry", 2, with("lineage", trusted, unreachable)},
		}},
		{"diff", []cell{
			{"pass", 0, with("diff", trusted, app, app)},
			{"nothing attached", 1, with("diff", trusted, host+"/exit/bare2:v1", host+"/exit/bare2:v1")},
			{"wrong key", 1, with("diff", wrong, app, app)},
			{"bad flag", 2, with("diff", trusted, "--frobnicate", app, app)},
			{"unreachable registry", 2, with("diff", trusted, app, unreachable)},
		}},
		{"diff --environments", []cell{
			{"pass", 0, []string{"diff", "--environments", "--plain-http", "a=" + app, "b=" + app}},
			{"nowhere", 1, []string{"diff", "--environments", "--plain-http", "a=" + host + "/exit/none:v1", "b=" + host + "/exit/none2:v1"}},
			{"bad flag", 2, []string{"diff", "--environments", "--frobnicate", "a=" + app, "b=" + app}},
			{"unreachable registry", 2, []string{"diff", "--environments", "--plain-http", "a=" + app, "b=" + unreachable}},
		}},
		{"rebuild-check", []cell{
			{"pass", 0, with("rebuild-check", trusted, "--image", app, app)},
			{"nothing attached", 1, with("rebuild-check", trusted, "--image", app, host+"/exit/bare2:v1")},
			{"wrong key", 1, with("rebuild-check", wrong, "--image", app, app)},
			{"bad flag", 2, with("rebuild-check", trusted, "--frobnicate", "--image", app, app)},
			{"unreachable registry", 2, with("rebuild-check", trusted, "--image", app, unreachable)},
		}},
		{"copy", []cell{
			{"pass", 0, []string{"copy", "--plain-http", app, "oci-layout:" + filepath.Join(dir, "copy1")}},
			{"nothing attached", 0, []string{"copy", "--plain-http", bare, "oci-layout:" + filepath.Join(dir, "copy2")}},
			{"bad flag", 2, []string{"copy", "--frobnicate", app, "oci-layout:" + filepath.Join(dir, "copy3")}},
			{"unreachable registry", 2, []string{"copy", "--plain-http", unreachable, "oci-layout:" + filepath.Join(dir, "copy4")}},
		}},
	} {
		for _, c := range tc.cells {
			t.Run(tc.cmd+"/"+c.outcome, func(t *testing.T) {
				mustRun(t, c.code, env, c.args...)
			})
		}
	}
}
