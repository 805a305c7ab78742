package oras_test

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/provkit/provkit/internal/storetest"
	"github.com/provkit/provkit/internal/testenv"
	provoras "github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/provenance"
	orasgo "oras.land/oras-go/v2"
)

// replacesBackends are the stores the reference to a replaced bundle is checked on: the local
// graph, the referrers API and the referrers tag index, in process, and the registry programs
// `make test` starts.
var replacesBackends = []struct {
	name string
	open func(t *testing.T) *provoras.Store
	src  provoras.Source
}{
	{"memory", func(t *testing.T) *provoras.Store {
		s, err := provoras.NewMemory()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}, provoras.SourceGraph},
	{"layout", func(t *testing.T) *provoras.Store {
		s, err := provoras.NewLayout(t.Context(), t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return s
	}, provoras.SourceGraph},
	{"olareg", func(t *testing.T) *provoras.Store { return remoteStore(t, testenv.OlaregServer(t), "replaces/img") }, provoras.SourceReferrersAPI},
	{"ggcr-fallback", func(t *testing.T) *provoras.Store { return remoteStore(t, testenv.GGCRServer(t), "replaces/img") }, provoras.SourceReferrersTag},
	{"distribution", func(t *testing.T) *provoras.Store {
		return remoteStore(t, testenv.Distribution(t), "replaces/"+sanitize(t.Name())+"-"+strconv.FormatInt(time.Now().UnixNano(), 36))
	}, provoras.SourceReferrersTag},
}

// TestReplacesRoundTrip attaches a bundle and one that replaces it: the manifest of the second
// carries AnnotationBundleReplaces, every reading path gives Replaces back, the old bundle is
// still attached, and attaching the same bytes again changes nothing.
func TestReplacesRoundTrip(t *testing.T) {
	for _, be := range replacesBackends {
		t.Run(be.name, func(t *testing.T) {
			ctx := t.Context()
			s := be.open(t)
			subject := pushImage(t, s.Target(), "img", "v1")
			old := storetest.Bundle(provenance.MediaTypeBundleV03, provenance.PredicateSLSAProvenanceV1, 1)
			oldDesc, err := s.Attach(ctx, subject, old)
			if err != nil {
				t.Fatal(err)
			}
			next := storetest.Bundle(provenance.MediaTypeBundleV03, provenance.PredicateSLSAProvenanceV1, 2)
			next.Replaces = old.Digest()
			nextDesc, err := s.Attach(ctx, subject, next)
			if err != nil {
				t.Fatal(err)
			}
			if nextDesc.Annotations[provoras.AnnotationBundleReplaces] != old.Digest().String() {
				t.Fatalf("attached manifest annotations %v, want %s = %s", nextDesc.Annotations, provoras.AnnotationBundleReplaces, old.Digest())
			}
			if _, ok := oldDesc.Annotations[provoras.AnnotationBundleReplaces]; ok {
				t.Fatalf("a bundle that replaces nothing carries %s: %v", provoras.AnnotationBundleReplaces, oldDesc.Annotations)
			}

			// Fetch reads the manifest itself.
			for _, c := range []struct {
				desc ocispec.Descriptor
				want provenance.Bundle
				repl digest.Digest
			}{{oldDesc, old, ""}, {nextDesc, next, old.Digest()}} {
				b, err := s.Fetch(ctx, c.desc)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(b.Data, c.want.Data) || b.Replaces != c.repl {
					t.Errorf("Fetch(%s) = %s replacing %q, want %s replacing %q", c.desc.Digest, b.Digest(), b.Replaces, c.want.Digest(), c.repl)
				}
			}

			// Discover and FetchAttestation read the listing: both bundles are there, history kept.
			found, err := s.Discover(ctx, subject, provoras.Query{SkipNested: true, SkipLegacyTags: true})
			if err != nil {
				t.Fatal(err)
			}
			if len(found) != 2 {
				t.Fatalf("Discover found %d attestations, want the old and the new", len(found))
			}
			got := map[digest.Digest]digest.Digest{}
			for _, a := range found {
				if a.Source != be.src {
					t.Errorf("%s found via %s, want %s", a.Manifest.Digest, a.Source, be.src)
				}
				listed, err := provoras.ReplacedBundle(a.Manifest)
				if err != nil {
					t.Fatal(err)
				}
				b, err := s.FetchAttestation(ctx, a)
				if err != nil {
					t.Fatal(err)
				}
				if b.Replaces != listed {
					t.Errorf("FetchAttestation(%s).Replaces = %q, the listing says %q", a.Manifest.Digest, b.Replaces, listed)
				}
				got[b.Digest()] = b.Replaces
			}
			want := map[digest.Digest]digest.Digest{old.Digest(): "", next.Digest(): old.Digest()}
			if len(got) != 2 || got[old.Digest()] != want[old.Digest()] || got[next.Digest()] != want[next.Digest()] {
				t.Fatalf("bundles and what they replace: %v, want %v", got, want)
			}

			// The same bytes attach once: another reference does not make another manifest.
			again := next
			again.Replaces = digest.FromString("some other bundle")
			desc, err := s.Attach(ctx, subject, again)
			if err != nil {
				t.Fatal(err)
			}
			if desc.Digest != nextDesc.Digest {
				t.Fatalf("attaching the same bytes again made manifest %s, want %s", desc.Digest, nextDesc.Digest)
			}
			if b, err := s.Fetch(ctx, desc); err != nil || b.Replaces != old.Digest() {
				t.Fatalf("after attaching again, Fetch = %q, %v; want the first reference %s", b.Replaces, err, old.Digest())
			}
		})
	}
}

// TestReplacesRejected: Attach refuses a reference that is not a digest, or names the bundle
// itself, with an *InputError before writing anything.
func TestReplacesRejected(t *testing.T) {
	ctx := t.Context()
	s, err := provoras.NewMemory()
	if err != nil {
		t.Fatal(err)
	}
	subject := pushImage(t, s.Target(), "img", "v1")
	b := storetest.Bundle(provenance.MediaTypeBundleV03, provenance.PredicateSLSAProvenanceV1, 1)
	for name, replaces := range map[string]digest.Digest{
		"not a digest": "not-a-digest",
		"bad hex":      "sha256:zz",
		"short":        "sha256:abcd",
		"itself":       b.Digest(),
	} {
		t.Run(name, func(t *testing.T) {
			bad := b
			bad.Replaces = replaces
			_, err := s.Attach(ctx, subject, bad)
			var ie *provoras.InputError
			if !errors.As(err, &ie) || !errors.Is(err, provoras.ErrInvalidInput) || ie.What != "bundle" || !strings.Contains(ie.Reason, "replaces") {
				t.Fatalf("Attach with Replaces %q: %v, want an *InputError about the bundle's reference", replaces, err)
			}
		})
	}
	refs, err := s.Referrers(ctx, subject, "")
	if err != nil || len(refs) != 0 {
		t.Fatalf("Referrers after refused attaches = %v, %v; want none", refs, err)
	}
}

// TestReplacesMalformedAnnotation: an attestation manifest whose AnnotationBundleReplaces is
// not a digest (written by another tool, or by hand) stays readable: Fetch and
// FetchAttestation return its bundle with no Replaces, and ReplacedBundle reports a
// *MalformedError naming the manifest.
func TestReplacesMalformedAnnotation(t *testing.T) {
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
					provoras.AnnotationBundleReplaces:        "sha256:not-hex",
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.Fetch(ctx, m)
			if err != nil || !bytes.Equal(got.Data, b.Data) || got.Replaces != "" {
				t.Fatalf("Fetch = %s replacing %q, %v; want the bundle, replacing nothing", got.Digest(), got.Replaces, err)
			}
			found, err := s.Discover(ctx, subject, provoras.Query{SkipNested: true, SkipLegacyTags: true})
			if err != nil || len(found) != 1 {
				t.Fatalf("Discover = %v, %v; want the one attestation", found, err)
			}
			d, err := provoras.ReplacedBundle(found[0].Manifest)
			var me *provoras.MalformedError
			if d != "" || !errors.As(err, &me) || !errors.Is(err, provoras.ErrMalformed) || me.Digest != m.Digest {
				t.Fatalf("ReplacedBundle = %q, %v; want a *MalformedError naming %s", d, err, m.Digest)
			}
			got, err = s.FetchAttestation(ctx, found[0])
			if err != nil || !bytes.Equal(got.Data, b.Data) || got.Replaces != "" {
				t.Fatalf("FetchAttestation = %s replacing %q, %v; want the bundle, replacing nothing", got.Digest(), got.Replaces, err)
			}
		})
	}
}

