package main

import (
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/provkit/provkit/internal/testenv"
	"github.com/provkit/provkit/oras"
)

// signedPayloads returns the DSSE payloads of every bundle stored in an OCI layout: the statement
// bytes as signed.
func signedPayloads(t *testing.T, layout string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(filepath.Join(layout, "blobs"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var bundle struct {
			DSSEEnvelope struct {
				Payload []byte `json:"payload"`
			} `json:"dsseEnvelope"`
		}
		if json.Unmarshal(data, &bundle) == nil && len(bundle.DSSEEnvelope.Payload) > 0 {
			b.Write(bundle.DSSEEnvelope.Payload)
			b.WriteByte('\n')
		}
		return nil
	})
	require.NoError(t, err)
	return b.String()
}

// TestAttestRecordsOnlyAllowedEnvironment signs generated provenance in a CI environment full of
// secrets: the signed statement holds the platform's documented variables and the one asked for
// with --env, lists the secret ones asked for by name, and holds no secret value.
func TestAttestRecordsOnlyAllowedEnvironment(t *testing.T) {
	dir := t.TempDir()
	layout := filepath.Join(dir, "pack")
	store, err := oras.NewLayout(context.Background(), layout)
	require.NoError(t, err)
	testenv.PushImage(t, store.Target(), "app", "app v1\n")

	env := map[string]string{"PROVKIT_PASSWORD": "", "HOME": dir}
	mustRun(t, 0, env, "key", "generate", "--out", filepath.Join(dir, "release"))
	secrets := map[string]string{
		"DB_PASS":               "hunter2-dbpass",
		"MYSQL_PWD":             "hunter2-mysqlpwd",
		"RABBITMQ_DEFAULT_PASS": "hunter2-rabbit",
		"SSHPASS":               "hunter2-sshpass",
		"SONAR_LOGIN":           "sqp_9f86d081884c7d659a2feaa0c55ad015a3bf4f1b",
		"GITHUB_TOKEN":          "ghs_R7eXq2LmZ9pT4vW1sK8dN3bF6hJ0cYaU5gQi",
		"DEPLOY_HOOK":           "https://discord.com/api/webhooks/123456789012345678/hookS3cretPart",
		"APP_CONFIG":            `{"db":{"password":"Json-s3cret"}}`,
	}
	for k, v := range secrets {
		env[k] = v
	}
	env["GITHUB_ACTIONS"] = "true"
	env["GITHUB_REPOSITORY"] = "team/app"
	env["GITHUB_RUN_ID"] = "42"
	env["BUILD_NOTE"] = "nightly"

	mustRun(t, 0, env, "attest", "--key", filepath.Join(dir, "release.key"), "--source", dir,
		"--env", "BUILD_NOTE", "--env", "DB_PASS", "--env", "APP_CONFIG", "--oci-layout", layout+":app")
	signed := signedPayloads(t, layout)
	require.NotEmpty(t, signed)
	for name, v := range secrets {
		assert.NotContains(t, signed, v, "%s reached the signed statement", name)
	}
	for _, part := range []string{"hunter2", "hookS3cretPart", "Json-s3cret"} {
		assert.NotContains(t, signed, part)
	}
	assert.Contains(t, signed, `"BUILD_NOTE":"nightly"`)
	assert.Contains(t, signed, `"GITHUB_RUN_ID":"42"`)
	assert.Contains(t, signed, `"redactedEnvironment":["APP_CONFIG","DB_PASS"]`)
	assert.NotContains(t, signed, "SSHPASS", "a variable neither the platform's nor asked for is not even named")
}

func TestAttestEnvFlagErrors(t *testing.T) {
	env := map[string]string{"PROVKIT_PASSWORD": ""}
	r := mustRun(t, 2, env, "attest", "--key", "k.key", "--env", "A=B", "h/r:v")
	assert.Contains(t, r.stderr, `"A=B" is not a variable name`)
	r = mustRun(t, 2, env, "attest", "--key", "k.key", "--env", "A", "--predicate", "p.json", "--type", "spdxjson", "h/r:v")
	assert.Contains(t, r.stderr, "--env applies to generated provenance")
}
