package oras

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/provkit/provkit/provenance"
	"oras.land/oras-go/v2/content/memory"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry"
)

// A file stored with PushFile is found again from its own digest through a file record: a tag
// of its manifest, "sha256-<file hex>.file-<first 32 hex of the manifest digest>", which
// PushFile writes beside the caller's tag. One record per manifest, so the same file pushed
// at two clock times (two manifests, each with its own attestations) is found under both.

// fileRecordSep separates the file from its manifest in a file record tag.
const fileRecordSep = ".file-"

// fileRecordPrefix returns the prefix of the file record tags of file, or "" when the
// digest is too long for one.
func fileRecordPrefix(file digest.Digest) string {
	p := file.Algorithm().String() + "-" + file.Encoded() + fileRecordSep
	if len(p)+recordHexLen > 128 {
		return ""
	}
	return p
}

// fileRecordTag returns the tag that records manifest as a stored copy of file, or "".
func fileRecordTag(file, manifest digest.Digest) string {
	p := fileRecordPrefix(file)
	if p == "" || len(manifest.Encoded()) < recordHexLen {
		return ""
	}
	return p + manifest.Encoded()[:recordHexLen]
}

// FileManifests returns the manifests under which the Store holds the file whose digest is
// file, as PushFile stored it: manifests of artifactType ArtifactTypeFile whose single layer is
// the file. Attestations about the file are attached to them (Referrers, Discover), so a
// reader holding only a file's digest (an input named by a statement) finds its provenance.
//
// It reads the file records PushFile tags each manifest with, in every backend: a registry
// (its tag listing, up to 100,000 tags read), an OCI layout and a memory store. In an OCI
// layout it also finds, through the layout's graph, manifests that hold the file but carry no
// record, such as those written by provkit before it wrote records, by oras push or by
// Copy. Every manifest found is read, capped at provenance.MaxManifestBytes, and kept only
// when it holds exactly that file. The result is sorted by digest, at most the Store's
// referrer limit long (beyond it a *LimitError), and empty, with no error, when the Store
// holds no such manifest. A file digest that is not valid fails with an *InputError.
func (s *Store) FileManifests(ctx context.Context, file digest.Digest) ([]ocispec.Descriptor, error) {
	if err := file.Validate(); err != nil {
		return nil, &InputError{What: "file digest", Reason: fmt.Sprintf("%q: %v", file, err)}
	}
	var candidates []ocispec.Descriptor
	tags, err := s.fileRecords(ctx, file)
	if err != nil {
		return nil, err
	}
	for _, t := range tags {
		desc, err := s.target.Resolve(ctx, t)
		if errors.Is(err, errdef.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("oras: resolve file record %s: %w", t, err)
		}
		if fileRecordTag(file, desc.Digest) != t {
			continue // a record moved to another manifest
		}
		candidates = append(candidates, ocispec.Descriptor{MediaType: desc.MediaType, Digest: desc.Digest, Size: desc.Size})
	}
	if s.repo == nil {
		// Layouts index their graph by digest; memory stores by media type, digest and size,
		// which a lookup by digest cannot give, and they have their records.
		preds, err := s.target.Predecessors(ctx, ocispec.Descriptor{MediaType: mediaTypeFile, Digest: file})
		if err != nil && !errors.Is(err, errdef.ErrNotFound) {
			return nil, fmt.Errorf("oras: find manifests of file %s: %w", file, err)
		}
		candidates = append(candidates, preds...)
	}

	seen := map[digest.Digest]bool{}
	var unique []ocispec.Descriptor
	for _, c := range candidates {
		if !seen[c.Digest] && isManifest(c.MediaType) && c.Size > 0 && c.Size <= provenance.MaxManifestBytes {
			seen[c.Digest] = true
			unique = append(unique, c)
		}
	}
	if len(unique) > s.o.maxReferrers {
		return nil, &LimitError{What: "manifests of file " + file.String(), Limit: s.o.maxReferrers}
	}
	var mu sync.Mutex
	var out []ocispec.Descriptor
	err = forEach(ctx, s.o.concurrency, unique, func(ctx context.Context, c ocispec.Descriptor) error {
		doc, _, err := fetchDocument(ctx, s.reader(), c)
		if errors.Is(err, provenance.ErrNotFound) || errors.Is(err, errdef.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if !holdsFile(doc, file) {
			return nil
		}
		mu.Lock()
		out = append(out, listingEntry(c, doc))
		mu.Unlock()
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b ocispec.Descriptor) int { return strings.Compare(a.Digest.String(), b.Digest.String()) })
	return out, nil
}

// holdsFile reports whether doc is a PushFile manifest of file.
func holdsFile(doc *document, file digest.Digest) bool {
	artifactType := doc.ArtifactType
	if artifactType == "" && doc.Config != nil {
		artifactType = doc.Config.MediaType
	}
	return artifactType == ArtifactTypeFile && doc.Subject == nil && len(doc.Layers) == 1 && doc.Layers[0].Digest == file
}

// fileRecords lists the file record tags of file the Store's target lists, reading at most
// maxTagsScanned tags; a target that lists no tags has none.
func (s *Store) fileRecords(ctx context.Context, file digest.Digest) ([]string, error) {
	prefix := fileRecordPrefix(file)
	tl, ok := s.target.(registry.TagLister)
	if prefix == "" || !ok {
		return nil, nil
	}
	var tags []string
	scanned := 0
	// Tags sort after their prefix less its last character, which registries honouring last
	// (as the distribution spec asks) use to skip the tags before them.
	err := tl.Tags(ctx, strings.TrimSuffix(prefix, "-"), func(page []string) error {
		for _, t := range page {
			if scanned++; scanned > maxTagsScanned {
				return &LimitError{What: "tags read for records of file " + file.String(), Limit: maxTagsScanned}
			}
			if strings.HasPrefix(t, prefix) {
				tags = append(tags, t)
				if len(tags) > s.o.maxReferrers {
					return &LimitError{What: "records of file " + file.String(), Limit: s.o.maxReferrers}
				}
			}
		}
		return nil
	})
	if errors.Is(err, errdef.ErrNotFound) || errors.Is(err, errdef.ErrUnsupported) {
		return nil, nil
	}
	if err != nil {
		var le *LimitError
		if errors.As(err, &le) {
			return nil, err
		}
		return nil, fmt.Errorf("oras: list records of file %s: %w", file, err)
	}
	slices.Sort(tags)
	return slices.Compact(tags), nil
}

// memoryTarget is oras-go's memory store that also lists its tags, as registries and layouts
// do, so file records are found in memory too. It is safe for concurrent use.
type memoryTarget struct {
	*memory.Store
	mu   sync.Mutex
	tags map[string]bool
}

func newMemoryTarget() *memoryTarget {
	return &memoryTarget{Store: memory.New(), tags: map[string]bool{}}
}

// Tag points reference at desc, and remembers the tag.
func (m *memoryTarget) Tag(ctx context.Context, desc ocispec.Descriptor, reference string) error {
	if err := m.Store.Tag(ctx, desc, reference); err != nil {
		return err
	}
	m.mu.Lock()
	m.tags[reference] = true
	m.mu.Unlock()
	return nil
}

// Tags lists the store's tags in ascending order, those after last when last is not empty.
func (m *memoryTarget) Tags(_ context.Context, last string, fn func(tags []string) error) error {
	m.mu.Lock()
	var tags []string
	for t := range m.tags {
		if last == "" || t > last {
			tags = append(tags, t)
		}
	}
	m.mu.Unlock()
	slices.Sort(tags)
	return fn(tags)
}
