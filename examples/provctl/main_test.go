package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"oras.land/oras-go/v2/registry/remote"

	"github.com/provkit/provkit/internal/testenv"
	"github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/policy"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/verify"
)

// result is what one provctl run printed and returned.
type result struct {
	code           int
	stdout, stderr string
}

// provctl runs the command in-process with env as its whole environment.
func provctl(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb, env)
	return result{code, out.String(), errb.String()}
}

// mustRun runs provctl and fails the test unless it exits with want.
func mustRun(t *testing.T, want int, env map[string]string, args ...string) result {
	t.Helper()
	r := provctl(t, env, args...)
	require.Equalf(t, want, r.code, "provctl %s\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.stdout, r.stderr)
	return r
}

// pushImage pushes a one-layer image to host/repo with oras-go, tagged tag. The same body gives
// the same digest in any repository.
func pushImage(t *testing.T, host, repo, tag, body string) ocispec.Descriptor {
	t.Helper()
	r, err := remote.NewRepository(host + "/" + repo)
	require.NoError(t, err)
	r.PlainHTTP = true
	return testenv.PushImage(t, r, tag, body)
}

// tamper returns a copy of the Sigstore bundle b whose signed statement has old replaced by new,
// keeping the signature.
func tamper(t *testing.T, b provenance.Bundle, old, new string) provenance.Bundle {
	t.Helper()
	var doc map[string]any
	require.NoError(t, json.Unmarshal(b.Data, &doc))
	envelope := doc["dsseEnvelope"].(map[string]any)
	statement, err := base64.StdEncoding.DecodeString(envelope["payload"].(string))
	require.NoError(t, err)
	forged := bytes.Replace(statement, []byte(old), []byte(new), 1)
	require.NotEqual(t, statement, forged)
	envelope["payload"] = base64.StdEncoding.EncodeToString(forged)
	data, err := json.Marshal(doc)
	require.NoError(t, err)
	return provenance.Bundle{MediaType: b.MediaType, Data: data, PredicateType: b.PredicateType}
}

// registries are the registries on loopback the scenario runs against.
var registries = []struct {
	name  string
	start func(testing.TB) string
}{
	{"olareg-referrers-api", testenv.OlaregServer},
	{"ggcr-referrers-tag", testenv.GGCRServer},
}

func TestScenario(t *testing.T) {
	for _, reg := range registries {
		t.Run(reg.name, func(t *testing.T) {
			host := reg.start(t)
			dir := t.TempDir()
			const password = "correct-horse-battery-staple"
			env := map[string]string{"PROVKIT_PASSWORD": password, "HOME": dir, "CI_JOB": "build-42"}
			keyPrefix := filepath.Join(dir, "release")

			// key generate writes cosign's formats, and refuses to overwrite them.
			r := mustRun(t, 0, env, "key", "generate", "--out", keyPrefix)
			assert.Contains(t, r.stdout, "Private key written to "+keyPrefix+".key")
			assert.FileExists(t, keyPrefix+".pub")
			r = mustRun(t, 2, env, "key", "generate", "--out", keyPrefix)
			assert.Contains(t, r.stderr, "refusing to overwrite")

			image := pushImage(t, host, "team/app", "v1", "app v1\n")
			ref := host + "/team/app:v1"

			// attest generates SLSA provenance from the build context and prints the digest.
			r = mustRun(t, 0, env, "attest", "--key", keyPrefix+".key", "--plain-http", "--source", ".", "--env", "CI_JOB", ref)
			attDigest := strings.TrimSpace(r.stdout)
			_, err := digest.Parse(attDigest)
			require.NoError(t, err, "attest prints the attestation digest, got %q", r.stdout)

			// discover lists it, as text and as JSON.
			r = mustRun(t, 0, env, "discover", "--plain-http", ref)
			assert.Contains(t, r.stdout, host+"/team/app@"+image.Digest.String())
			assert.Contains(t, r.stdout, attDigest)
			assert.Contains(t, r.stdout, provenance.PredicateSLSAProvenanceV1)
			r = mustRun(t, 0, env, "discover", "--plain-http", "--output", "json", ref)
			var disc discoverOutput
			require.NoError(t, json.Unmarshal([]byte(r.stdout), &disc))
			require.Len(t, disc.Attestations, 1)
			assert.Equal(t, attDigest, disc.Attestations[0].Manifest.String())
			assert.Equal(t, image.Digest, disc.Digest)
			assert.True(t, disc.Attestations[0].Signed)

			pub := keyPrefix + ".pub"
			allow, deny := filepath.Join("testdata", "allow.yaml"), filepath.Join("testdata", "deny.yaml")

			t.Run("AllowedByPolicy", func(t *testing.T) {
				r := mustRun(t, 0, env, "verify", "--key", pub, "--insecure-ignore-tlog", "--plain-http",
					"--type", "slsaprovenance1", "--policy", allow, "--env", "dev", ref)
				assert.Contains(t, r.stdout, "verified "+attDigest)
				assert.Regexp(t, `(?m)^pass +has-slsa-provenance `, r.stdout)
				assert.Regexp(t, `(?m)^pass +built-by-provkit `, r.stdout)
				assert.Contains(t, r.stdout, `verdict  allow (policy provctl-allow, dev)`)
			})
			t.Run("DecisionsRecordedInAuditLog", func(t *testing.T) {
				logDir, logPrefix := filepath.Join(dir, "audit"), filepath.Join(dir, "auditlog")
				mustRun(t, 0, env, "audit", "keygen", "--origin", "audit.scenario.test", "--out", logPrefix)
				record := []string{"--audit-log", logDir, "--audit-log-key", logPrefix + ".note.key", "--audit-key", keyPrefix + ".key", "--audit-actor", "ci@example.com"}
				mustRun(t, 0, env, append([]string{"verify", "--key", pub, "--insecure-ignore-tlog", "--plain-http", "--policy", allow, "--env", "dev", ref}, record...)...)
				mustRun(t, 1, env, append([]string{"verify", "--key", pub, "--insecure-ignore-tlog", "--plain-http", "--policy", deny, "--env", "prod", ref}, record...)...)
				r := mustRun(t, 0, env, "audit", "show", "--log", logDir, "--log-pub", logPrefix+".note.pub", "--key", pub)
				assert.Regexp(t, `(?m)^0  \S+  verified  `+image.Digest.String()+`  allow  env=dev  by ci@example.com$`, r.stdout)
				assert.Regexp(t, `(?m)^1  \S+  denied  `+image.Digest.String()+`  deny  env=prod  by ci@example.com$`, r.stdout)
				mustRun(t, 0, env, "audit", "verify", "--log", logDir, "--log-pub", logPrefix+".note.pub", "--key", pub)
			})
			t.Run("PrivateKeyAsTrustedKey", func(t *testing.T) {
				mustRun(t, 0, env, "verify", "--key", keyPrefix+".key", "--insecure-ignore-tlog", "--plain-http", ref)
			})
			t.Run("DeniedByPolicy", func(t *testing.T) {
				r := mustRun(t, 1, env, "verify", "--key", pub, "--insecure-ignore-tlog", "--plain-http",
					"--policy", deny, "--env", "prod", "--output", "json", ref)
				var out verifyOutput
				require.NoError(t, json.Unmarshal([]byte(r.stdout), &out))
				assert.Equal(t, policy.VerdictDeny, out.Verdict)
				require.NotNil(t, out.Decision)
				rule, ok := out.Decision.Rule("built-on-trusted-ci")
				require.True(t, ok)
				assert.Equal(t, policy.OutcomeFail, rule.Outcome)
				assert.NotEmpty(t, rule.Reason)
				rule, _ = out.Decision.Rule("has-slsa-provenance")
				assert.Equal(t, policy.OutcomePass, rule.Outcome)
			})
			t.Run("UntimestampedNeedsInsecureIgnoreTlog", func(t *testing.T) {
				r := mustRun(t, 1, env, "verify", "--key", pub, "--plain-http", "--output", "json", ref)
				var out verifyOutput
				require.NoError(t, json.Unmarshal([]byte(r.stdout), &out))
				require.Len(t, out.Attestations, 1)
				assert.False(t, out.Attestations[0].Verified)
				assert.Contains(t, []verify.Check{verify.CheckTransparencyLog, verify.CheckTimestamp}, out.Attestations[0].Check)
			})
			t.Run("WrongKey", func(t *testing.T) {
				mustRun(t, 0, env, "key", "generate", "--out", filepath.Join(dir, "other"))
				r := mustRun(t, 1, env, "verify", "--key", filepath.Join(dir, "other.pub"), "--insecure-ignore-tlog", "--plain-http", ref)
				assert.Contains(t, r.stdout, "failed   "+attDigest)
				assert.Contains(t, r.stdout, "verdict  deny: no attestation verified (1 tried)")
			})
			t.Run("OtherPredicateType", func(t *testing.T) {
				r := mustRun(t, 1, env, "verify", "--key", pub, "--insecure-ignore-tlog", "--plain-http", "--type", "spdxjson", ref)
				assert.Contains(t, r.stdout, "no https://spdx.dev/Document attestation verified")
			})
			t.Run("Tampered", func(t *testing.T) {
				s, err := oras.NewRemote(host+"/team/app", oras.WithPlainHTTPUnsafe())
				require.NoError(t, err)
				found, err := s.Discover(context.Background(), image, oras.Query{})
				require.NoError(t, err)
				require.Len(t, found, 1)
				b, err := s.FetchAttestation(context.Background(), found[0])
				require.NoError(t, err)

				// The generated provenance records the environment, with the key password redacted.
				var doc struct {
					DSSEEnvelope struct{ Payload []byte } `json:"dsseEnvelope"`
				}
				require.NoError(t, json.Unmarshal(b.Data, &doc))
				assert.Contains(t, string(doc.DSSEEnvelope.Payload), "build-42")
				assert.NotContains(t, string(doc.DSSEEnvelope.Payload), password)

				// The same image in another repository, carrying only the forged attestation.
				forgedImage := pushImage(t, host, "team/forged", "v1", "app v1\n")
				require.Equal(t, image.Digest, forgedImage.Digest)
				fs, err := oras.NewRemote(host+"/team/forged", oras.WithPlainHTTPUnsafe())
				require.NoError(t, err)
				_, err = fs.Attach(context.Background(), forgedImage, tamper(t, b, `"builder":{"id":"`, `"builder":{"id":"https://attacker.example/`))
				require.NoError(t, err)

				r := mustRun(t, 1, env, "verify", "--key", pub, "--insecure-ignore-tlog", "--plain-http", "--output", "json", host+"/team/forged:v1")
				var out verifyOutput
				require.NoError(t, json.Unmarshal([]byte(r.stdout), &out))
				require.Len(t, out.Attestations, 1)
				assert.Equal(t, verify.CheckSignature, out.Attestations[0].Check)
				assert.Equal(t, policy.VerdictDeny, out.Verdict)
			})
			t.Run("AttestPredicateFile", func(t *testing.T) {
				pushImage(t, host, "team/sbom", "v1", "sbom\n")
				pred := filepath.Join(dir, "sbom.json")
				require.NoError(t, os.WriteFile(pred, []byte(`{"spdxVersion":"SPDX-2.3","name":"app"}`), 0o600))
				mustRun(t, 0, env, "attest", "--key", keyPrefix+".key", "--plain-http", "--predicate", pred, "--type", "spdxjson", host+"/team/sbom:v1")
				r := mustRun(t, 0, env, "verify", "--key", pub, "--insecure-ignore-tlog", "--plain-http", "--type", "https://spdx.dev/Document", host+"/team/sbom:v1")
				assert.Contains(t, r.stdout, "verdict  allow: 1 of 1 attestations verified")
			})
			t.Run("CopyToLayoutAndVerifyOffline", func(t *testing.T) {
				pack := filepath.Join(dir, "pack")
				r := mustRun(t, 0, env, "copy", "--plain-http", ref, "oci-layout:"+pack)
				assert.Contains(t, r.stdout, image.Digest.String())
				r = mustRun(t, 0, env, "discover", "--oci-layout", pack+":v1")
				assert.Contains(t, r.stdout, attDigest)
				r = mustRun(t, 0, env, "verify", "--key", pub, "--insecure-ignore-tlog", "--oci-layout",
					"--policy", allow, "--env", "prod", "--output", "json", pack+"@"+image.Digest.String())
				var out verifyOutput
				require.NoError(t, json.Unmarshal([]byte(r.stdout), &out))
				assert.Equal(t, policy.VerdictAllow, out.Verdict)
				assert.Equal(t, oras.SourceGraph, out.Attestations[0].Source)
			})
		})
	}
}

func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"PROVKIT_PASSWORD": ""}
	mustRun(t, 0, env, "key", "generate", "--out", filepath.Join(dir, "k"))
	key := filepath.Join(dir, "k.pub")
	policyFile := filepath.Join("testdata", "allow.yaml")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no command", nil, "usage: provctl"},
		{"unknown command", []string{"sign"}, `unknown command "sign"`},
		{"unknown flag", []string{"discover", "--frobnicate", "h/r:v"}, "flag provided but not defined"},
		{"missing ref", []string{"discover"}, "want 1 argument(s), got 0"},
		{"bad ref", []string{"discover", "justaname"}, "registry reference (host[:port]/repository"},
		{"bad digest", []string{"discover", "h/r@sha256:zz"}, "invalid digest"},
		{"verify without trust", []string{"verify", "h/r:v"}, "give --key"},
		{"key and keyless", []string{"verify", "--key", key, "--certificate-identity", "a@b", "h/r:v"}, "exclude each other"},
		{"keyless without root or TUF cache", []string{"verify", "--certificate-identity", "a@b", "--certificate-oidc-issuer", "https://i", "h/r:v"}, "no TUF cache directory"},
		{"trusted root and TUF", []string{"verify", "--certificate-identity", "a@b", "--certificate-oidc-issuer", "https://i", "--trusted-root", "tr.json", "--tuf-url", "http://127.0.0.1:1", "h/r:v"}, "exclude each other"},
		{"env without policy", []string{"verify", "--key", key, "--env", "prod", "h/r:v"}, "--env needs --policy"},
		{"unknown env", []string{"verify", "--key", key, "--policy", policyFile, "--env", "staging", "h/r:v"}, `no environment "staging"`},
		{"missing key file", []string{"verify", "--key", filepath.Join(dir, "none.pub"), "h/r:v"}, "no such file"},
		{"missing trusted root", []string{"verify", "--certificate-identity", "a@b", "--certificate-oidc-issuer", "https://i", "--trusted-root", filepath.Join(dir, "none.json"), "h/r:v"}, "trust material unavailable"},
		{"bad identity regexp", []string{"verify", "--certificate-identity-regexp", "(", "--certificate-oidc-issuer", "https://i", "--trusted-root", filepath.Join(dir, "none.json"), "h/r:v"}, "invalid expected identity"},
		{"bad output", []string{"verify", "--key", key, "--output", "yaml", "h/r:v"}, "--output must be text or json"},
		{"keyless attest without token", []string{"attest", "h/r:v"}, "needs an identity token"},
		{"keyless attest without fulcio", []string{"attest", "--timestamp-server-url", "http://127.0.0.1:1/ts", "--identity-token", "t", "h/r:v"}, "needs --fulcio-url"},
		{"keyless attest without time", []string{"attest", "--fulcio-url", "http://127.0.0.1:1", "--identity-token", "t", "h/r:v"}, "needs --rekor-url or --timestamp-server-url"},
		{"key with fulcio", []string{"attest", "--key", key, "--fulcio-url", "http://127.0.0.1:1", "h/r:v"}, "for keyless signing"},
		{"rekor v2 without tsa", []string{"attest", "--key", key, "--rekor-url", "http://127.0.0.1:1", "--rekor-version", "2", "h/r:v"}, "Rekor v2 records no signing time"},
		{"rekor version 3", []string{"attest", "--key", key, "--rekor-url", "http://127.0.0.1:1", "--rekor-version", "3", "h/r:v"}, "--rekor-version is 1 or 2"},
		{"signing config and urls", []string{"attest", "--key", key, "--signing-config", "sc.json", "--rekor-url", "http://127.0.0.1:1", "h/r:v"}, "exclude each other"},
		{"predicate without type", []string{"attest", "--key", key, "--predicate", "p.json", "h/r:v"}, "--predicate and --type go together"},
		{"public key to sign", []string{"attest", "--key", key, "h/r:v"}, "key " + key},
		{"copy one argument", []string{"copy", "h/r:v"}, "want 2 argument(s), got 1"},
		{"key without generate", []string{"key", "list"}, "provctl key generate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := mustRun(t, 2, env, tc.args...)
			if tc.args == nil {
				assert.True(t, strings.HasPrefix(r.stderr, tc.want), r.stderr)
				return
			}
			// The error is the last line, after the flags' help when a flag was wrong.
			lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
			last := lines[len(lines)-1]
			assert.True(t, strings.HasPrefix(last, "provctl: "), r.stderr)
			assert.Contains(t, last, tc.want)
			assert.Equal(t, 1, strings.Count(r.stderr, "provctl: "), "the error is printed once: %q", r.stderr)
		})
	}
}

