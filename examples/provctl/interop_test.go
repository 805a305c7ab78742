package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/provkit/provkit/internal/testenv"
	"github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/policy"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/verify"
)

// runTool runs an outside program and returns its standard output, failing the test on error.
func runTool(t *testing.T, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), name, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Dir = t.TempDir()
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s%s", filepath.Base(name), strings.Join(args, " "), err, out.String(), errb.String())
	}
	return out.String()
}

// verifyJSON runs provctl verify with --output json and decodes what it printed.
func verifyJSON(t *testing.T, want int, env map[string]string, args ...string) verifyOutput {
	t.Helper()
	r := mustRun(t, want, env, append([]string{"verify", "--output", "json"}, args...)...)
	var out verifyOutput
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &out), r.stdout)
	return out
}

// TestInteropCosign checks both directions with cosign v3: `cosign verify-attestation` accepts
// what `provctl attest` wrote, and `provctl verify` accepts what `cosign attest` wrote, in the
// bundle format and under legacy ".att" tags, and refuses a tampered copy.
func TestInteropCosign(t *testing.T) {
	cosign := testenv.Cosign(t)
	for _, reg := range registries {
		t.Run(reg.name, func(t *testing.T) {
			host := reg.start(t)
			dir := t.TempDir()
			cosignEnv := []string{"COSIGN_PASSWORD=", "HOME=" + dir, "TUF_ROOT=" + filepath.Join(dir, "tuf")}
			env := map[string]string{"PROVKIT_PASSWORD": "", "HOME": dir}
			key := filepath.Join(dir, "k")
			mustRun(t, 0, env, "key", "generate", "--out", key)
			sc := filepath.Join(dir, "sc.json")
			runTool(t, cosignEnv, cosign, "signing-config", "create", "--out", sc)
			pred := filepath.Join(dir, "pred.json")
			require.NoError(t, os.WriteFile(pred, []byte(`{"buildDefinition":{"buildType":"https://example.com/b","externalParameters":{"x":"1"}},"runDetails":{"builder":{"id":"https://example.com/x"}}}`), 0o600))
			trust := []string{"--key", key + ".pub", "--insecure-ignore-tlog", "--plain-http", "--type", "slsaprovenance1"}

			t.Run("CosignVerifiesProvctlAttest", func(t *testing.T) {
				image := pushImage(t, host, "interop/ours", "v1", "ours\n")
				mustRun(t, 0, env, "attest", "--key", key+".key", "--plain-http", host+"/interop/ours:v1")
				out := runTool(t, cosignEnv, cosign, "verify-attestation", "--key", key+".pub", "--type", "slsaprovenance1",
					"--insecure-ignore-tlog", "--allow-http-registry", host+"/interop/ours@"+image.Digest.String())
				assert.Contains(t, out, `"payloadType":"application/vnd.in-toto+json"`)
			})
			t.Run("ProvctlVerifiesCosignBundleFormat", func(t *testing.T) {
				image := pushImage(t, host, "interop/bundle", "v1", "bundle\n")
				runTool(t, cosignEnv, cosign, "attest", "--key", key+".key", "--type", "slsaprovenance1", "--predicate", pred,
					"--signing-config", sc, "--allow-http-registry", "-y", host+"/interop/bundle@"+image.Digest.String())
				out := verifyJSON(t, 0, env, append(trust, host+"/interop/bundle:v1")...)
				require.Len(t, out.Attestations, 1)
				a := out.Attestations[0]
				assert.True(t, a.Verified, a.Error)
				assert.Equal(t, provenance.MediaTypeBundleV03, a.MediaType)
				assert.Equal(t, provenance.PredicateSLSAProvenanceV1, a.PredicateType)
				assert.Equal(t, policy.VerdictAllow, out.Verdict)

				// The same bundle, its statement edited, on the same image elsewhere: refused.
				s, err := oras.NewRemote(host+"/interop/bundle", oras.WithPlainHTTPUnsafe())
				require.NoError(t, err)
				found, err := s.Discover(context.Background(), image, oras.Query{PredicateType: provenance.PredicateSLSAProvenanceV1})
				require.NoError(t, err)
				require.Len(t, found, 1)
				b, err := s.FetchAttestation(context.Background(), found[0])
				require.NoError(t, err)
				forgedImage := pushImage(t, host, "interop/forged", "v1", "bundle\n")
				fs, err := oras.NewRemote(host+"/interop/forged", oras.WithPlainHTTPUnsafe())
				require.NoError(t, err)
				_, err = fs.Attach(context.Background(), forgedImage, tamper(t, b, "https://example.com/x", "https://example.com/y"))
				require.NoError(t, err)
				out = verifyJSON(t, 1, env, append(trust, host+"/interop/forged:v1")...)
				require.Len(t, out.Attestations, 1)
				assert.Equal(t, verify.CheckSignature, out.Attestations[0].Check)
				assert.Equal(t, policy.VerdictDeny, out.Verdict)
			})
			t.Run("ProvctlVerifiesCosignLegacyAttTag", func(t *testing.T) {
				image := pushImage(t, host, "interop/legacy", "v1", "legacy\n")
				runTool(t, cosignEnv, cosign, "attest", "--key", key+".key", "--type", "slsaprovenance1", "--predicate", pred,
					"--new-bundle-format=false", "--tlog-upload=false", "--use-signing-config=false",
					"--allow-http-registry", "-y", host+"/interop/legacy@"+image.Digest.String())
				out := verifyJSON(t, 0, env, append(trust, host+"/interop/legacy:v1")...)
				require.Len(t, out.Attestations, 1)
				a := out.Attestations[0]
				assert.True(t, a.Verified, a.Error)
				assert.Equal(t, oras.SourceCosignAttTag, a.Source)
				assert.Equal(t, provenance.MediaTypeDSSE, a.MediaType)

				// Signed by another key: nothing verifies.
				mustRun(t, 0, env, "key", "generate", "--out", filepath.Join(dir, "other"))
				out = verifyJSON(t, 1, env, "--key", filepath.Join(dir, "other.pub"), "--insecure-ignore-tlog", "--plain-http", host+"/interop/legacy:v1")
				require.Len(t, out.Attestations, 1)
				assert.False(t, out.Attestations[0].Verified)
			})
		})
	}
}

// TestInteropOrasDiscover checks that `oras discover` lists what `provctl attest` attached.
func TestInteropOrasDiscover(t *testing.T) {
	orasBin := testenv.Oras(t)
	for _, reg := range registries {
		t.Run(reg.name, func(t *testing.T) {
			host := reg.start(t)
			dir := t.TempDir()
			env := map[string]string{"PROVKIT_PASSWORD": "", "HOME": dir}
			mustRun(t, 0, env, "key", "generate", "--out", filepath.Join(dir, "k"))
			image := pushImage(t, host, "interop/oras", "v1", "oras\n")
			r := mustRun(t, 0, env, "attest", "--key", filepath.Join(dir, "k.key"), "--plain-http", host+"/interop/oras:v1")
			att := strings.TrimSpace(r.stdout)
			out := runTool(t, []string{"HOME=" + dir}, orasBin, "discover", "--plain-http", "--format", "json", host+"/interop/oras@"+image.Digest.String())
			assert.Contains(t, out, att)
			assert.Contains(t, out, provenance.MediaTypeBundleV03)
		})
	}
}
