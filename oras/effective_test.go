package oras_test

import (
	"bytes"
	"errors"
	"strconv"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/provkit/provkit/internal/storetest"
	provoras "github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/provenance"
	orasgo "oras.land/oras-go/v2"
)

// TestEffectiveRoundTrip attaches a bundle with an effective time and one without: the first
// manifest carries AnnotationBundleEffective in UTC, the listing shows it, and Fetch and
// FetchAttestation give Effective back; the second carries none and reads back zero.
func TestEffectiveRoundTrip(t *testing.T) {
	when := time.Date(2026, 12, 7, 9, 30, 0, 123456789, time.FixedZone("CET", 3600))
	for _, be := range replacesBackends {
		t.Run(be.name, func(t *testing.T) {
			ctx := t.Context()
			s := be.open(t)
			subject := pushImage(t, s.Target(), "img", "v1")
			timed := storetest.Bundle(provenance.MediaTypeBundleV03, provenance.PredicateSLSAProvenanceV1, 1)
			timed.Effective = when
			untimed := storetest.Bundle(provenance.MediaTypeBundleV03, provenance.PredicateSLSAProvenanceV1, 2)
			timedDesc, err := s.Attach(ctx, subject, timed)
			if err != nil {
				t.Fatal(err)
			}
			if got := timedDesc.Annotations[provoras.AnnotationBundleEffective]; got != "2026-12-07T08:30:00.123456789Z" {
				t.Fatalf("annotation %s = %q, want the time in UTC with nanoseconds", provoras.AnnotationBundleEffective, got)
			}
			untimedDesc, err := s.Attach(ctx, subject, untimed)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := untimedDesc.Annotations[provoras.AnnotationBundleEffective]; ok {
				t.Fatalf("a bundle with no effective time carries %s", provoras.AnnotationBundleEffective)
			}
			want := map[string]time.Time{string(timed.Digest()): when, string(untimed.Digest()): {}}
			for _, desc := range []ocispec.Descriptor{timedDesc, untimedDesc} {
				b, err := s.Fetch(ctx, desc)
				if err != nil || !b.Effective.Equal(want[string(b.Digest())]) {
					t.Errorf("Fetch(%s).Effective = %v, %v; want %v", desc.Digest, b.Effective, err, want[string(b.Digest())])
				}
			}
			found, err := s.Discover(ctx, subject, provoras.Query{SkipNested: true, SkipLegacyTags: true})
			if err != nil || len(found) != 2 {
				t.Fatalf("Discover = %v, %v; want both attestations", found, err)
			}
			for _, a := range found {
				listed, err := provoras.EffectiveTime(a.Manifest)
				if err != nil {
					t.Fatal(err)
				}
				b, err := s.FetchAttestation(ctx, a)
				if err != nil || !b.Effective.Equal(want[string(b.Digest())]) || !listed.Equal(b.Effective) {
					t.Errorf("FetchAttestation(%s).Effective = %v (listed %v), %v; want %v", a.Manifest.Digest, b.Effective, listed, err, want[string(b.Digest())])
				}
			}
		})
	}
}

// TestEffectiveMalformedAnnotation: an attestation whose AnnotationBundleEffective is not a
// time stays readable with no Effective, and EffectiveTime reports a *MalformedError naming it.
func TestEffectiveMalformedAnnotation(t *testing.T) {
	for _, be := range replacesBackends {
		t.Run(be.name, func(t *testing.T) {
			ctx := t.Context()
			s := be.open(t)
			subject := pushImage(t, s.Target(), "img", "v1")
			b := storetest.Bundle(provenance.MediaTypeBundleV03, provenance.PredicateSLSAProvenanceV1, 1)
			layer := ocispec.Descriptor{MediaType: b.MediaType, Digest: b.Digest(), Size: int64(len(b.Data))}
			if err := pushBlob(ctx, s.Target(), layer, b.Data); err != nil {
				t.Fatal(err)
			}
			m, err := orasgo.PackManifest(ctx, s.Target(), orasgo.PackManifestVersion1_1, b.MediaType, orasgo.PackManifestOptions{
				Subject: &subject, Layers: []ocispec.Descriptor{layer},
				ManifestAnnotations: map[string]string{
					provenance.AnnotationBundlePredicateType: b.PredicateType,
					ocispec.AnnotationCreated:                "2025-01-01T00:00:00Z",
					provoras.AnnotationBundleDigest:          layer.Digest.String(),
					provoras.AnnotationBundleSize:            strconv.FormatInt(layer.Size, 10),
					provoras.AnnotationBundleEffective:       "yesterday",
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.Fetch(ctx, m)
			if err != nil || !bytes.Equal(got.Data, b.Data) || !got.Effective.IsZero() {
				t.Fatalf("Fetch = %s effective %v, %v; want the bundle with no effective time", got.Digest(), got.Effective, err)
			}
			found, err := s.Discover(ctx, subject, provoras.Query{SkipNested: true, SkipLegacyTags: true})
			if err != nil || len(found) != 1 {
				t.Fatalf("Discover = %v, %v; want the one attestation", found, err)
			}
			at, err := provoras.EffectiveTime(found[0].Manifest)
			var me *provoras.MalformedError
			if !at.IsZero() || !errors.As(err, &me) || !errors.Is(err, provoras.ErrMalformed) || me.Digest != m.Digest {
				t.Fatalf("EffectiveTime = %v, %v; want a *MalformedError naming %s", at, err, m.Digest)
			}
		})
	}
}

// FuzzEffectiveTime: any annotation value either reads back as a UTC time that formats to the
// same instant, or fails with a *MalformedError; nothing else.
func FuzzEffectiveTime(f *testing.F) {
	for _, s := range []string{"2026-12-07T08:30:00.123456789Z", "2026-12-07T09:30:00+01:00", "", "2026-13-01T00:00:00Z", "yesterday", "9999-12-31T23:59:59Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		at, err := provoras.EffectiveTime(ocispec.Descriptor{Annotations: map[string]string{provoras.AnnotationBundleEffective: v}})
		var me *provoras.MalformedError
		switch {
		case err == nil:
			want, perr := time.Parse(time.RFC3339Nano, v)
			if perr != nil || !at.Equal(want) || at.Location() != time.UTC {
				t.Fatalf("EffectiveTime(%q) = %v, not the UTC instant written", v, at)
			}
		case !at.IsZero() || !errors.As(err, &me):
			t.Fatalf("EffectiveTime(%q) = %v, %v; want zero and a *MalformedError", v, at, err)
		}
	})
}
