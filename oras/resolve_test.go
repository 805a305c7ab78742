package oras_test

import (
	"context"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/provkit/provkit/internal/testenv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/opencontainers/go-digest"
	"github.com/provkit/provkit/internal/storetest"
	provoras "github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/provenance"
)

func TestResolveAndDrift(t *testing.T) {
	ctx := t.Context()
	s := remoteStore(t, testenv.OlaregServer(t), "drift/img")
	first := pushImage(t, s.Target(), "first", "latest")
	got, err := s.Resolve(ctx, "latest")
	if err != nil || got.Digest != first.Digest {
		t.Fatalf("Resolve(latest) = %s, %v; want %s", got.Digest, err, first.Digest)
	}
	if _, err := s.CheckDrift(ctx, "latest", first.Digest); err != nil {
		t.Fatalf("CheckDrift before the tag moved: %v", err)
	}
	second := pushImage(t, s.Target(), "second", "latest")
	cur, err := s.CheckDrift(ctx, "latest", first.Digest)
	var de *provoras.DriftError
	if !errors.Is(err, provoras.ErrDrift) || !errors.As(err, &de) {
		t.Fatalf("CheckDrift after the tag moved: %v, want a *DriftError", err)
	}
	if de.Recorded != first.Digest || de.Current != second.Digest || cur.Digest != second.Digest {
		t.Fatalf("DriftError = %+v, descriptor %s", de, cur.Digest)
	}
	tests := []struct {
		name string
		ref  string
		rec  digest.Digest
		want error
	}{
		{"UnknownTag", "nope", first.Digest, provenance.ErrNotFound},
		{"EmptyTag", "", first.Digest, provoras.ErrInvalidInput},
		{"BadDigest", "latest", "sha256:zz", provoras.ErrInvalidInput},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := s.CheckDrift(ctx, tc.ref, tc.rec); !errors.Is(err, tc.want) {
				t.Fatalf("CheckDrift(%q) = %v, want %v", tc.ref, err, tc.want)
			}
		})
	}
}

