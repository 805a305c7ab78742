package oras_test

import (
	"context"
	"encoding/json"
	"errors"
	"github.com/provkit/provkit/internal/testenv"
	"slices"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/provkit/provkit/internal/storetest"
	provoras "github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/provenance"
	orasgo "oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry/remote"
)

var fixedClock = provenance.FixedClock(time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC))

// pushJSON pushes v as a manifest or blob of mediaType and returns its descriptor.
func pushJSON(t *testing.T, target orasgo.Target, mediaType string, v any) ocispec.Descriptor {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	desc := content.NewDescriptorFromBytes(mediaType, data)
	if err := pushBlob(context.Background(), target, desc, data); err != nil {
		t.Fatalf("push %s: %v", mediaType, err)
	}
	return desc
}

func pushData(t *testing.T, target orasgo.Target, mediaType string, data []byte, ann map[string]string) ocispec.Descriptor {
	t.Helper()
	desc := content.NewDescriptorFromBytes(mediaType, data)
	if err := pushBlob(context.Background(), target, desc, data); err != nil {
		t.Fatalf("push %s: %v", mediaType, err)
	}
	desc.Annotations = ann
	return desc
}

// pushCosignLegacy writes what `cosign attest --new-bundle-format=false` and `cosign sign
// --new-bundle-format=false` write: an image manifest tagged sha256-<hex>.att whose layers are
// DSSE envelopes annotated with predicateType, and one tagged .sig with a simple-signing layer.
func pushCosignLegacy(t *testing.T, target orasgo.Target, subject ocispec.Descriptor) {
	t.Helper()
	cfg := pushJSON(t, target, "application/vnd.oci.image.config.v1+json", map[string]any{"architecture": "", "os": ""})
	att := pushData(t, target, provenance.MediaTypeDSSE, []byte(`{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[{"sig":"YQ=="}]}`),
		map[string]string{provenance.AnnotationCosignPredicateType: provenance.PredicateSLSAProvenanceV02,
			"dev.sigstore.cosign/bundle": `{"SignedEntryTimestamp":""}`})
	m := pushJSON(t, target, ocispec.MediaTypeImageManifest, ocispec.Manifest{Versioned: specV2, MediaType: ocispec.MediaTypeImageManifest,
		Config: cfg, Layers: []ocispec.Descriptor{att}})
	tagBase := subject.Digest.Algorithm().String() + "-" + subject.Digest.Encoded()
	if err := target.Tag(context.Background(), m, tagBase+".att"); err != nil {
		t.Fatal(err)
	}
	sig := pushData(t, target, "application/vnd.dev.cosign.simplesigning.v1+json", []byte(`{"critical":{}}`),
		map[string]string{"dev.cosignproject.cosign/signature": "MEUCIQ=="})
	m = pushJSON(t, target, ocispec.MediaTypeImageManifest, ocispec.Manifest{Versioned: specV2, MediaType: ocispec.MediaTypeImageManifest,
		Config: cfg, Layers: []ocispec.Descriptor{sig}})
	if err := target.Tag(context.Background(), m, tagBase+".sig"); err != nil {
		t.Fatal(err)
	}
}

// pushBuildKitIndex writes an image index as BuildKit does with --attest type=provenance and
// type=sbom (docs/attestations/attestation-storage.md): one platform manifest, and an
// attestation manifest with platform unknown/unknown whose annotations point at it and whose
// layers are in-toto statements annotated with their predicate type. It returns the index.
func pushBuildKitIndex(t *testing.T, target orasgo.Target) (index, platform ocispec.Descriptor) {
	t.Helper()
	platform = pushImage(t, target, "buildkit-amd64", "")
	platform.Platform = &ocispec.Platform{OS: "linux", Architecture: "amd64"}
	cfg := pushJSON(t, target, "application/vnd.oci.image.config.v1+json", map[string]any{"architecture": "unknown", "os": "unknown"})
	prov := pushData(t, target, provenance.MediaTypeInToto, []byte(`{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://slsa.dev/provenance/v0.2"}`),
		map[string]string{provenance.AnnotationInTotoPredicateType: provenance.PredicateSLSAProvenanceV02})
	sbom := pushData(t, target, provenance.MediaTypeInToto, []byte(`{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://spdx.dev/Document"}`),
		map[string]string{provenance.AnnotationInTotoPredicateType: provenance.PredicateSPDX})
	am := pushJSON(t, target, ocispec.MediaTypeImageManifest, ocispec.Manifest{Versioned: specV2, MediaType: ocispec.MediaTypeImageManifest,
		Config: cfg, Layers: []ocispec.Descriptor{prov, sbom}})
	am.Platform = &ocispec.Platform{OS: "unknown", Architecture: "unknown"}
	am.Annotations = map[string]string{
		provoras.AnnotationDockerReferenceType:   provoras.DockerReferenceTypeAttestation,
		provoras.AnnotationDockerReferenceDigest: platform.Digest.String(),
	}
	index = pushJSON(t, target, ocispec.MediaTypeImageIndex, ocispec.Index{Versioned: specV2, MediaType: ocispec.MediaTypeImageIndex,
		Manifests: []ocispec.Descriptor{platform, am}})
	if err := target.Tag(context.Background(), index, "multi"); err != nil {
		t.Fatal(err)
	}
	return ocispec.Descriptor{MediaType: index.MediaType, Digest: index.Digest, Size: index.Size}, platform
}

