package oras

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/provkit/provkit/provenance"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry"
)

// Media types of manifests that Docker tooling still writes and that provkit reads.
const (
	mediaTypeDockerManifest     = "application/vnd.docker.distribution.manifest.v2+json"
	mediaTypeDockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
)

// BuildKit's annotations on attestation manifests inside an image index, from
// https://github.com/moby/buildkit/blob/master/docs/attestations/attestation-storage.md.
const (
	// AnnotationDockerReferenceType marks an index entry as an attestation manifest.
	AnnotationDockerReferenceType = "vnd.docker.reference.type"
	// AnnotationDockerReferenceDigest names the image manifest an attestation manifest describes.
	AnnotationDockerReferenceDigest = "vnd.docker.reference.digest"
	// DockerReferenceTypeAttestation is the AnnotationDockerReferenceType value of attestation manifests.
	DockerReferenceTypeAttestation = "attestation-manifest"
)

// Annotations Attach adds to the attestation manifests it writes, next to cosign's. They
// repeat, in the manifest's own annotations, what its single layer already says, because the
// referrers API and the referrers tag index copy a manifest's annotations into the descriptors
// they list (distribution-spec v1.1 "Listing Referrers"; oras-go v2 writes them into the tag
// index). With them one listing tells which bundle each attestation holds: Attach recognises a
// bundle it already attached without reading any manifest, and FetchAttestation fetches the
// bundle blob directly, one request per bundle instead of two.
//
// Readers that do not know these keys ignore them, as the image-spec requires of unknown
// annotation keys: cosign's retrieval (specs/BUNDLE_SPEC.md in sigstore/cosign) and
// `cosign verify-attestation` and `cosign tree` read the manifest and its first layer, and
// `oras discover` shows annotations without interpreting them.
const (
	// AnnotationBundleDigest is the digest of the bundle bytes, "sha256:<hex>": the digest of the
	// attestation manifest's single layer.
	AnnotationBundleDigest = "dev.provkit.bundle.digest"
	// AnnotationBundleSize is the size of the bundle bytes in decimal, the size of that layer.
	AnnotationBundleSize = "dev.provkit.bundle.size"
	// AnnotationBundleReplaces is the digest of the bundle bytes that this attestation's bundle
	// re-signs, "sha256:<hex>", written from provenance.Bundle.Replaces and present only when
	// that is set. The bundle it names stays attached beside this one, as history.
	AnnotationBundleReplaces = "dev.provkit.bundle.replaces"
	// AnnotationBundleEffective is the time from which the statement in this attestation's
	// bundle takes effect, in RFC 3339 with nanoseconds in UTC, written from
	// provenance.Bundle.Effective and present only when that is set.
	AnnotationBundleEffective = "dev.provkit.bundle.effective"
)

// EffectiveTime returns the time from which the statement in the attestation manifest m takes
// effect, read from its AnnotationBundleEffective annotation as a listing of referrers or the
// manifest itself carries it: the zero time and nil without the annotation, and a
// *MalformedError (ErrMalformed) naming m when the value is not an RFC 3339 time.
//
// Like ReplacedBundle's, the annotation is unsigned. It serves to order attestations before
// reading them (gate.Lifecycle verifies the latest statuses first and stops there); a reader
// must compare it with the verified statement and, where they differ, read everything.
func EffectiveTime(m ocispec.Descriptor) (time.Time, error) {
	v, ok := m.Annotations[AnnotationBundleEffective]
	if !ok {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, &MalformedError{Digest: m.Digest, Reason: fmt.Sprintf("annotation %s: %q is not an RFC 3339 time", AnnotationBundleEffective, v)}
	}
	return t.UTC(), nil
}

// effective is EffectiveTime for the reading paths, which ignore a malformed value.
func effective(m ocispec.Descriptor) time.Time {
	t, _ := EffectiveTime(m)
	return t
}

