package oras_test

import (
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/provkit/provkit/internal/storetest"
	"github.com/provkit/provkit/internal/testenv"
	provoras "github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/provenance"
	orasgo "oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/content/memory"
	"oras.land/oras-go/v2/registry/remote"
)

// requestBackends are the in-process registries whose requests the tests count: one serving
// the referrers API, one where oras-go keeps the referrers tag index.
var requestBackends = []struct {
	name  string
	start func(testing.TB) string
	src   provoras.Source
}{
	{"olareg-api", testenv.OlaregServer, provoras.SourceReferrersAPI},
	{"ggcr-fallback", testenv.GGCRServer, provoras.SourceReferrersTag},
}

// countingStore opens a store with a request counter on host/repo, settles its referrers
// capability with one listing of subject, as a long-lived store would have, and resets the count.
func countingStore(t *testing.T, host, repo string, subject ocispec.Descriptor) (*provoras.Store, *counter) {
	t.Helper()
	c := newCounter()
	s := remoteStore(t, host, repo, provoras.WithTransport(c))
	if _, err := s.Referrers(t.Context(), subject, ""); err != nil {
		t.Fatalf("Referrers: %v", err)
	}
	c.reset()
	return s, c
}

// manifestGETs returns the requests that read a manifest by digest (not the referrers tag).
func manifestGETs(reqs []string) []string {
	var out []string
	for _, r := range reqs {
		if strings.HasPrefix(r, "GET manifests sha256:") {
			out = append(out, r)
		}
	}
	return out
}

// pushUnannotated writes b as cosign does: an attestation manifest without provkit's bundle
// annotations, pushed by a client that leaves the referrers tag index alone. With tagIndex it
// then writes the referrers tag index with that one entry and no annotations, as cosign does
// on a registry without the referrers API. It returns the manifest descriptor.
func pushUnannotated(t *testing.T, host, repo string, subject ocispec.Descriptor, b provenance.Bundle, tagIndex bool) ocispec.Descriptor {
	t.Helper()
	ctx := t.Context()
	raw, err := remote.NewRepository(host + "/" + repo)
	if err != nil {
		t.Fatal(err)
	}
	raw.PlainHTTP = true
	if err := raw.SetReferrersCapability(true); err != nil {
		t.Fatal(err)
	}
	layer := pushData(t, raw, b.MediaType, b.Data, nil)
	m, err := orasgo.PackManifest(ctx, raw, orasgo.PackManifestVersion1_1, b.MediaType, orasgo.PackManifestOptions{
		Subject: &subject, Layers: []ocispec.Descriptor{layer},
		ManifestAnnotations: map[string]string{provenance.AnnotationBundlePredicateType: b.PredicateType,
			provenance.AnnotationBundleContent: provenance.BundleContentDSSE, ocispec.AnnotationCreated: "2025-01-01T00:00:00Z"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if tagIndex {
		entry := ocispec.Descriptor{MediaType: m.MediaType, Digest: m.Digest, Size: m.Size, ArtifactType: b.MediaType}
		idx := pushJSON(t, raw, ocispec.MediaTypeImageIndex, ocispec.Index{Versioned: specV2, MediaType: ocispec.MediaTypeImageIndex,
			Manifests: []ocispec.Descriptor{entry}})
		if err := raw.Tag(ctx, idx, subject.Digest.Algorithm().String()+"-"+subject.Digest.Encoded()); err != nil {
			t.Fatal(err)
		}
	}
	return ocispec.Descriptor{MediaType: m.MediaType, Digest: m.Digest, Size: m.Size}
}

// TestListingCarriesBundleAnnotations checks what the one-request paths rely on: the listing of
// referrers, from the referrers API, oras-go's referrers tag index or a layout's graph, carries
// the bundle digest and size Attach writes on the manifest, and they name the manifest's layer.
func TestListingCarriesBundleAnnotations(t *testing.T) {
	backends := []struct {
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
		{"olareg-api", func(t *testing.T) *provoras.Store { return remoteStore(t, testenv.OlaregServer(t), "ann/img") }, provoras.SourceReferrersAPI},
		{"ggcr-fallback", func(t *testing.T) *provoras.Store { return remoteStore(t, testenv.GGCRServer(t), "ann/img") }, provoras.SourceReferrersTag},
	}
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			ctx := t.Context()
			s := be.open(t)
			subject := pushImage(t, s.Target(), "img", "v1")
			b := storetest.Bundle(provenance.MediaTypeBundleV03, provenance.PredicateSLSAProvenanceV1, 1)
			desc, err := s.Attach(ctx, subject, b)
			if err != nil {
				t.Fatal(err)
			}
			as, err := s.Discover(ctx, subject, provoras.Query{SkipNested: true, SkipLegacyTags: true})
			if err != nil {
				t.Fatal(err)
			}
			if len(as) != 1 || as[0].Source != be.src || as[0].Manifest.Digest != desc.Digest {
				t.Fatalf("Discover = %+v, want %s from %s", as, desc.Digest, be.src)
			}
			ann := as[0].Manifest.Annotations
			if ann[provoras.AnnotationBundleDigest] != b.Digest().String() || ann[provoras.AnnotationBundleSize] != strconv.Itoa(len(b.Data)) {
				t.Fatalf("listed annotations %v, want %s = %s and %s = %d", ann,
					provoras.AnnotationBundleDigest, b.Digest(), provoras.AnnotationBundleSize, len(b.Data))
			}
			if ann[provenance.AnnotationBundlePredicateType] != b.PredicateType || ann[provenance.AnnotationBundleContent] == "" ||
				ann[ocispec.AnnotationCreated] == "" {
				t.Errorf("listed annotations %v lack cosign's", ann)
			}
			data, err := content.FetchAll(ctx, s.Target(), desc)
			if err != nil {
				t.Fatal(err)
			}
			var m ocispec.Manifest
			if err := json.Unmarshal(data, &m); err != nil {
				t.Fatal(err)
			}
			if len(m.Layers) != 1 || m.Layers[0].Digest.String() != ann[provoras.AnnotationBundleDigest] ||
				strconv.FormatInt(m.Layers[0].Size, 10) != ann[provoras.AnnotationBundleSize] {
				t.Fatalf("manifest layers %+v do not match annotations %v", m.Layers, ann)
			}
		})
	}
}

