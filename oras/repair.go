package oras

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/provkit/provkit/provenance"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry/remote"
)

// Writers of one subject's referrers in different processes cannot share a lock, and neither
// the referrers tag index (a client-side read-modify-write of one tag) nor some registries'
// own referrers lists (olareg v0.2.2) survive concurrent writers. provkit makes them converge
// with a record: every attestation manifest Attach pushes to a registry is pushed by a tag of
// its own, recordTag, "sha256-<subject hex>.prov-<first 32 hex of the manifest digest>", in
// the same request that stores it. A referrer that is recorded but not listed is an orphan.
// After its push, Attach lists the subject's referrers and records, re-lists every orphan
// (merging it into the tag index, or pushing its manifest again on a registry with the
// referrers API) and repeats until its own entry is listed and no orphan is left; only then
// does it return. Listing the subject on a registry without the referrers API (Referrers,
// Discover, Copy) merges orphans the same way, and Repair does it on demand.
//
// Why this converges: a provkit writer's record exists before it reads the index it will
// overwrite, so a writer that drops another's entry does so after that entry's record exists,
// and its own check after the write sees the orphan and re-lists it. Once every writer has
// returned, every acknowledged attestation is listed.
//
// The window left: a client that records nothing (cosign, oras, an older provkit) can still
// overwrite the tag index with a copy read before an Attach and written after it returned;
// the attestation is then missing until the next Attach, listing or Repair of that subject on
// a provkit Store, which re-lists it from its record. On a registry with the referrers API
// provkit only lists from the API and does not merge orphans while reading: Attach and Repair
// do.

// recordSep separates the subject from the manifest in a record tag.
const recordSep = ".prov-"

// recordHexLen is how much of the manifest digest a record tag keeps (128 bits), so the tag
// stays within the 128 characters a tag may have.
const recordHexLen = 32

// recordPrefix returns the prefix of the record tags of subject's referrers, or "" when the
// subject's digest is too long for one.
func recordPrefix(subject digest.Digest) string {
	p := subject.Algorithm().String() + "-" + subject.Encoded() + recordSep
	if len(p)+recordHexLen > 128 {
		return ""
	}
	return p
}

// recordTag returns the tag that records manifest as a referrer of subject, or "".
func recordTag(subject, manifest digest.Digest) string {
	p := recordPrefix(subject)
	if p == "" || len(manifest.Encoded()) < recordHexLen {
		return ""
	}
	return p + manifest.Encoded()[:recordHexLen]
}

// maxTagsScanned bounds how many tags one listing of records reads.
const maxTagsScanned = 100_000