// TestCopyEvidencePack copies an image with attestations, a nested signature and cosign's
// legacy tags from a registry without the referrers API into an OCI layout, then reads
// everything back from the layout alone, and promotes it on to a registry with the API.
func TestCopyEvidencePack(t *testing.T) {
	ctx := t.Context()
	src := remoteStore(t, testenv.GGCRServer(t), "copy/src", provoras.WithClock(fixedClock))
	subject := pushImage(t, src.Target(), "app", "v1")
	pushCosignLegacy(t, src.Target(), subject)
	att, err := src.Attach(ctx, subject, storetest.Bundle(provenance.MediaTypeBundleV03, provenance.PredicateSLSAProvenanceV1, 1))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Attach(ctx, att, storetest.Bundle("application/vnd.example.signature+json", "", 2)); err != nil {
		t.Fatal(err)
	}
	before, err := src.Discover(ctx, subject, provoras.Query{})
	if err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	pack, err := provoras.NewLayout(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := provoras.Copy(ctx, src, "v1", pack, ""); err != nil {
		t.Fatalf("Copy to layout: %v", err)
	}
	// Reopen the directory: nothing but the files.
	offline, err := provoras.NewLayout(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	dst := remoteStore(t, testenv.OlaregServer(t), "copy/dst")
	if _, err := provoras.Copy(ctx, offline, "v1", dst, "v1"); err != nil {
		t.Fatalf("Copy to registry: %v", err)
	}
	for _, tc := range []struct {
		name string
		s    *provoras.Store
	}{{"layout", offline}, {"registry", dst}} {
		t.Run(tc.name, func(t *testing.T) {
			desc, err := tc.s.Resolve(ctx, "v1")
			if err != nil || desc.Digest != subject.Digest {
				t.Fatalf("Resolve(v1) = %s, %v", desc.Digest, err)
			}
			after, err := tc.s.Discover(ctx, desc, provoras.Query{})
			if err != nil {
				t.Fatal(err)
			}
			if len(after) != len(before) {
				t.Fatalf("found %d attestations after the copy, %d before", len(after), len(before))
			}
			if _, err := tc.s.FetchAll(ctx, after); err != nil {
				t.Fatalf("FetchAll: %v", err)
			}
		})
	}
}

// TestResolveAll resolves one tag in a memory store, an OCI layout and a registry, where the
// layout does not have it.
func TestResolveAll(t *testing.T) {
	ctx := t.Context()
	stores := map[string]*provoras.Store{}
	for _, ns := range everyStore(t, "envs/app") {
		stores[ns.name] = ns.s
	}
	staging := testenv.PushImage(t, stores["memory"].Target(), "v1", "staging build")
	prod := testenv.PushImage(t, stores["olareg"].Target(), "v1", "production build")
	testenv.PushImage(t, stores["layout"].Target(), "v0", "old build")

	got, err := provoras.ResolveAll(ctx, "v1", stores)
	require.NoError(t, err)
	require.Len(t, got, 2, "the layout has no v1 and is left out")
	assert.Equal(t, staging.Digest, got["memory"].Digest)
	assert.Equal(t, prod.Digest, got["olareg"].Digest)
	_, inLayout := got["layout"]
	assert.False(t, inLayout)

	byDigest, err := provoras.ResolveAll(ctx, prod.Digest.String(), stores)
	require.NoError(t, err)
	assert.Equal(t, []string{"olareg"}, slices.Collect(maps.Keys(byDigest)))

	none, err := provoras.ResolveAll(ctx, "v9", stores)
	require.NoError(t, err)
	assert.Empty(t, none)

	t.Run("FailureNamesTheEnvironment", func(t *testing.T) {
		bad, err := provoras.NewMemory()
		require.NoError(t, err)
		blob := pushRaw(t, bad.Target(), "application/octet-stream", []byte("not a manifest"))
		require.NoError(t, bad.Target().Tag(ctx, blob, "v1"))
		_, err = provoras.ResolveAll(ctx, "v1", map[string]*provoras.Store{"memory": stores["memory"], "broken": bad})
		var ee *provoras.EnvironmentError
		require.ErrorAs(t, err, &ee)
		assert.Equal(t, "broken", ee.Environment)
		require.ErrorIs(t, err, provoras.ErrInvalidInput)
		assert.Contains(t, err.Error(), `"broken"`)
	})
	t.Run("Inputs", func(t *testing.T) {
		_, err := provoras.ResolveAll(ctx, "", stores)
		require.ErrorIs(t, err, provoras.ErrInvalidInput)
		_, err = provoras.ResolveAll(ctx, "v1", map[string]*provoras.Store{"nil": nil})
		require.ErrorIs(t, err, provoras.ErrInvalidInput)
		got, err := provoras.ResolveAll(ctx, "v1", nil)
		require.NoError(t, err)
		assert.Empty(t, got)
	})
	t.Run("Cancelled", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err := provoras.ResolveAll(cctx, "v1", map[string]*provoras.Store{"olareg": stores["olareg"]})
		require.ErrorIs(t, err, context.Canceled)
	})
}

// TestResolveBlobDigest resolves the digest of a file's blob: no manifest has it, on any store.
func TestResolveBlobDigest(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data.csv")
	if err := os.WriteFile(path, []byte("a,b\n1,2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	stores := map[string]*provoras.Store{"olareg": remoteStore(t, testenv.OlaregServer(t), "resolve/blob")}
	var err error
	if stores["memory"], err = provoras.NewMemory(); err != nil {
		t.Fatal(err)
	}
	if stores["layout"], err = provoras.NewLayout(t.Context(), t.TempDir()); err != nil {
		t.Fatal(err)
	}
	for name, s := range stores {
		t.Run(name, func(t *testing.T) {
			manifest, file, err := s.PushFile(t.Context(), path, "data")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Resolve(t.Context(), file.Digest.String()); !errors.Is(err, provenance.ErrNotFound) {
				t.Fatalf("Resolve(blob %s) = %v, want ErrNotFound", file.Digest, err)
			}
			if got, err := s.Resolve(t.Context(), "data"); err != nil || got.Digest != manifest.Digest {
				t.Fatalf("Resolve(manifest) = %v, %v", got.Digest, err)
			}
		})
	}
}
