package oras

import (
	"context"
	"errors"
	"fmt"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/provkit/provkit/provenance"
	orasgo "oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/errdef"
)

// Copy copies the image srcRef names in src to dst, tagged dstRef (srcRef when dstRef is
// empty), with its whole referrer graph: attestations, their signatures and anything else that
// refers to it, at any depth (oras-go's ExtendedCopy), plus cosign's legacy ".att" and ".sig"
// tags. Copying into an OCI layout (NewLayout) makes an evidence pack that Discover and Fetch
// read with no network. Referrer listings are bounded as in Referrers. It returns the
// descriptor of the copied image.
func Copy(ctx context.Context, src *Store, srcRef string, dst *Store, dstRef string) (ocispec.Descriptor, error) {
	if src == nil || dst == nil {
		return ocispec.Descriptor{}, &InputError{What: "store", Reason: "is nil"}
	}
	if dstRef == "" {
		dstRef = srcRef
	}
	root, err := src.Resolve(ctx, srcRef)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	opts := orasgo.ExtendedCopyOptions{ExtendedCopyGraphOptions: orasgo.ExtendedCopyGraphOptions{
		CopyGraphOptions: orasgo.CopyGraphOptions{Concurrency: src.o.concurrency},
		FindPredecessors: func(ctx context.Context, _ content.ReadOnlyGraphStorage, desc ocispec.Descriptor) ([]ocispec.Descriptor, error) {
			if !isManifest(desc.MediaType) && !isIndex(desc.MediaType) {
				return nil, nil
			}
			refs, _, err := src.referrers(ctx, desc, "")
			if errors.Is(err, provenance.ErrNotFound) {
				return nil, nil
			}
			return refs, err
		},
	}}
	desc, err := orasgo.ExtendedCopy(ctx, src.target, srcRef, dst.target, dstRef, opts)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("oras: copy %s with its referrers: %w", srcRef, err)
	}
	for _, suffix := range []string{".att", ".sig"} {
		tag := root.Digest.Algorithm().String() + "-" + root.Digest.Encoded() + suffix
		if _, err := src.target.Resolve(ctx, tag); errors.Is(err, errdef.ErrNotFound) {
			continue
		} else if err != nil {
			return ocispec.Descriptor{}, fmt.Errorf("oras: resolve cosign tag %s: %w", tag, err)
		}
		if _, err := orasgo.Copy(ctx, src.target, tag, dst.target, tag, orasgo.CopyOptions{}); err != nil {
			return ocispec.Descriptor{}, fmt.Errorf("oras: copy cosign tag %s: %w", tag, err)
		}
	}
	return desc, nil
}