// ReplacedBundle returns the digest of the bundle the attestation manifest m re-signs, read
// from its AnnotationBundleReplaces annotation as a listing of referrers (Discover's
// Attestation.Manifest) or the manifest itself carries it: "" and nil without the annotation,
// and "" with a *MalformedError (ErrMalformed) naming m when the value is not a valid digest.
//
// The annotation is unsigned: whoever can push to the repository can write any value. It
// serves to walk history from a new bundle to the one it replaces; what the old bundle says,
// and who signed it, only its own verification tells.
func ReplacedBundle(m ocispec.Descriptor) (digest.Digest, error) {
	v, ok := m.Annotations[AnnotationBundleReplaces]
	if !ok {
		return "", nil
	}
	d, err := digest.Parse(v)
	if err != nil {
		return "", &MalformedError{Digest: m.Digest, Reason: fmt.Sprintf("annotation %s: %q is not a digest: %v", AnnotationBundleReplaces, v, err)}
	}
	return d, nil
}

// replaces is ReplacedBundle for the reading paths, which ignore a malformed value: a bad
// annotation must not make the attestation it sits on unreadable.
func replaces(m ocispec.Descriptor) digest.Digest {
	d, _ := ReplacedBundle(m)
	return d
}

// bundleHint returns the descriptor of the bundle that the listed annotations of an attestation
// manifest name (AnnotationBundleDigest and AnnotationBundleSize, media type from the artifact
// type), and false when they name none or are malformed.
//
// The result is a claim of whoever wrote the listing, not something read from the manifest:
// callers fetch it with digest and size verification (fetchBytes caps it at
// provenance.MaxBundleBytes) and treat it as a hint, keeping the manifest path for when it fails.
func bundleHint(m ocispec.Descriptor) (ocispec.Descriptor, bool) {
	ds, ss := m.Annotations[AnnotationBundleDigest], m.Annotations[AnnotationBundleSize]
	if ds == "" || ss == "" || m.ArtifactType == "" || isManifest(m.ArtifactType) || isIndex(m.ArtifactType) {
		return ocispec.Descriptor{}, false
	}
	d, err := digest.Parse(ds)
	if err != nil {
		return ocispec.Descriptor{}, false
	}
	n, err := strconv.ParseInt(ss, 10, 64)
	if err != nil || n <= 0 || strconv.FormatInt(n, 10) != ss {
		return ocispec.Descriptor{}, false
	}
	return ocispec.Descriptor{MediaType: m.ArtifactType, Digest: d, Size: n}, true
}

func isManifest(mediaType string) bool {
	switch mediaType {
	case ocispec.MediaTypeImageManifest, mediaTypeDockerManifest:
		return true
	}
	return false
}

func isIndex(mediaType string) bool {
	switch mediaType {
	case ocispec.MediaTypeImageIndex, mediaTypeDockerManifestList:
		return true
	}
	return false
}

// document is the union of the fields provkit reads from manifests and indexes.
type document struct {
	MediaType    string               `json:"mediaType,omitempty"`
	ArtifactType string               `json:"artifactType,omitempty"`
	Config       *ocispec.Descriptor  `json:"config,omitempty"`
	Layers       []ocispec.Descriptor `json:"layers,omitempty"`
	Manifests    []ocispec.Descriptor `json:"manifests,omitempty"`
	Subject      *ocispec.Descriptor  `json:"subject,omitempty"`
	Annotations  map[string]string    `json:"annotations,omitempty"`
}

// parseDocument decodes a manifest or index read from a store. It is the parser of untrusted
// manifest bytes; it checks sizes and the shape of every descriptor it returns.
func parseDocument(dgst digest.Digest, data []byte) (*document, error) {
	if len(data) > provenance.MaxManifestBytes {
		return nil, &provenance.SizeError{What: "manifest " + dgst.String(), Limit: provenance.MaxManifestBytes, Size: int64(len(data))}
	}
	var doc document
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, &MalformedError{Digest: dgst, Reason: err.Error()}
	}
	if len(doc.Layers) > provenance.MaxReferrers || len(doc.Manifests) > provenance.MaxReferrers {
		return nil, &LimitError{What: "descriptors in manifest " + dgst.String(), Limit: provenance.MaxReferrers}
	}
	check := func(what string, d ocispec.Descriptor) error {
		if err := d.Digest.Validate(); err != nil {
			return &MalformedError{Digest: dgst, Reason: fmt.Sprintf("%s digest %q: %v", what, d.Digest, err)}
		}
		if d.Size < 0 {
			return &MalformedError{Digest: dgst, Reason: fmt.Sprintf("%s %s has negative size %d", what, d.Digest, d.Size)}
		}
		return nil
	}
	if doc.Config != nil {
		if err := check("config", *doc.Config); err != nil {
			return nil, err
		}
	}
	if doc.Subject != nil {
		if err := check("subject", *doc.Subject); err != nil {
			return nil, err
		}
	}
	for _, l := range doc.Layers {
		if err := check("layer", l); err != nil {
			return nil, err
		}
	}
	for _, m := range doc.Manifests {
		if err := check("manifest", m); err != nil {
			return nil, err
		}
	}
	return &doc, nil
}

