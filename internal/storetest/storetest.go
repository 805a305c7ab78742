package storetest

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/provkit/provkit/provenance"
)

// Instance is one store under test.
type Instance struct {
	// Store is the store under test.
	Store provenance.Store
	// Subject is an image manifest the store holds and that has no attestations yet.
	Subject ocispec.Descriptor
	// Writer returns another client onto the same backend, as a second program would open it,
	// for the concurrency test. Nil means Store is shared by all writers.
	Writer func(t *testing.T) provenance.Store
	// Tamper makes the backend serve different bytes of the same length for blob from now on:
	// edit the file of a layout, or put a corrupting proxy in front of a registry.
	Tamper func(t *testing.T, blob ocispec.Descriptor)
	// Integrity is the sentinel the store's errors wrap when content fails digest or size
	// verification.
	Integrity error
}

// Run runs the conformance suite. newInstance must return an independent instance on each call.
func Run(t *testing.T, newInstance func(t *testing.T) Instance) {
	t.Helper()
	t.Run("AttachListFetch", func(t *testing.T) { testAttachListFetch(t, newInstance(t)) })
	t.Run("IdempotentAttach", func(t *testing.T) { testIdempotent(t, newInstance(t)) })
	t.Run("IdempotentAmongMany", func(t *testing.T) { testIdempotentAmongMany(t, newInstance(t)) })
	t.Run("FilterByArtifactType", func(t *testing.T) { testFilter(t, newInstance(t)) })
	t.Run("NotFound", func(t *testing.T) { testNotFound(t, newInstance(t)) })
	t.Run("SizeLimits", func(t *testing.T) { testSizeLimits(t, newInstance(t)) })
	t.Run("Integrity", func(t *testing.T) { testIntegrity(t, newInstance(t)) })
	t.Run("ConcurrentAttach", func(t *testing.T) { testConcurrent(t, newInstance(t)) })
}

// Bundle returns a distinct bundle for test n, with a body shaped like a Sigstore bundle.
func Bundle(mediaType, predicateType string, n int) provenance.Bundle {
	payload := base64.StdEncoding.EncodeToString(fmt.Appendf(nil, `{"_type":"https://in-toto.io/Statement/v1","n":%d}`, n))
	data := fmt.Appendf(nil, `{"mediaType":%q,"dsseEnvelope":{"payload":%q,"payloadType":"application/vnd.in-toto+json","signatures":[{"sig":"c2ln"}]}}`,
		mediaType, payload)
	return provenance.Bundle{MediaType: mediaType, Data: data, PredicateType: predicateType}
}

func attach(t *testing.T, s provenance.Store, subject ocispec.Descriptor, b provenance.Bundle) ocispec.Descriptor {
	t.Helper()
	d, err := s.Attach(context.Background(), subject, b)
	if err != nil {
		t.Fatalf("Attach: %v", err)
	}
	return d
}

func referrers(t *testing.T, s provenance.Store, subject ocispec.Descriptor, artifactType string) []ocispec.Descriptor {
	t.Helper()
	refs, err := s.Referrers(context.Background(), subject, artifactType)
	if err != nil {
		t.Fatalf("Referrers(%q): %v", artifactType, err)
	}
	return refs
}

func digests(ds []ocispec.Descriptor) []digest.Digest {
	out := make([]digest.Digest, len(ds))
	for i, d := range ds {
		out[i] = d.Digest
	}
	slices.Sort(out)
	return out
}