func TestDiscoverEveryPlace(t *testing.T) {
	backends := []struct {
		name    string
		open    func(t *testing.T) *provoras.Store
		viaList provoras.Source
	}{
		{"memory", func(t *testing.T) *provoras.Store {
			s, err := provoras.NewMemory(provoras.WithClock(fixedClock))
			if err != nil {
				t.Fatal(err)
			}
			return s
		}, provoras.SourceGraph},
		{"olareg", func(t *testing.T) *provoras.Store {
			return remoteStore(t, testenv.OlaregServer(t), "discover/img", provoras.WithClock(fixedClock))
		}, provoras.SourceReferrersAPI},
		{"ggcr", func(t *testing.T) *provoras.Store {
			return remoteStore(t, testenv.GGCRServer(t), "discover/img", provoras.WithClock(fixedClock))
		}, provoras.SourceReferrersTag},
	}
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			ctx := t.Context()
			s := be.open(t)
			index, platform := pushBuildKitIndex(t, s.Target())
			pushCosignLegacy(t, s.Target(), index)
			slsa := storetest.Bundle(provenance.MediaTypeBundleV03, provenance.PredicateSLSAProvenanceV1, 1)
			sbom := storetest.Bundle(provenance.MediaTypeBundleV03, provenance.PredicateSPDX, 2)
			slsaDesc, err := s.Attach(ctx, index, slsa)
			if err != nil {
				t.Fatal(err)
			}
			sbomDesc, err := s.Attach(ctx, index, sbom)
			if err != nil {
				t.Fatal(err)
			}
			// A signature on the SBOM attestation: a referrer of a referrer.
			sigOnSBOM := storetest.Bundle("application/vnd.example.signature+json", "", 3)
			if _, err := s.Attach(ctx, sbomDesc, sigOnSBOM); err != nil {
				t.Fatal(err)
			}

			all, err := s.Discover(ctx, index, provoras.Query{})
			if err != nil {
				t.Fatal(err)
			}
			type key struct {
				src    provoras.Source
				pt     string
				signed bool
			}
			var got []key
			for _, a := range all {
				got = append(got, key{a.Source, a.PredicateType, a.Signed})
			}
			want := []key{
				{provoras.SourceBuildKitIndex, provenance.PredicateSLSAProvenanceV02, false},
				{provoras.SourceBuildKitIndex, provenance.PredicateSPDX, false},
				{provoras.SourceCosignAttTag, provenance.PredicateSLSAProvenanceV02, true},
				{provoras.SourceCosignSigTag, "", true},
				{provoras.SourceNested, "", true},
				{be.viaList, provenance.PredicateSLSAProvenanceV1, true},
				{be.viaList, provenance.PredicateSPDX, true},
			}
			cmp := func(a, b key) int {
				if c := stringsCompare(string(a.src), string(b.src)); c != 0 {
					return c
				}
				return stringsCompare(a.pt, b.pt)
			}
			slices.SortFunc(got, cmp)
			slices.SortFunc(want, cmp)
			if !slices.Equal(got, want) {
				t.Fatalf("Discover found\n%v\nwant\n%v", got, want)
			}
			bundles, err := s.FetchAll(ctx, all)
			if err != nil {
				t.Fatalf("FetchAll: %v", err)
			}
			for i, a := range all {
				b := bundles[i]
				switch a.Source {
				case provoras.SourceBuildKitIndex:
					if b.MediaType != provenance.MediaTypeInToto || a.Subject.Digest != platform.Digest {
						t.Errorf("BuildKit attestation: media type %s subject %s, want %s and %s", b.MediaType, a.Subject.Digest,
							provenance.MediaTypeInToto, platform.Digest)
					}
				case provoras.SourceCosignAttTag:
					if b.MediaType != provenance.MediaTypeDSSE || a.Layer.Annotations["dev.sigstore.cosign/bundle"] == "" {
						t.Errorf(".att attestation: media type %s, layer annotations %v", b.MediaType, a.Layer.Annotations)
					}
				case provoras.SourceNested:
					if string(b.Data) != string(sigOnSBOM.Data) || a.Subject.Digest != sbomDesc.Digest {
						t.Errorf("nested: got %q on %s", b.Data, a.Subject.Digest)
					}
				case be.viaList:
					wantB := map[string]provenance.Bundle{slsaDesc.Digest.String(): slsa, sbomDesc.Digest.String(): sbom}[a.Manifest.Digest.String()]
					if string(b.Data) != string(wantB.Data) || b.PredicateType != wantB.PredicateType {
						t.Errorf("referrer %s: got %s %q", a.Manifest.Digest, b.PredicateType, b.Data)
					}
				}
			}

			filters := []struct {
				name string
				q    provoras.Query
				want int
			}{
				{"PredicateSPDX", provoras.Query{PredicateType: provenance.PredicateSPDX}, 2},
				{"ArtifactTypeBundle", provoras.Query{ArtifactType: provenance.MediaTypeBundleV03}, 2},
				{"ArtifactTypeInToto", provoras.Query{ArtifactType: provenance.MediaTypeInToto}, 2},
				{"DirectOnly", provoras.Query{SkipNested: true, SkipLegacyTags: true, SkipBuildKit: true}, 2},
			}
			for _, f := range filters {
				t.Run(f.name, func(t *testing.T) {
					as, err := s.Discover(ctx, index, f.q)
					if err != nil {
						t.Fatal(err)
					}
					if len(as) != f.want {
						t.Fatalf("Discover(%+v) found %d, want %d", f.q, len(as), f.want)
					}
				})
			}
		})
	}
}