// TestAttachDuplicateRequests counts the requests of attaching a bundle that is already
// attached: one listing settles it, with no manifest read, whatever the number of referrers.
func TestAttachDuplicateRequests(t *testing.T) {
	for _, be := range requestBackends {
		t.Run(be.name, func(t *testing.T) {
			ctx := t.Context()
			host := be.start(t)
			w := remoteStore(t, host, "dup/img")
			subject := pushImage(t, w.Target(), "img", "v1")
			var attached []ocispec.Descriptor
			for i := range 6 {
				d, err := w.Attach(ctx, subject, storetest.Bundle(provenance.MediaTypeBundleV03, provenance.PredicateSLSAProvenanceV1, i))
				if err != nil {
					t.Fatal(err)
				}
				attached = append(attached, d)
			}
			s, c := countingStore(t, host, "dup/img", subject)
			got, err := s.Attach(ctx, subject, storetest.Bundle(provenance.MediaTypeBundleV03, provenance.PredicateSLSAProvenanceV1, 3))
			if err != nil {
				t.Fatal(err)
			}
			if got.Digest != attached[3].Digest {
				t.Fatalf("duplicate Attach returned %s, want %s", got.Digest, attached[3].Digest)
			}
			reqs := c.requests()
			if g := manifestGETs(reqs); len(g) != 0 {
				t.Errorf("duplicate Attach read manifests: %v", g)
			}
			for _, r := range reqs {
				if !strings.HasPrefix(r, "GET ") && !strings.HasPrefix(r, "HEAD ") {
					t.Errorf("duplicate Attach wrote: %s", r)
				}
			}
			// The subject's existence and one listing; on the tag index, whose entries clients
			// edit, also the existence of the matching manifest, and the tags that record
			// referrers the index may have lost.
			want := 2
			if be.src == provoras.SourceReferrersTag {
				want = 4
			}
			if len(reqs) != want {
				t.Fatalf("duplicate Attach sent %d requests %v, want %d", len(reqs), reqs, want)
			}
			if refs, err := s.Referrers(ctx, subject, ""); err != nil || len(refs) != len(attached) {
				t.Fatalf("Referrers = %d entries, %v; want %d", len(refs), err, len(attached))
			}
		})
	}
}

