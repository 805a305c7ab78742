package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/require"

	"github.com/provkit/provkit/internal/testenv"
	"github.com/provkit/provkit/oras"
)

// TestLifecycleCommands sets statuses on an image in an OCI layout and shows the one in effect:
// only the statuses of the keys given count, the successor must exist, and a bad state or time
// is a usage error.
func TestLifecycleCommands(t *testing.T) {
	dir := t.TempDir()
	at := func(name string) string { return filepath.Join(dir, name) }
	store, err := oras.NewLayout(t.Context(), at("pack"))
	require.NoError(t, err)
	image := testenv.PushImage(t, store.Target(), "v1", "api 1.4.2\n")
	next := testenv.PushImage(t, store.Target(), "v2", "api 1.5.0\n")
	env := map[string]string{envPassword: "", "HOME": dir}
	mustRun(t, exitOK, env, "key", "generate", "--out", at("managers"))
	mustRun(t, exitOK, env, "key", "generate", "--out", at("intern"))
	ref := at("pack") + ":v1"

	set := func(want int, key string, more ...string) result {
		return mustRun(t, want, env, append(append([]string{"lifecycle", "set", "--oci-layout", "--key", key, "--decided-by", "release@example.com"}, more...), ref)...)
	}
	set(exitOK, at("managers.key"), "--state", "deprecated", "--reason", "base image end of life", "--successor", next.Digest.String(), "--effective", "2026-12-01T00:00:00Z")
	set(exitOK, at("intern.key"), "--state", "active", "--effective", "2026-12-03T00:00:00Z")

	show := func(keys []string, more ...string) map[string]any {
		args := []string{"lifecycle", "show", "--oci-layout", "--output", "json"}
		for _, k := range keys {
			args = append(args, "--key", k)
		}
		r := mustRun(t, exitOK, env, append(append(args, more...), ref)...)
		var doc map[string]any
		require.NoError(t, json.Unmarshal([]byte(r.stdout), &doc))
		return doc
	}
	doc := show([]string{at("managers.pub")})
	require.Equal(t, "deprecated", doc["state"])
	require.Equal(t, next.Digest.String(), doc["status"].(map[string]any)["successor"])
	require.Len(t, doc["setAside"], 1, "the intern's status, by a key not given")

	require.Equal(t, "active", show([]string{at("managers.pub"), at("intern.pub")})["state"], "both entitled: the later status wins")
	require.Equal(t, "active", show([]string{at("managers.pub")}, "--at", "2026-11-30T00:00:00Z")["state"], "before the deprecation")

	r := mustRun(t, exitOK, env, "lifecycle", "show", "--oci-layout", "--key", at("managers.pub"), ref)
	require.True(t, strings.HasPrefix(r.stdout, image.Digest.String()+"  deprecated\n"), r.stdout)
	require.Contains(t, r.stdout, "successor: "+next.Digest.String())

	set(exitUnchecked, at("managers.key"), "--state", "retired", "--reason", "r", "--successor", digest.FromString("nowhere").String())
	set(exitUnchecked, at("managers.key"), "--state", "sunset", "--reason", "r")
	set(exitUnchecked, at("managers.key"), "--state", "retired", "--reason", "r", "--effective", "tomorrow")
	set(exitUnchecked, at("managers.key"), "--state", "retired")
	mustRun(t, exitUnchecked, env, "lifecycle", "show", "--oci-layout", ref)
}