func testAttachListFetch(t *testing.T, in Instance) {
	ctx := context.Background()
	bundles := []provenance.Bundle{
		Bundle(provenance.MediaTypeBundleV03, provenance.PredicateSLSAProvenanceV1, 1),
		Bundle(provenance.MediaTypeBundleV03, provenance.PredicateSPDX, 2),
		Bundle(provenance.MediaTypeBundleV03, provenance.PredicateOpenVEX, 3),
	}
	want := map[digest.Digest]provenance.Bundle{}
	var attached []ocispec.Descriptor
	for _, b := range bundles {
		d := attach(t, in.Store, in.Subject, b)
		want[d.Digest] = b
		attached = append(attached, d)
	}
	refs := referrers(t, in.Store, in.Subject, "")
	if !slices.Equal(digests(refs), digests(attached)) {
		t.Fatalf("Referrers = %v, want %v", digests(refs), digests(attached))
	}
	again := referrers(t, in.Store, in.Subject, "")
	for i := range refs {
		if refs[i].Digest != again[i].Digest {
			t.Fatalf("Referrers order is not stable: %v then %v", digests(refs), digests(again))
		}
	}
	for _, r := range refs {
		got, err := in.Store.Fetch(ctx, r)
		if err != nil {
			t.Fatalf("Fetch(%s): %v", r.Digest, err)
		}
		b := want[r.Digest]
		if string(got.Data) != string(b.Data) || got.MediaType != b.MediaType || got.PredicateType != b.PredicateType {
			t.Errorf("Fetch(%s) = {%s %s %d bytes}, want {%s %s %d bytes}", r.Digest,
				got.MediaType, got.PredicateType, len(got.Data), b.MediaType, b.PredicateType, len(b.Data))
		}
	}
}

func testIdempotent(t *testing.T, in Instance) {
	b := Bundle(provenance.MediaTypeBundleV03, provenance.PredicateSLSAProvenanceV1, 7)
	first := attach(t, in.Store, in.Subject, b)
	second := attach(t, in.Store, in.Subject, b)
	if first.Digest != second.Digest {
		t.Fatalf("second Attach returned %s, first %s", second.Digest, first.Digest)
	}
	if refs := referrers(t, in.Store, in.Subject, ""); len(refs) != 1 {
		t.Fatalf("after attaching one bundle twice, Referrers = %v, want one", digests(refs))
	}
}

// testIdempotentAmongMany attaches bundles of one predicate type, then one of them again: the
// store finds it among its siblings and writes nothing.
func testIdempotentAmongMany(t *testing.T, in Instance) {
	var attached []ocispec.Descriptor
	for i := range 4 {
		attached = append(attached, attach(t, in.Store, in.Subject, Bundle(provenance.MediaTypeBundleV03, provenance.PredicateSLSAProvenanceV1, 20+i)))
	}
	for i, want := range attached {
		if got := attach(t, in.Store, in.Subject, Bundle(provenance.MediaTypeBundleV03, provenance.PredicateSLSAProvenanceV1, 20+i)); got.Digest != want.Digest {
			t.Fatalf("Attach of bundle %d again returned %s, first %s", i, got.Digest, want.Digest)
		}
	}
	// The same bytes under another media type are another attestation.
	other := Bundle(provenance.MediaTypeBundleV03, provenance.PredicateSLSAProvenanceV1, 20)
	other.MediaType = provenance.MediaTypeDSSE
	attach(t, in.Store, in.Subject, other)
	if refs := referrers(t, in.Store, in.Subject, ""); len(refs) != len(attached)+1 {
		t.Fatalf("after attaching %d bundles and again, Referrers = %v, want %d", len(attached), digests(refs), len(attached)+1)
	}
}

func testFilter(t *testing.T, in Instance) {
	bundle := attach(t, in.Store, in.Subject, Bundle(provenance.MediaTypeBundleV03, provenance.PredicateSLSAProvenanceV1, 1))
	dsse := attach(t, in.Store, in.Subject, Bundle(provenance.MediaTypeDSSE, provenance.PredicateSPDX, 2))
	tests := []struct {
		name         string
		artifactType string
		want         []ocispec.Descriptor
	}{
		{"all", "", []ocispec.Descriptor{bundle, dsse}},
		{"bundle", provenance.MediaTypeBundleV03, []ocispec.Descriptor{bundle}},
		{"dsse", provenance.MediaTypeDSSE, []ocispec.Descriptor{dsse}},
		{"none", "application/vnd.example.none+json", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := referrers(t, in.Store, in.Subject, tc.artifactType)
			if !slices.Equal(digests(got), digests(tc.want)) {
				t.Fatalf("Referrers(%q) = %v, want %v", tc.artifactType, digests(got), digests(tc.want))
			}
			for _, d := range got {
				if d.ArtifactType != tc.artifactType && tc.artifactType != "" {
					t.Errorf("Referrers(%q) returned artifact type %q", tc.artifactType, d.ArtifactType)
				}
			}
		})
	}
}

