package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/provkit/provkit/internal/testenv"
	"github.com/provkit/provkit/oras"
)

// TestSweepCommand marks the images a policy denies deprecated, in an OCI layout, and
// lifecycle show then reads the status; an allowed image is left alone, a second sweep marks
// nothing new, and the audit log holds one event per status.
func TestSweepCommand(t *testing.T) {
	dir := t.TempDir()
	at := func(name string) string { return filepath.Join(dir, name) }
	store, err := oras.NewLayout(t.Context(), at("pack"))
	require.NoError(t, err)
	env := map[string]string{envPassword: "", "HOME": dir}
	mustRun(t, exitOK, env, "key", "generate", "--out", at("build"))
	mustRun(t, exitOK, env, "key", "generate", "--out", at("managers"))
	mustRun(t, exitOK, env, "audit", "keygen", "--origin", "audit.sweep.test", "--out", at("log"))
	testenv.PushImage(t, store.Target(), "good", "good\n")
	testenv.PushImage(t, store.Target(), "stale", "stale\n")
	pred := filepath.Join(dir, "pred.json")
	require.NoError(t, os.WriteFile(pred, []byte(`{"buildDefinition":{"buildType":"https://provkit.dev/build/v1","externalParameters":{"source":"git+https://git.example/app"}},"runDetails":{"builder":{"id":"https://ci.example/release"}}}`), 0o644))
	old := filepath.Join(dir, "old.json")
	require.NoError(t, os.WriteFile(old, []byte(`{"buildDefinition":{"buildType":"https://provkit.dev/build/v1","externalParameters":{"source":"git+https://git.example/app"}},"runDetails":{"builder":{"id":"https://ci.example/old"}}}`), 0o644))
	mustRun(t, exitOK, env, "attest", "--key", at("build.key"), "--predicate", pred, "--type", "slsaprovenance1", "--oci-layout", at("pack")+":good")
	mustRun(t, exitOK, env, "attest", "--key", at("build.key"), "--predicate", old, "--type", "slsaprovenance1", "--oci-layout", at("pack")+":stale")
	policyFile := filepath.Join(dir, "policy.yaml")
	require.NoError(t, os.WriteFile(policyFile, []byte(`apiVersion: provkit.dev/policy/v1
kind: Policy
metadata: {name: release}
rules:
  - name: built-by-release
    slsa: {builders: [{id: "https://ci.example/release"}]}
`), 0o644))

	sweep := []string{"sweep", "--key", at("build.pub"), "--insecure-ignore-tlog", "--policy", policyFile, "--status-key", at("managers.key"),
		"--decided-by", "release-managers@example.com", "--oci-layout",
		"--audit-log", at("L"), "--audit-log-key", at("log.note.key"), "--audit-key", at("managers.key"),
		at("pack") + ":good", at("pack") + ":stale"}
	r := mustRun(t, exitOK, env, sweep...)
	require.Contains(t, r.stdout, "allowed  "+at("pack")+":good")
	require.Contains(t, r.stdout, "marked   "+at("pack")+":stale")
	r = mustRun(t, exitOK, env, sweep...)
	require.Contains(t, r.stdout, "already  "+at("pack")+":stale")

	r = mustRun(t, exitOK, env, "lifecycle", "show", "--oci-layout", "--key", at("managers.pub"), at("pack")+":stale")
	require.Contains(t, r.stdout, "  deprecated\n")
	require.Contains(t, r.stdout, "reason: policy: denied")

	r = mustRun(t, exitOK, env, "audit", "show", "--log", at("L"), "--log-pub", at("log.note.pub"), "--key", at("managers.pub"))
	require.Equal(t, 1, strings.Count(r.stdout, "  deprecated  "), r.stdout)

	mustRun(t, exitUnchecked, env, "sweep", "--key", at("build.pub"), "--policy", policyFile, "--status-key", at("managers.key"),
		"--decided-by", "x", "--state", "revoked", "--oci-layout", at("pack")+":stale")
}
