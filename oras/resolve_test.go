package oras_test

import (
	"errors"
	"github.com/provkit/provkit/internal/testenv"
	"testing"

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