func TestReplacedBundleAbsent(t *testing.T) {
	d, err := provoras.ReplacedBundle(ocispec.Descriptor{Annotations: map[string]string{provoras.AnnotationBundleDigest: "sha256:ab"}})
	if d != "" || err != nil {
		t.Fatalf("ReplacedBundle without the annotation = %q, %v; want \"\", nil", d, err)
	}
}

// FuzzReplacedBundle: any annotation value either reads back as a valid digest, exactly as
// written, or fails with a *MalformedError; nothing else.
func FuzzReplacedBundle(f *testing.F) {
	for _, s := range []string{"sha256:" + strings.Repeat("ab", 32), "sha256:zz", "", "sha512:", "not-a-digest", "SHA256:" + strings.Repeat("0", 64)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		d, err := provoras.ReplacedBundle(ocispec.Descriptor{Annotations: map[string]string{provoras.AnnotationBundleReplaces: v}})
		var me *provoras.MalformedError
		switch {
		case err == nil && (d.Validate() != nil || d.String() != v):
			t.Fatalf("ReplacedBundle(%q) = %q, not the valid digest written", v, d)
		case err != nil && (d != "" || !errors.As(err, &me)):
			t.Fatalf("ReplacedBundle(%q) = %q, %v; want \"\" and a *MalformedError", v, d, err)
		}
	})
}