func testNotFound(t *testing.T, in Instance) {
	ctx := context.Background()
	missing := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest,
		Digest: digest.FromString("no such manifest"), Size: 123}
	tests := []struct {
		name string
		call func() error
	}{
		{"Referrers", func() error { _, err := in.Store.Referrers(ctx, missing, ""); return err }},
		{"Attach", func() error {
			_, err := in.Store.Attach(ctx, missing, Bundle(provenance.MediaTypeBundleV03, provenance.PredicateSPDX, 1))
			return err
		}},
		{"FetchManifest", func() error { _, err := in.Store.Fetch(ctx, missing); return err }},
		{"FetchBlob", func() error {
			_, err := in.Store.Fetch(ctx, Bundle(provenance.MediaTypeBundleV03, "", 99).Descriptor())
			return err
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); !errors.Is(err, provenance.ErrNotFound) {
				t.Fatalf("error = %v, want one wrapping provenance.ErrNotFound", err)
			}
		})
	}
}

func testSizeLimits(t *testing.T, in Instance) {
	ctx := context.Background()
	big := provenance.Bundle{MediaType: provenance.MediaTypeBundleV03, Data: make([]byte, provenance.MaxBundleBytes+1)}
	tests := []struct {
		name string
		call func() error
	}{
		{"AttachBundle", func() error { _, err := in.Store.Attach(ctx, in.Subject, big); return err }},
		{"FetchManifest", func() error {
			_, err := in.Store.Fetch(ctx, ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest,
				Digest: digest.FromString("huge"), Size: provenance.MaxManifestBytes + 1})
			return err
		}},
		{"FetchBundle", func() error {
			_, err := in.Store.Fetch(ctx, ocispec.Descriptor{MediaType: provenance.MediaTypeBundleV03,
				Digest: digest.FromString("huge"), Size: provenance.MaxBundleBytes + 1})
			return err
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			var se *provenance.SizeError
			if !errors.Is(err, provenance.ErrTooLarge) || !errors.As(err, &se) {
				t.Fatalf("error = %v, want a *provenance.SizeError", err)
			}
		})
	}
}

func testIntegrity(t *testing.T, in Instance) {
	ctx := context.Background()
	b := Bundle(provenance.MediaTypeBundleV03, provenance.PredicateSLSAProvenanceV1, 5)
	d := attach(t, in.Store, in.Subject, b)
	if in.Tamper == nil {
		t.Fatal("Instance.Tamper is required")
	}
	in.Tamper(t, b.Descriptor())
	tests := []struct {
		name string
		desc ocispec.Descriptor
	}{
		{"Manifest", d},
		{"Blob", b.Descriptor()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := in.Store.Fetch(ctx, tc.desc)
			if !errors.Is(err, in.Integrity) {
				t.Fatalf("Fetch of a tampered bundle: error = %v, want one wrapping %v", err, in.Integrity)
			}
		})
	}
}

func testConcurrent(t *testing.T, in Instance) {
	const writers, each = 10, 10
	ctx := context.Background()
	stores := make([]provenance.Store, writers)
	for i := range stores {
		stores[i] = in.Store
		if in.Writer != nil {
			stores[i] = in.Writer(t)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if _, err := stores[w].Attach(ctx, in.Subject, Bundle(provenance.MediaTypeBundleV03, provenance.PredicateSLSAProvenanceV1, w*each+i)); err != nil {
					errs <- fmt.Errorf("writer %d attestation %d: %w", w, i, err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if refs := referrers(t, in.Store, in.Subject, ""); len(refs) != writers*each {
		t.Fatalf("after %d concurrent attaches, Referrers lists %d", writers*each, len(refs))
	}
}
