package main

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/provkit/provkit/internal/testenv"
	"github.com/provkit/provkit/oras"
)

// TestTag builds a release tag from SOURCE_DATE_EPOCH and reads it back, and refuses what the
// scheme does not allow.
func TestTag(t *testing.T) {
	env := map[string]string{"SOURCE_DATE_EPOCH": "1796601600"} // 2026-12-07T00:00:00Z
	r := mustRun(t, exitOK, env, "tag", "--version", "1.4.2", "--commit", "abc1234def5678abc1234def5678abc1234def56")
	require.Equal(t, "1.4.2-20261207.abc1234\nrelease type  stable\n"+
		"org.opencontainers.image.created=2026-12-07T00:00:00Z\n"+
		"org.opencontainers.image.revision=abc1234\n"+
		"org.opencontainers.image.version=1.4.2\n", r.stdout)

	r = mustRun(t, exitOK, nil, "tag", "--parse", "2.0.0-rc.1-20261206.0a1b2c3", "--output", "json")
	var got struct {
		Tag, Version, Date, Commit string
		ReleaseType                string `json:"releaseType"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &got))
	require.Equal(t, "2.0.0-rc.1", got.Version)
	require.Equal(t, "2026-12-06", got.Date)
	require.Equal(t, "rc", got.ReleaseType)

	mustRun(t, exitUnchecked, nil, "tag", "--version", "1.4.2", "--commit", "abc1234") // no SOURCE_DATE_EPOCH
	mustRun(t, exitUnchecked, env, "tag", "--version", "v1.4.2", "--commit", "abc1234")
	mustRun(t, exitUnchecked, nil, "tag", "--parse", "1.4.2-20261306.abc1234")
	mustRun(t, exitUnchecked, nil, "tag", "--parse", "x", "--version", "1.0.0")
}

// TestTagCheck records where a release tag of an OCI layout points, and exits 1, naming both
// digests, once the tag was moved to another image.
func TestTagCheck(t *testing.T) {
	dir := t.TempDir()
	layout := filepath.Join(dir, "layout")
	store, err := oras.NewLayout(t.Context(), layout)
	require.NoError(t, err)
	const tag = "1.4.2-20261207.abc1234"
	first := testenv.PushImage(t, store.Target(), tag, "api 1.4.2\n")
	db := filepath.Join(dir, "index.db")
	check := func(want int) result {
		return mustRun(t, want, nil, "tag", "check", "--index", db, "--oci-layout", layout+":"+tag)
	}
	require.Contains(t, check(exitOK).stdout, first.Digest.String())
	check(exitOK)

	moved := testenv.PushImage(t, store.Target(), tag, "api 1.4.2, rebuilt\n")
	r := check(exitDenied)
	require.Contains(t, r.stderr, "moved")
	require.Contains(t, r.stderr, first.Digest.String())
	require.Contains(t, r.stderr, moved.Digest.String())

	mustRun(t, exitUnchecked, nil, "tag", "check", "--oci-layout", layout+":"+tag)                                  // no --index
	mustRun(t, exitUnchecked, nil, "tag", "check", "--index", db, "--oci-layout", layout+"@"+moved.Digest.String()) // no tag
}