// records lists the record tags of subject's referrers. The listing asks for the tags after
// the subject's records begin, which registries that honour last (as the distribution spec
// asks) use to skip the tags before them; the rest is read to the end, up to maxTagsScanned
// tags, since a registry may ignore last and answer in any order (distribution 2.8 does).
func (s *Store) records(ctx context.Context, subject digest.Digest) ([]string, error) {
	prefix := recordPrefix(subject)
	if prefix == "" || s.repo == nil {
		return nil, nil
	}
	var tags []string
	scanned := 0
	err := s.repo.Tags(ctx, strings.TrimSuffix(prefix, "-"), func(page []string) error {
		for _, t := range page {
			if scanned++; scanned > maxTagsScanned {
				return &LimitError{What: "tags read for records of referrers of " + subject.String(), Limit: maxTagsScanned}
			}
			if strings.HasPrefix(t, prefix) {
				tags = append(tags, t)
				if len(tags) > s.o.maxReferrers {
					return &LimitError{What: "records of referrers of " + subject.String(), Limit: s.o.maxReferrers}
				}
			}
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, errdef.ErrNotFound) {
			return nil, nil
		}
		return nil, fmt.Errorf("oras: list records of referrers of %s: %w", subject, err)
	}
	return tags, nil
}

// orphans returns the referrers of subject that are recorded but absent from listed, each as
// a referrers listing describes it, read from its manifest, whose subject must be subject.
func (s *Store) orphans(ctx context.Context, subject ocispec.Descriptor, listed []ocispec.Descriptor) ([]ocispec.Descriptor, [][]byte, error) {
	tags, err := s.records(ctx, subject.Digest)
	if err != nil {
		return nil, nil, err
	}
	have := map[string]bool{}
	for _, d := range listed {
		if e := d.Digest.Encoded(); len(e) >= recordHexLen {
			have[e[:recordHexLen]] = true
		}
	}
	var out []ocispec.Descriptor
	var raw [][]byte
	for _, t := range tags {
		if have[strings.TrimPrefix(t, recordPrefix(subject.Digest))] {
			continue
		}
		desc, doc, data, err := s.fetchRecord(ctx, t)
		if errors.Is(err, provenance.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		if doc.Subject == nil || doc.Subject.Digest != subject.Digest || recordTag(subject.Digest, desc.Digest) != t {
			continue
		}
		out = append(out, listingEntry(desc, doc))
		raw = append(raw, data)
	}
	return out, raw, nil
}

func (s *Store) fetchRecord(ctx context.Context, tag string) (ocispec.Descriptor, *document, []byte, error) {
	desc, rc, err := s.repo.Manifests().FetchReference(ctx, tag)
	if err != nil {
		return desc, nil, nil, notFound(err, "tag "+tag)
	}
	data, err := readVerified(rc, desc, "manifest", provenance.MaxManifestBytes)
	if err != nil {
		return desc, nil, nil, err
	}
	doc, err := parseDocument(desc.Digest, data)
	return desc, doc, data, err
}

// listingEntry is the descriptor a referrers listing gives for a manifest.
func listingEntry(desc ocispec.Descriptor, doc *document) ocispec.Descriptor {
	d := ocispec.Descriptor{MediaType: desc.MediaType, Digest: desc.Digest, Size: desc.Size,
		ArtifactType: doc.ArtifactType, Annotations: doc.Annotations}
	if d.ArtifactType == "" && doc.Config != nil {
		d.ArtifactType = doc.Config.MediaType
	}
	return d
}

// relist puts entries back among subject's referrers: merged into the referrers tag index
// idx as read (read afresh when nil), or pushed again (raw holds their manifests) where the
// registry lists referrers itself.
func (s *Store) relist(ctx context.Context, subject ocispec.Descriptor, idx *ocispec.Index, entries []ocispec.Descriptor, raw [][]byte) error {
	if len(entries) == 0 {
		return nil
	}
	if s.capability() == capTag {
		if idx == nil {
			var err error
			if idx, err = s.fetchTagIndex(ctx, subject.Digest); err != nil {
				return err
			}
		}
		return s.writeTagIndex(ctx, subject.Digest, idx, entries)
	}
	for i, d := range entries {
		if err := s.pushManifest(ctx, subject.Digest, d, raw[i]); err != nil {
			return err
		}
	}
	return nil
}

// referrersTag is the tag of subject's referrers tag index.
func referrersTag(subject digest.Digest) string {
	return subject.Algorithm().String() + "-" + subject.Encoded()
}

// mergeTagIndex adds entries to subject's referrers tag index as it is now.
func (s *Store) mergeTagIndex(ctx context.Context, subject ocispec.Descriptor, entries []ocispec.Descriptor) error {
	idx, err := s.fetchTagIndex(ctx, subject.Digest)
	if err != nil {
		return err
	}
	return s.writeTagIndex(ctx, subject.Digest, idx, entries)
}

// fetchTagIndex reads subject's referrers tag index; an empty one when there is none yet.
func (s *Store) fetchTagIndex(ctx context.Context, subject digest.Digest) (*ocispec.Index, error) {
	tag := referrersTag(subject)
	idx := &ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex}
	desc, rc, err := s.repo.Manifests().FetchReference(ctx, tag)
	if errors.Is(err, errdef.ErrNotFound) {
		return idx, nil
	}
	if err != nil {
		return nil, fmt.Errorf("oras: read referrers tag index %s: %w", tag, err)
	}
	data, err := readVerified(rc, desc, "referrers tag index", provenance.MaxManifestBytes*4)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, idx); err != nil {
		return nil, &MalformedError{Digest: desc.Digest, Reason: err.Error()}
	}
	if len(idx.Manifests) > s.o.maxReferrers {
		return nil, &LimitError{What: "referrers of " + subject.String(), Limit: s.o.maxReferrers}
	}
	return idx, nil
}