func TestWrongPassword(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, 0, map[string]string{"PROVKIT_PASSWORD": "right"}, "key", "generate", "--out", filepath.Join(dir, "k"))
	// PROVKIT_PASSWORD wins over COSIGN_PASSWORD; COSIGN_PASSWORD is read when it is unset.
	r := mustRun(t, 2, map[string]string{"PROVKIT_PASSWORD": "wrong", "COSIGN_PASSWORD": "right"}, "attest", "--key", filepath.Join(dir, "k.key"), "h/r:v")
	assert.Contains(t, r.stderr, "wrong password")
	r = mustRun(t, 2, map[string]string{"COSIGN_PASSWORD": "right"}, "attest", "--key", filepath.Join(dir, "k.key"), "--oci-layout", filepath.Join(dir, "missing")+":v1")
	assert.Contains(t, r.stderr, "is not an OCI layout")
	assert.NoDirExists(t, filepath.Join(dir, "missing"), "attest makes no layout where there was none")
}

func TestParseReference(t *testing.T) {
	for _, tc := range []struct {
		in     string
		layout bool
		name   string
		ref    string
	}{
		{"localhost:5000/team/app:v1", false, "localhost:5000/team/app", "v1"},
		{"localhost:5000/team/app", false, "localhost:5000/team/app", "latest"},
		{"reg.example/app@sha256:" + strings.Repeat("a", 64), false, "reg.example/app", "sha256:" + strings.Repeat("a", 64)},
		{"/tmp/pack:v2", true, "/tmp/pack", "v2"},
		{"./pack", true, "./pack", "latest"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			r, err := parseReference(tc.in, tc.layout)
			require.NoError(t, err)
			assert.Equal(t, tc.name, r.name)
			assert.Equal(t, tc.ref, r.ref())
		})
	}
}

// TestTimeoutFlag: --timeout before the command bounds the run; a bad value is a usage error.
func TestTimeoutFlag(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(t.Context(), []string{"--timeout", "nonsense", "help"}, &out, &errOut, nil); code != exitUnchecked {
		t.Fatalf("bad --timeout: exit %d (%s), want %d", code, errOut.String(), exitUnchecked)
	}
	if code := run(t.Context(), []string{"--timeout=1m", "help"}, &out, &errOut, nil); code != exitOK {
		t.Fatalf("--timeout=1m help: exit %d (%s)", code, errOut.String())
	}
}

// TestPlainHTTPLoopbackOnly: --plain-http is refused, before any request, for a registry off
// loopback, as its help says.
func TestPlainHTTPLoopbackOnly(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run(t.Context(), []string{"discover", "--plain-http", "registry.example:5000/app:v1"}, &out, &errOut, nil)
	if code != exitUnchecked || !strings.Contains(errOut.String(), "loopback") {
		t.Fatalf("exit %d (%s), want %d naming loopback", code, errOut.String(), exitUnchecked)
	}
}