// TestDiscoverCosignTagIndexEntry covers cosign's referrers tag index entries, which carry no
// annotations: Discover reads the manifest to learn the predicate type.
func TestDiscoverCosignTagIndexEntry(t *testing.T) {
	ctx := t.Context()
	host := testenv.GGCRServer(t)
	s := remoteStore(t, host, "cosign/img")
	subject := pushImage(t, s.Target(), "img", "v1")
	// A writer that believes in the referrers API pushes without indexing, as cosign's own
	// client does; the index entry is then written without annotations.
	raw, err := remote.NewRepository(host + "/cosign/img")
	if err != nil {
		t.Fatal(err)
	}
	raw.PlainHTTP = true
	if err := raw.SetReferrersCapability(true); err != nil {
		t.Fatal(err)
	}
	b := storetest.Bundle(provenance.MediaTypeBundleV03, provenance.PredicateSLSAProvenanceV1, 1)
	layer := pushData(t, raw, b.MediaType, b.Data, nil)
	m, err := orasgo.PackManifest(ctx, raw, orasgo.PackManifestVersion1_1, b.MediaType, orasgo.PackManifestOptions{
		Subject: &subject, Layers: []ocispec.Descriptor{layer},
		ManifestAnnotations: map[string]string{provenance.AnnotationBundlePredicateType: b.PredicateType,
			provenance.AnnotationBundleContent: provenance.BundleContentDSSE, ocispec.AnnotationCreated: "2025-01-01T00:00:00Z"},
	})
	if err != nil {
		t.Fatal(err)
	}
	entry := ocispec.Descriptor{MediaType: m.MediaType, Digest: m.Digest, Size: m.Size, ArtifactType: b.MediaType}
	idx := pushJSON(t, raw, ocispec.MediaTypeImageIndex, ocispec.Index{Versioned: specV2, MediaType: ocispec.MediaTypeImageIndex,
		Manifests: []ocispec.Descriptor{entry}})
	if err := raw.Tag(ctx, idx, subject.Digest.Algorithm().String()+"-"+subject.Digest.Encoded()); err != nil {
		t.Fatal(err)
	}
	as, err := s.Discover(ctx, subject, provoras.Query{PredicateType: provenance.PredicateSLSAProvenanceV1})
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != 1 || as[0].Source != provoras.SourceReferrersTag || as[0].Manifest.Digest != m.Digest {
		t.Fatalf("Discover = %+v, want the cosign entry from the referrers tag", as)
	}
	got, err := s.FetchAttestation(ctx, as[0])
	if err != nil || string(got.Data) != string(b.Data) || got.PredicateType != b.PredicateType {
		t.Fatalf("FetchAttestation = %s %q, %v", got.PredicateType, got.Data, err)
	}
}

func TestDiscoverLimits(t *testing.T) {
	ctx := t.Context()
	tests := []struct {
		name string
		opts []provoras.Option
		n    int
	}{
		{"MaxReferrers", []provoras.Option{provoras.WithMaxReferrers(3)}, 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := provoras.NewMemory(tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			subject := pushImage(t, s.Target(), "img", "v1")
			for i := range tc.n {
				if _, err := s.Attach(ctx, subject, storetest.Bundle(provenance.MediaTypeBundleV03, "", i)); err != nil && !errors.Is(err, provenance.ErrTooLarge) {
					t.Fatal(err)
				}
			}
			_, err = s.Discover(ctx, subject, provoras.Query{})
			var le *provoras.LimitError
			if !errors.Is(err, provenance.ErrTooLarge) || !errors.As(err, &le) {
				t.Fatalf("Discover error = %v, want a *LimitError", err)
			}
			if _, err := s.Referrers(ctx, subject, ""); !errors.As(err, &le) {
				t.Fatalf("Referrers error = %v, want a *LimitError", err)
			}
		})
	}
}

func stringsCompare(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