// writeTagIndex writes idx, as read, with entries added, as subject's referrers tag index.
func (s *Store) writeTagIndex(ctx context.Context, subject digest.Digest, idx *ocispec.Index, entries []ocispec.Descriptor) error {
	merged := *idx
	merged.Manifests = slices.Clone(idx.Manifests)
	changed := false
	for _, e := range entries {
		if !slices.ContainsFunc(merged.Manifests, func(d ocispec.Descriptor) bool { return d.Digest == e.Digest }) {
			merged.Manifests = append(merged.Manifests, e)
			changed = true
		}
	}
	if !changed {
		return nil
	}
	data, err := json.Marshal(merged)
	if err != nil {
		return err
	}
	tag := referrersTag(subject)
	nd := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageIndex, Digest: digest.FromBytes(data), Size: int64(len(data))}
	if err := s.repo.Manifests().PushReference(ctx, nd, bytes.NewReader(data), tag); err != nil {
		return fmt.Errorf("oras: write referrers tag index %s: %w", tag, err)
	}
	return nil
}

// pushManifest pushes an attestation manifest by its record tag, without oras-go's referrers
// tag index update: settle keeps the index.
func (s *Store) pushManifest(ctx context.Context, subject digest.Digest, desc ocispec.Descriptor, data []byte) error {
	var err error
	if tag := recordTag(subject, desc.Digest); tag != "" {
		err = s.pushRepo.Manifests().PushReference(ctx, desc, bytes.NewReader(data), tag)
	} else {
		err = s.pushRepo.Manifests().Push(ctx, desc, bytes.NewReader(data))
	}
	if err != nil && !errors.Is(err, errdef.ErrAlreadyExists) {
		return fmt.Errorf("oras: push attestation manifest %s: %w", desc.Digest, err)
	}
	return nil
}

// settle runs until subject's referrers list own (when it is not zero) and every recorded
// referrer, re-listing what is missing, and returns what it re-listed besides own. It fails
// with a *LostUpdateError when that does not hold after the Store's attempts.
func (s *Store) settle(ctx context.Context, subject ocispec.Descriptor, own ocispec.Descriptor, ownData []byte) ([]ocispec.Descriptor, error) {
	var relisted []ocispec.Descriptor
	ownEntry := own
	if own.Digest != "" {
		doc, err := parseDocument(own.Digest, ownData)
		if err != nil {
			return nil, err
		}
		ownEntry = listingEntry(own, doc)
	}
	for attempt := 1; ; attempt++ {
		// On the tag schema the index is read as it is, to be written back with what is missing.
		var idx *ocispec.Index
		var listed []ocispec.Descriptor
		var err error
		if s.capability() == capTag {
			if idx, err = s.fetchTagIndex(ctx, subject.Digest); err != nil {
				return relisted, err
			}
			listed = idx.Manifests
		} else if listed, _, err = s.listReferrers(ctx, subject, ""); err != nil && !errors.Is(err, provenance.ErrNotFound) {
			return relisted, err
		}
		ownListed := own.Digest == "" || slices.ContainsFunc(listed, func(d ocispec.Descriptor) bool { return d.Digest == own.Digest })
		known := listed
		if !ownListed {
			known = append(slices.Clip(listed), own)
		}
		missing, raw, err := s.orphans(ctx, subject, known)
		if err != nil {
			return relisted, err
		}
		if !ownListed {
			missing, raw = append(missing, ownEntry), append(raw, ownData)
		}
		if len(missing) == 0 {
			return relisted, nil
		}
		if attempt > s.o.attempts {
			if own.Digest != "" && ownListed {
				// Ours is listed; what is left belongs to writers still at work, which check
				// their own entries, and any later listing or Repair lists it again.
				s.o.logger.WarnContext(ctx, "recorded referrers still missing from the subject's listing",
					"subject", subject.Digest, "missing", len(missing))
				return relisted, nil
			}
			d := own.Digest
			if ownListed {
				d = missing[0].Digest
			}
			return relisted, &LostUpdateError{Subject: subject.Digest, Attestation: d, Attempts: attempt - 1}
		}
		if err := s.relist(ctx, subject, idx, missing, raw); err != nil {
			// A concurrent writer can make one write fail (distribution refuses an index whose
			// entries it has not yet linked); the next attempt reads the state again.
			s.o.logger.WarnContext(ctx, "listing referrers again failed", "subject", subject.Digest, "err", err)
			if attempt == s.o.attempts {
				return relisted, err
			}
		} else {
			for _, m := range missing {
				if m.Digest != own.Digest && !slices.ContainsFunc(relisted, func(d ocispec.Descriptor) bool { return d.Digest == m.Digest }) {
					relisted = append(relisted, m)
				}
			}
		}
		// A lone writer, which found only its own entry to add, checks at once. Otherwise check
		// after a jittered pause, growing with each attempt, so writers that met here fall out
		// of step instead of overwriting each other again.
		if attempt == 1 && len(missing) == 1 && !ownListed {
			continue
		}
		wait := s.o.retryBase << min(attempt-1, 6)
		wait = wait/2 + rand.N(wait)
		select {
		case <-ctx.Done():
			return relisted, ctx.Err()
		case <-time.After(wait):
		}
	}
}