// TestAttachDuplicateOfUnannotated covers referrers written without provkit's bundle
// annotations (by cosign): Attach still finds the bundle, reading the manifests of those
// entries only, and of those only the ones whose predicate type may match.
func TestAttachDuplicateOfUnannotated(t *testing.T) {
	for _, be := range requestBackends {
		t.Run(be.name, func(t *testing.T) {
			ctx := t.Context()
			host := be.start(t)
			w := remoteStore(t, host, "dupcosign/img")
			subject := pushImage(t, w.Target(), "img", "v1")
			foreign := storetest.Bundle(provenance.MediaTypeBundleV03, provenance.PredicateSLSAProvenanceV1, 100)
			cosignDesc := pushUnannotated(t, host, "dupcosign/img", subject, foreign, be.src == provoras.SourceReferrersTag)
			for i := range 4 {
				if _, err := w.Attach(ctx, subject, storetest.Bundle(provenance.MediaTypeBundleV03, provenance.PredicateSLSAProvenanceV1, i)); err != nil {
					t.Fatal(err)
				}
			}
			s, c := countingStore(t, host, "dupcosign/img", subject)
			got, err := s.Attach(ctx, subject, foreign)
			if err != nil {
				t.Fatal(err)
			}
			if got.Digest != cosignDesc.Digest {
				t.Fatalf("Attach of the bundle cosign attached returned %s, want %s", got.Digest, cosignDesc.Digest)
			}
			if g := manifestGETs(c.requests()); !slices.Equal(g, []string{"GET manifests " + cosignDesc.Digest.String()}) {
				t.Fatalf("Attach read manifests %v, want only the unannotated %s", g, cosignDesc.Digest)
			}
		})
	}
}

// TestDiscoverFetchRequests counts the requests of discovering and fetching every attestation
// of an image: one listing plus one per bundle Attach wrote, plus two (manifest, then layer)
// for an attestation written without provkit's bundle annotations.
func TestDiscoverFetchRequests(t *testing.T) {
	const n = 8
	for _, be := range requestBackends {
		t.Run(be.name, func(t *testing.T) {
			ctx := t.Context()
			host := be.start(t)
			w := remoteStore(t, host, "disc/img")
			subject := pushImage(t, w.Target(), "img", "v1")
			foreign := storetest.Bundle(provenance.MediaTypeBundleV03, provenance.PredicateSPDX, 100)
			pushUnannotated(t, host, "disc/img", subject, foreign, be.src == provoras.SourceReferrersTag)
			want := map[string]bool{string(foreign.Data): true}
			for i := range n {
				b := storetest.Bundle(provenance.MediaTypeBundleV03, provenance.PredicateSLSAProvenanceV1, i)
				if _, err := w.Attach(ctx, subject, b); err != nil {
					t.Fatal(err)
				}
				want[string(b.Data)] = true
			}
			s, c := countingStore(t, host, "disc/img", subject)
			as, err := s.Discover(ctx, subject, provoras.Query{SkipNested: true, SkipLegacyTags: true, SkipBuildKit: true})
			if err != nil {
				t.Fatal(err)
			}
			if len(as) != n+1 {
				t.Fatalf("Discover found %d, want %d", len(as), n+1)
			}
			bundles, err := s.FetchAll(ctx, as)
			if err != nil {
				t.Fatal(err)
			}
			for i, b := range bundles {
				if !want[string(b.Data)] || b.MediaType != provenance.MediaTypeBundleV03 || b.PredicateType != as[i].PredicateType {
					t.Errorf("bundle %d: %s %s %q not attached", i, b.MediaType, b.PredicateType, b.Data)
				}
				delete(want, string(b.Data))
			}
			reqs := c.requests()
			// On the tag index, one more: the tags that record referrers the index may have lost.
			lists := 1
			if be.src == provoras.SourceReferrersTag {
				lists = 2
			}
			if len(reqs) != lists+n+2 {
				t.Fatalf("Discover and FetchAll sent %d requests, want %d (list + %d + 2):\n%s",
					len(reqs), lists+n+2, n, strings.Join(reqs, "\n"))
			}
			if g := manifestGETs(reqs); len(g) != 1 {
				t.Errorf("manifests read %v, want only the unannotated one", g)
			}
		})
	}
}

