package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/require"

	"github.com/provkit/provkit/internal/testenv"
	"github.com/provkit/provkit/oras"
)

// TestRotateCommand rotates the attestations of an image in an OCI layout from the old key to
// the new one: the first run re-signs, a second run skips, verify then passes with the new key
// alone, the old attestation is still attached and the new one names it, and the audit log
// holds one "resigned" event. An attestation by a key not given with --key is reported as
// failed and not re-signed, with exit status 1; bad usage exits 2.
func TestRotateCommand(t *testing.T) {
	dir := t.TempDir()
	at := func(name string) string { return filepath.Join(dir, name) }
	store, err := oras.NewLayout(t.Context(), at("pack"))
	require.NoError(t, err)
	env := map[string]string{envPassword: "", "HOME": dir}
	for _, k := range []string{"old", "new", "stranger"} {
		mustRun(t, exitOK, env, "key", "generate", "--out", at(k))
	}
	mustRun(t, exitOK, env, "audit", "keygen", "--origin", "audit.rotate.test", "--out", at("log"))
	image := testenv.PushImage(t, store.Target(), "app", "app 1.0\n")
	pred := at("pred.json")
	require.NoError(t, os.WriteFile(pred, []byte(`{"buildDefinition":{"buildType":"https://provkit.dev/build/v1","externalParameters":{"source":"git+https://git.example/app"}},"runDetails":{"builder":{"id":"https://ci.example/release"}}}`), 0o644))
	ref := at("pack") + ":app"
	oldManifest := strings.TrimSpace(mustRun(t, exitOK, env, "attest", "--key", at("old.key"), "--predicate", pred, "--type", "slsaprovenance1", "--oci-layout", ref).stdout)

	rotate := []string{"rotate", "--key", at("old.pub"), "--new-key", at("new.key"), "--insecure-ignore-tlog", "--oci-layout",
		"--decided-by", "security@example.com", "--reason", "old key retired",
		"--audit-log", at("L"), "--audit-log-key", at("log.note.key"), "--audit-key", at("new.key"), ref}
	r := mustRun(t, exitOK, env, rotate...)
	m := regexp.MustCompile(`(?m)^re-signed  ` + regexp.QuoteMeta(ref) + `  ` + regexp.QuoteMeta(oldManifest) +
		`  https://slsa.dev/provenance/v1 signed by key \S+  ->  (sha256:[0-9a-f]{64})$`).FindStringSubmatch(r.stdout)
	require.NotNil(t, m, r.stdout)
	newManifest := digest.Digest(m[1])
	require.Equal(t, 1, strings.Count(r.stdout, "\n"), r.stdout)

	r = mustRun(t, exitOK, env, rotate...)
	require.Equal(t, "skipped    "+ref+"  "+oldManifest+"  already re-signed as "+newManifest.String()+"\n", r.stdout)

	// The new key alone now verifies the image; the old attestation stays, and the new one names it.
	mustRun(t, exitOK, env, "verify", "--key", at("new.pub"), "--insecure-ignore-tlog", "--oci-layout", ref)
	refs, err := store.Referrers(t.Context(), image, "")
	require.NoError(t, err)
	require.Len(t, refs, 2)
	old, err := store.Fetch(t.Context(), refs[indexOf(t, refs, digest.Digest(oldManifest))])
	require.NoError(t, err)
	replacement, err := store.Fetch(t.Context(), refs[indexOf(t, refs, newManifest)])
	require.NoError(t, err)
	require.Equal(t, old.Digest(), replacement.Replaces)

	r = mustRun(t, exitOK, env, "audit", "show", "--log", at("L"), "--log-pub", at("log.note.pub"), "--key", at("new.pub"))
	require.Equal(t, 1, strings.Count(r.stdout, "  resigned  "), r.stdout)

	// An attestation the old key did not sign is not re-signed: exit 1, the evidence says no.
	mustRun(t, exitOK, env, "attest", "--key", at("stranger.key"), "--predicate", pred, "--type", "slsaprovenance1", "--oci-layout", ref)
	r = mustRun(t, exitDenied, env, rotate...)
	require.Contains(t, r.stdout, "skipped    "+ref+"  "+oldManifest)
	require.Regexp(t, `(?m)^failed     `+regexp.QuoteMeta(ref)+`  sha256:[0-9a-f]{64}  verify: `, r.stdout)
	require.Contains(t, r.stderr, "1 of 2 attestations did not verify")
	refs, err = store.Referrers(t.Context(), image, "")
	require.NoError(t, err)
	require.Len(t, refs, 3, "nothing more attached")

	// Bad usage: exit 2.
	mustRun(t, exitUnchecked, env, "rotate", "--key", at("old.pub"), "--oci-layout", ref)
	mustRun(t, exitUnchecked, env, "rotate", "--key", at("old.pub"), "--new-key", at("old.key"), "--oci-layout", ref)
	mustRun(t, exitUnchecked, env, "rotate", "--new-key", at("new.key"), "--oci-layout", ref)
}

// indexOf returns the index of the descriptor of d in refs, failing the test when there is none.
func indexOf(t *testing.T, refs []ocispec.Descriptor, d digest.Digest) int {
	t.Helper()
	i := slices.IndexFunc(refs, func(r ocispec.Descriptor) bool { return r.Digest == d })
	require.GreaterOrEqual(t, i, 0, "%s not attached", d)
	return i
}
