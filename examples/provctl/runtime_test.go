package main

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/provkit/provkit/internal/testenv"
	"github.com/provkit/provkit/oras"
)

// TestRuntimeCommands collects this machine's runtime facts about an image in an OCI layout,
// bound to a quote by a software TPM's enrolled attestation key, and checks them: they pass
// the build and the requirements; a sysctl required at another value, a PCR required at
// another value, newer facts without a quote and facts signed by a key not entitled to are
// each reported as a deviation with exit status 1.
func TestRuntimeCommands(t *testing.T) {
	dir := t.TempDir()
	at := func(name string) string { return filepath.Join(dir, name) }
	store, err := oras.NewLayout(t.Context(), at("pack"))
	require.NoError(t, err)
	env := map[string]string{envPassword: "", "HOME": dir}
	for _, k := range []string{"build", "node", "stranger"} {
		mustRun(t, exitOK, env, "key", "generate", "--out", at(k))
	}
	testenv.PushImage(t, store.Target(), "app", "app 1.0\n")
	ref := at("pack") + ":app"
	pred := at("pred.json")
	require.NoError(t, os.WriteFile(pred, []byte(`{"buildDefinition":{"buildType":"https://provkit.dev/build/v1","externalParameters":{"source":"git+https://git.example/app"}},"runDetails":{"builder":{"id":"https://ci.example/release"}}}`), 0o644))
	mustRun(t, exitOK, env, "attest", "--key", at("build.key"), "--predicate", pred, "--type", "slsaprovenance1", "--oci-layout", ref)

	sw := testenv.StartSWTPM(t)
	r := mustRun(t, exitOK, env, "runtime", "enrol", "--tpm", sw.Addr, "--out", at("node-tpm"))
	require.Equal(t, at("node-tpm")+".ak\n"+at("node-tpm")+".ak.pub\n", r.stdout)
	mustRun(t, exitUnchecked, env, "runtime", "enrol", "--tpm", sw.Addr, "--out", at("node-tpm")) // never overwrites an enrolment

	root := filepath.Join("..", "..", "provenance", "runtime", "testdata", "debian")
	r = mustRun(t, exitOK, env, "runtime", "collect", "--key", at("node.key"), "--root", root, "--sysctl", "kernel.randomize_va_space",
		"--tpm", sw.Addr, "--tpm-ak", at("node-tpm"), "--pcrs", "0,7", "--oci-layout", ref)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	require.Len(t, lines, 2, r.stdout)
	require.True(t, strings.HasPrefix(lines[0], "facts  sha256:"), r.stdout)
	require.Contains(t, lines[0], " 4 packages")
	require.True(t, strings.HasPrefix(lines[1], "quote  sha256:"), r.stdout)

	aslr, err := os.ReadFile("/proc/sys/kernel/randomize_va_space")
	require.NoError(t, err)
	check := []string{"runtime", "check", "--key", at("build.pub"), "--runtime-key", at("node.pub"), "--insecure-ignore-tlog", "--oci-layout",
		"--tpm-ak", at("node-tpm")}
	r = mustRun(t, exitOK, env, append(check, "--sysctl", "kernel.randomize_va_space="+strings.TrimSpace(string(aslr)), "--pcr", "7="+strings.Repeat("00", 32), ref)...)
	require.Contains(t, r.stdout, "bound to a verified TPM quote: matches what was built and required")

	r = mustRun(t, exitDenied, env, append(check, "--sysctl", "kernel.randomize_va_space=99", "--pcr", "0="+hex.EncodeToString(make([]byte, 31))+"01", "--output", "json", ref)...)
	var report runtimeReport
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &report))
	require.True(t, report.Quoted)
	require.Len(t, report.Deviations, 2, r.stdout)
	require.Equal(t, "sysctl", string(report.Deviations[0].Kind))
	require.Equal(t, "tpm.pcr.0", report.Deviations[1].Fact)

	// Newer facts without a quote: the quote binds the older statement only.
	mustRun(t, exitOK, env, "runtime", "collect", "--key", at("node.key"), "--root", root, "--oci-layout", ref)
	r = mustRun(t, exitDenied, env, append(check, ref)...)
	require.Contains(t, r.stdout, "hardware  tpm.quote: no verified TPM quote binds the runtime facts")
	mustRun(t, exitOK, env, "runtime", "check", "--key", at("build.pub"), "--runtime-key", at("node.pub"), "--insecure-ignore-tlog", "--oci-layout", ref)

	// Facts only a stranger signed are no facts.
	mustRun(t, exitOK, env, "runtime", "collect", "--key", at("stranger.key"), "--root", root, "--oci-layout", at("pack")+":app")
	r = mustRun(t, exitDenied, env, "runtime", "check", "--key", at("build.pub"), "--runtime-key", at("stranger.pub"), "--insecure-ignore-tlog", "--oci-layout",
		"--max-age", "1ns", ref)
	require.Contains(t, r.stdout, "facts     collectedAt")

	mustRun(t, exitUnchecked, env, "runtime", "check", "--key", at("build.pub"), "--oci-layout", ref)
	mustRun(t, exitUnchecked, env, append(check, "--pcr", "7=zz", ref)...)
	mustRun(t, exitUnchecked, env, "runtime", "collect", "--key", at("node.key"), "--tpm", sw.Addr, "--oci-layout", ref)
}