// TestFetchAttestationBundleHint covers listings whose bundle annotations are wrong: a hint that
// names no usable blob falls back to the manifest, and content failing verification on either
// path fails with ErrIntegrity.
func TestFetchAttestationBundleHint(t *testing.T) {
	backends := []struct {
		name string
		open func(t *testing.T) (*provoras.Store, func(t *testing.T, d ocispec.Descriptor))
	}{
		{"memory", func(t *testing.T) (*provoras.Store, func(t *testing.T, d ocispec.Descriptor)) {
			tt := &tamperTarget{GraphTarget: memory.New()}
			s, err := provoras.New(tt)
			if err != nil {
				t.Fatal(err)
			}
			return s, func(t *testing.T, d ocispec.Descriptor) { tt.bad.Store(d.Digest, true) }
		}},
		{"ggcr", func(t *testing.T) (*provoras.Store, func(t *testing.T, d ocispec.Descriptor)) {
			proxy, tamper := tamperProxy(t, testenv.GGCRServer(t))
			return remoteStore(t, proxy, "hint/img"), func(t *testing.T, d ocispec.Descriptor) { tamper(d.Digest) }
		}},
	}
	other := storetest.Bundle(provenance.MediaTypeBundleV03, provenance.PredicateSPDX, 2)
	tests := []struct {
		name   string
		digest string
		size   string
	}{
		{"MissingBlob", storetest.Bundle(provenance.MediaTypeBundleV03, "", 99).Digest().String(), "10"},
		{"WrongSizeLarger", "", "+1"},
		{"WrongSizeSmaller", "", "-1"},
		{"SizeOverLimit", "", strconv.Itoa(provenance.MaxBundleBytes + 1)},
		{"MalformedDigest", "sha256:zz", ""},
		{"SignedSize", "", "+"},
		{"ZeroSize", "", "0"},
	}
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			ctx := t.Context()
			s, tamper := be.open(t)
			subject := pushImage(t, s.Target(), "img", "v1")
			b := storetest.Bundle(provenance.MediaTypeBundleV03, provenance.PredicateSLSAProvenanceV1, 1)
			if _, err := s.Attach(ctx, subject, b); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Attach(ctx, subject, other); err != nil {
				t.Fatal(err)
			}
			as, err := s.Discover(ctx, subject, provoras.Query{PredicateType: b.PredicateType, SkipNested: true, SkipLegacyTags: true})
			if err != nil || len(as) != 1 {
				t.Fatalf("Discover = %v, %v; want one attestation", as, err)
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					a := as[0]
					a.Manifest.Annotations = maps.Clone(a.Manifest.Annotations)
					size := len(b.Data)
					switch tc.size {
					case "+1":
						a.Manifest.Annotations[provoras.AnnotationBundleSize] = strconv.Itoa(size + 1)
					case "-1":
						a.Manifest.Annotations[provoras.AnnotationBundleSize] = strconv.Itoa(size - 1)
					case "+":
						a.Manifest.Annotations[provoras.AnnotationBundleSize] = "+" + strconv.Itoa(size)
					case "":
					default:
						a.Manifest.Annotations[provoras.AnnotationBundleSize] = tc.size
					}
					if tc.digest != "" {
						a.Manifest.Annotations[provoras.AnnotationBundleDigest] = tc.digest
					}
					got, err := s.FetchAttestation(ctx, a)
					if err != nil {
						t.Fatalf("FetchAttestation: %v", err)
					}
					if string(got.Data) != string(b.Data) || got.PredicateType != b.PredicateType {
						t.Fatalf("FetchAttestation = %s %q, want the manifest's bundle", got.PredicateType, got.Data)
					}
				})
			}
			// A listing may name another blob of the repository: it is fetched, verified, and
			// returned as it is (verify then judges its signed statement).
			t.Run("OtherBlob", func(t *testing.T) {
				a := as[0]
				a.Manifest.Annotations = maps.Clone(a.Manifest.Annotations)
				a.Manifest.Annotations[provoras.AnnotationBundleDigest] = other.Digest().String()
				a.Manifest.Annotations[provoras.AnnotationBundleSize] = strconv.Itoa(len(other.Data))
				got, err := s.FetchAttestation(ctx, a)
				if err != nil || string(got.Data) != string(other.Data) {
					t.Fatalf("FetchAttestation = %q, %v; want the named blob", got.Data, err)
				}
			})
			t.Run("Tampered", func(t *testing.T) {
				tamper(t, b.Descriptor())
				_, err := s.FetchAttestation(ctx, as[0])
				var ie *provoras.IntegrityError
				if !errors.Is(err, provoras.ErrIntegrity) || !errors.As(err, &ie) || ie.Descriptor.Digest != b.Digest() {
					t.Fatalf("FetchAttestation of a tampered bundle: error = %v, want an *IntegrityError for %s", err, b.Digest())
				}
			})
		})
	}
}
