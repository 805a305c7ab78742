package oras

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/provkit/provkit/provenance"
)

// Resolve returns the descriptor of the manifest or index that reference (a tag or a digest)
// names in the Store. Resolve a tag once, record the digest, and work by digest after that;
// CheckDrift tells when the tag has moved. An unknown reference, and a digest that names a blob
// rather than a manifest, fail with an error wrapping provenance.ErrNotFound.
func (s *Store) Resolve(ctx context.Context, reference string) (ocispec.Descriptor, error) {
	if reference == "" {
		return ocispec.Descriptor{}, &InputError{What: "reference", Reason: "is empty"}
	}
	desc, err := s.target.Resolve(ctx, reference)
	if err != nil {
		return ocispec.Descriptor{}, notFound(err, "resolve "+reference)
	}
	if !isManifest(desc.MediaType) && !isIndex(desc.MediaType) && digest.Digest(reference).Validate() == nil {
		return ocispec.Descriptor{}, fmt.Errorf("oras: resolve %s: %w: it names a blob of type %q, not a manifest", reference, provenance.ErrNotFound, desc.MediaType)
	}
	if !isManifest(desc.MediaType) && !isIndex(desc.MediaType) {
		return ocispec.Descriptor{}, &InputError{What: "reference",
			Reason: fmt.Sprintf("%s resolves to %q, not an image manifest or index", reference, desc.MediaType)}
	}
	if desc.Size > provenance.MaxManifestBytes {
		return ocispec.Descriptor{}, &provenance.SizeError{What: "manifest " + desc.Digest.String(), Limit: provenance.MaxManifestBytes, Size: desc.Size}
	}
	return desc, nil
}

// CheckDrift resolves tag and fails with a *DriftError (wrapping ErrDrift) when it points to a
// digest other than recorded. It returns the current descriptor either way, so a caller can
// report both.
func (s *Store) CheckDrift(ctx context.Context, tag string, recorded digest.Digest) (ocispec.Descriptor, error) {
	if err := recorded.Validate(); err != nil {
		return ocispec.Descriptor{}, &InputError{What: "recorded digest", Reason: err.Error()}
	}
	desc, err := s.Resolve(ctx, tag)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	if desc.Digest != recorded {
		return desc, &DriftError{Reference: tag, Recorded: recorded, Current: desc.Digest}
	}
	return desc, nil
}

// resolveAllConcurrency bounds how many stores ResolveAll asks at once.
const resolveAllConcurrency = 8

// ResolveAll resolves reference (a tag or a digest) in every store of stores, keyed by a name
// the caller chooses, such as an environment ("staging", "production") or a registry, asking
// up to eight stores at once. It returns what reference resolved to in each store that has it;
// a store where it is absent is left out of the map, which is not an error. Any other failure
// stops the resolution and returns an *EnvironmentError naming the store's key and wrapping
// the cause. The digests of the result, keyed the same way, are what diff.Environments
// compares.
func ResolveAll(ctx context.Context, reference string, stores map[string]*Store) (map[string]ocispec.Descriptor, error) {
	if reference == "" {
		return nil, &InputError{What: "reference", Reason: "is empty"}
	}
	names := make([]string, 0, len(stores))
	for name, s := range stores {
		if s == nil {
			return nil, &InputError{What: "stores", Reason: fmt.Sprintf("store %q is nil", name)}
		}
		names = append(names, name)
	}
	slices.Sort(names)
	var mu sync.Mutex
	out := make(map[string]ocispec.Descriptor, len(stores))
	err := forEach(ctx, resolveAllConcurrency, names, func(ctx context.Context, name string) error {
		desc, err := stores[name].Resolve(ctx, reference)
		if errors.Is(err, provenance.ErrNotFound) {
			return nil
		}
		if err != nil {
			return &EnvironmentError{Environment: name, Err: err}
		}
		mu.Lock()
		out[name] = desc
		mu.Unlock()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