// readVerified reads the content desc names from rc, at most limit bytes, verifying digest and size.
func readVerified(rc io.ReadCloser, desc ocispec.Descriptor, what string, limit int64) ([]byte, error) {
	defer rc.Close()
	if desc.Size > limit {
		return nil, &provenance.SizeError{What: what + " " + desc.Digest.String(), Limit: limit, Size: desc.Size}
	}
	data, err := content.ReadAll(rc, desc)
	if err != nil {
		if errors.Is(err, content.ErrMismatchedDigest) || errors.Is(err, content.ErrTrailingData) ||
			errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, content.ErrInvalidDescriptorSize) {
			return nil, &IntegrityError{Descriptor: desc, Err: err}
		}
		return nil, fmt.Errorf("oras: read %s %s: %w", what, desc.Digest, err)
	}
	return data, nil
}

// fetchBytes fetches and verifies the content desc names, capped at limit.
func fetchBytes(ctx context.Context, f content.Fetcher, desc ocispec.Descriptor, what string, limit int64) ([]byte, error) {
	if err := desc.Digest.Validate(); err != nil {
		return nil, &InputError{What: what, Reason: fmt.Sprintf("digest %q: %v", desc.Digest, err)}
	}
	if desc.Size > limit {
		return nil, &provenance.SizeError{What: what + " " + desc.Digest.String(), Limit: limit, Size: desc.Size}
	}
	if desc.Size < 0 {
		return nil, &InputError{What: what, Reason: fmt.Sprintf("%s has negative size %d", desc.Digest, desc.Size)}
	}
	rc, err := f.Fetch(expecting(ctx, desc), desc)
	if err != nil {
		return nil, notFound(err, what+" "+desc.Digest.String())
	}
	return readVerified(rc, desc, what, limit)
}

// fetchDocument fetches, verifies and parses a manifest or index.
func fetchDocument(ctx context.Context, f content.Fetcher, desc ocispec.Descriptor) (*document, []byte, error) {
	data, err := fetchBytes(ctx, f, desc, "manifest", provenance.MaxManifestBytes)
	if err != nil {
		return nil, nil, err
	}
	doc, err := parseDocument(desc.Digest, data)
	if err != nil {
		return nil, nil, err
	}
	return doc, data, nil
}

// fetchByTag reads the manifest a tag points to, in one round trip where the target allows.
func fetchByTag(ctx context.Context, t content.ReadOnlyStorage, resolver content.Resolver, tag string) (ocispec.Descriptor, *document, error) {
	var desc ocispec.Descriptor
	var rc io.ReadCloser
	var err error
	if rf, ok := t.(registry.ReferenceFetcher); ok {
		desc, rc, err = rf.FetchReference(ctx, tag)
	} else {
		desc, err = resolver.Resolve(ctx, tag)
		if err == nil {
			rc, err = t.Fetch(ctx, desc)
		}
	}
	if err != nil {
		return desc, nil, notFound(err, "tag "+tag)
	}
	data, err := readVerified(rc, desc, "manifest", provenance.MaxManifestBytes)
	if err != nil {
		return desc, nil, err
	}
	doc, err := parseDocument(desc.Digest, data)
	return desc, doc, err
}

// notFound turns oras-go's not-found errors into ones wrapping provenance.ErrNotFound.
func notFound(err error, what string) error {
	if errors.Is(err, errdef.ErrNotFound) {
		return fmt.Errorf("oras: %s: %w (%w)", what, provenance.ErrNotFound, err)
	}
	return fmt.Errorf("oras: %s: %w", what, err)
}