// Repair lists again every attestation of subject that a registry lost: referrers whose
// manifests are stored (and recorded by the tag Attach pushes each of them with) but that the
// referrers API or referrers tag index no longer lists, as concurrent writers elsewhere can
// leave them. It returns the descriptors it listed again, and succeeds with none when nothing
// is missing. Attach and, on registries without the referrers API, every listing of subject
// repair as well; Repair is for a subject no provkit Store writes or lists any more. Only
// referrers that Attach recorded can be found: an attestation another client wrote and a
// registry lost is out of reach.
//
// On an OCI layout (NewLayout) provkit's writers lose nothing, but a layout written by other
// tools can list less than it stores (oras-go's oci.Store in two processes rewrites index.json
// from a stale copy): there Repair reads every stored blob small enough to be a manifest and
// adds those whose subject is subject to index.json. In memory it returns none.
func (s *Store) Repair(ctx context.Context, subject ocispec.Descriptor) ([]ocispec.Descriptor, error) {
	if err := checkSubject(subject); err != nil {
		return nil, err
	}
	if err := s.writable("repair " + subject.Digest.String()); err != nil {
		return nil, err
	}
	if l, ok := s.target.(*layoutTarget); ok {
		return l.repair(ctx, subject.Digest)
	}
	if s.repo == nil {
		return nil, nil
	}
	if _, _, err := s.listReferrers(ctx, subject, ""); err != nil && !errors.Is(err, provenance.ErrNotFound) {
		return nil, err
	}
	mu := subjectLock(s.lock + "@" + subject.Digest.String())
	mu.Lock()
	defer mu.Unlock()
	return s.settle(ctx, subject, ocispec.Descriptor{}, nil)
}

// pushRepository returns a copy of r for pushing attestation manifests: it claims the
// referrers API, so oras-go does not update the referrers tag index itself (settle does, with
// the records, so concurrent writers converge).
func pushRepository(r *remote.Repository) *remote.Repository {
	p := &remote.Repository{
		Client:               r.Client,
		Reference:            r.Reference,
		PlainHTTP:            r.PlainHTTP,
		ManifestMediaTypes:   r.ManifestMediaTypes,
		TagListPageSize:      r.TagListPageSize,
		ReferrerListPageSize: r.ReferrerListPageSize,
		MaxMetadataBytes:     r.MaxMetadataBytes,
		SkipReferrersGC:      true,
		HandleWarning:        r.HandleWarning,
	}
	_ = p.SetReferrersCapability(true)
	return p
}
