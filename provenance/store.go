package provenance

import (
	"context"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Size limits applied to input an attacker controls. Each is checked while reading, so an
// oversized input costs at most the limit in memory.
const (
	// MaxBundleBytes is the largest signed bundle or envelope provkit reads: 64 MiB, enough for a
	// base64-encoded SBOM of about 45 MiB inside a DSSE envelope.
	MaxBundleBytes = 64 << 20
	// MaxStatementBytes is the largest statement provkit parses or signs: 48 MiB.
	MaxStatementBytes = 48 << 20
	// MaxManifestBytes is the largest OCI manifest or index provkit reads: 4 MiB, as registries commonly allow.
	MaxManifestBytes = 4 << 20
	// MaxReferrers is the most attestations provkit lists for one subject.
	MaxReferrers = 10000
)

// Bundle is signed provenance as it is stored: the exact bytes that were signed over, and their
// media type. It is a value; the bytes must not be modified once the bundle exists.
type Bundle struct {
	// MediaType is one of MediaTypeBundleV03 (what provkit writes), an older bundle version, or
	// MediaTypeDSSE for a bare envelope.
	MediaType string
	// Data holds the serialised bundle or envelope.
	Data []byte
	// PredicateType is the predicate type of the statement inside, as recorded by whoever stored
	// it. It serves to find and label attestations; verification never trusts it.
	PredicateType string
	// Replaces is the digest (Digest) of the bundle this one re-signs, when it was made by
	// signing the same statement again with another key or identity, as in a key rotation;
	// empty otherwise. The old bundle stays stored beside the new one, as history. Replaces is
	// recorded beside the signed bytes, not inside them: it serves to find history, and
	// verification never trusts it.
	Replaces digest.Digest
	// Effective is the time from which the statement inside takes effect, for predicates that
	// have one (a lifecycle status's Effective), and zero otherwise. Like Replaces it is recorded
	// beside the signed bytes, not inside them: it lets a reader order many statements from one
	// listing and verify only the latest, and verification never trusts it.
	Effective time.Time
}

// Digest returns the sha256 digest of the bundle bytes.
func (b Bundle) Digest() digest.Digest { return digest.FromBytes(b.Data) }

// Descriptor returns an OCI descriptor of the bundle bytes.
func (b Bundle) Descriptor() ocispec.Descriptor {
	return ocispec.Descriptor{MediaType: b.MediaType, Digest: b.Digest(), Size: int64(len(b.Data))}
}

// Attacher stores a bundle as an attestation of a subject.
type Attacher interface {
	// Attach stores b so that it refers to subject, and returns the descriptor of the stored
	// attestation (for OCI stores, its manifest). Attaching the same bundle to the same subject
	// twice stores it once and returns the same descriptor.
	Attach(ctx context.Context, subject ocispec.Descriptor, b Bundle) (ocispec.Descriptor, error)
}

// Lister lists the attestations of a subject.
type Lister interface {
	// Referrers returns the descriptors of the attestations that refer to subject, filtered to
	// artifactType unless it is empty, in a stable order. It returns at most MaxReferrers and
	// fails with an error wrapping ErrTooLarge beyond that; an unknown subject yields ErrNotFound.
	Referrers(ctx context.Context, subject ocispec.Descriptor, artifactType string) ([]ocispec.Descriptor, error)
}

// Fetcher reads one attestation.
type Fetcher interface {
	// Fetch returns the bundle an attestation descriptor (as returned by Referrers or Attach)
	// refers to, with its digest and size verified while reading, and at most MaxBundleBytes long.
	Fetch(ctx context.Context, attestation ocispec.Descriptor) (Bundle, error)
}

// Store is the storage contract shared by every backend: registries, OCI layouts and memory.
// Implementations are safe for concurrent use, and no operation loses an attestation already stored.
type Store interface {
	Attacher
	Lister
	Fetcher
}
