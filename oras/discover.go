package oras

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/errgroup"

	"github.com/provkit/provkit/provenance"
)

// Source says where Discover found an attestation.
type Source string

// Places attestations live.
const (
	// SourceReferrersAPI is the OCI 1.1 referrers API of a registry.
	SourceReferrersAPI Source = "referrers-api"
	// SourceReferrersTag is the referrers tag schema ("sha256-<hex>" index tag) of a registry
	// without the API.
	SourceReferrersTag Source = "referrers-tag"
	// SourceGraph is the predecessor graph of an OCI layout or memory store.
	SourceGraph Source = "graph"
	// SourceCosignAttTag is cosign's legacy "sha256-<hex>.att" tag.
	SourceCosignAttTag Source = "cosign-att-tag"
	// SourceCosignSigTag is cosign's legacy "sha256-<hex>.sig" tag, holding signatures.
	SourceCosignSigTag Source = "cosign-sig-tag"
	// SourceBuildKitIndex is an attestation manifest BuildKit put inside the image index.
	SourceBuildKitIndex Source = "buildkit-index"
	// SourceNested is a referrer of a referrer, such as a signature on an SBOM.
	SourceNested Source = "nested"
)

// Attestation is one attestation Discover found. Pass it to FetchAttestation (or FetchAll) to
// read its bytes.
type Attestation struct {
	// Subject is the manifest the attestation is about: the image, one platform of an index for
	// BuildKit attestations, or the parent attestation for nested ones.
	Subject ocispec.Descriptor
	// Manifest is the manifest that holds the attestation, with its artifact type and
	// annotations: those the listing of referrers carries, or the manifest's own when the
	// listing carried none and Discover read the manifest.
	Manifest ocispec.Descriptor
	// Layer is the layer holding the bundle, envelope or statement, with its annotations (cosign's
	// legacy layers carry dev.sigstore.cosign/bundle, certificate and signature annotations that
	// their verification needs). It is empty for referrers whose manifest Discover did not need to
	// read: FetchAttestation then fetches the bundle Manifest's AnnotationBundleDigest and
	// AnnotationBundleSize name, or reads the manifest when it has none.
	Layer ocispec.Descriptor
	// ArtifactType is the manifest's artifact type, or the layer's media type for cosign's legacy
	// tags and BuildKit.
	ArtifactType string
	// PredicateType is the predicate type recorded in annotations, or "" when none is recorded
	// (signatures have none).
	PredicateType string
	// Source says where it was found.
	Source Source
	// Signed is false for statements stored without a signature (BuildKit's): they are claims
	// only, and no verifier accepts them.
	Signed bool
}

// Query filters Discover. The zero Query finds everything.
type Query struct {
	// ArtifactType keeps only attestations of this artifact type (see Attestation.ArtifactType).
	ArtifactType string
	// PredicateType keeps only attestations of this predicate type.
	PredicateType string
	// SkipNested skips referrers of referrers (one request per referrer on a registry).
	SkipNested bool
	// SkipLegacyTags skips cosign's ".att" and ".sig" tags (two requests on a registry).
	SkipLegacyTags bool
	// SkipBuildKit skips attestation manifests inside an image index.
	SkipBuildKit bool
}

func (q Query) keep(a Attestation) bool {
	if q.ArtifactType != "" && a.ArtifactType != q.ArtifactType && a.Layer.MediaType != q.ArtifactType {
		return false
	}
	return q.PredicateType == "" || a.PredicateType == q.PredicateType
}

// Discover returns every attestation of subject from every place attestations live: OCI
// referrers (API, tag schema or the local graph), cosign's legacy ".att" and ".sig" tags,
// BuildKit attestation manifests inside subject when it is an image index, and referrers of
// referrers; each reports where it was found. Referrers whose listing lacks a predicate type
// annotation (cosign's referrers tag index entries) have their manifest read to learn it, at
// most WithConcurrency at once. The result is sorted by source, subject and manifest digest.
// Every read is bounded (referrer count, pages, manifest size); limits fail with errors
// wrapping provenance.ErrTooLarge.
func (s *Store) Discover(ctx context.Context, subject ocispec.Descriptor, q Query) ([]Attestation, error) {
	if err := checkSubject(subject); err != nil {
		return nil, err
	}
	var (
		mu  sync.Mutex
		out []Attestation
	)
	emit := func(as ...Attestation) error {
		mu.Lock()
		defer mu.Unlock()
		for _, a := range as {
			if q.keep(a) {
				out = append(out, a)
			}
		}
		if len(out) > s.o.maxReferrers {
			return &LimitError{What: "attestations of " + subject.Digest.String(), Limit: s.o.maxReferrers}
		}
		return nil
	}

	// The sources are independent: each is read at once, and the result sorted below.
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(s.o.concurrency, 1))
	g.Go(func() error {
		direct, err := s.discoverReferrers(gctx, subject, false)
		if err != nil {
			return err
		}
		if err := emit(direct...); err != nil {
			return err
		}
		if q.SkipNested {
			return nil
		}
		return forEach(gctx, s.o.concurrency, direct, func(ctx context.Context, parent Attestation) error {
			nested, err := s.discoverReferrers(ctx, parent.Manifest, true)
			if err != nil {
				return err
			}
			return emit(nested...)
		})
	})
	if !q.SkipLegacyTags {
		for _, kind := range []Source{SourceCosignAttTag, SourceCosignSigTag} {
			g.Go(func() error {
				as, err := s.discoverCosignTag(gctx, subject, kind)
				if err != nil {
					return err
				}
				return emit(as...)
			})
		}
	}
	if !q.SkipBuildKit && isIndex(subject.MediaType) {
		g.Go(func() error {
			as, err := s.discoverBuildKit(gctx, subject)
			if err != nil {
				return err
			}
			return emit(as...)
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		ok, err := s.target.Exists(ctx, subject)
		if err != nil {
			return nil, fmt.Errorf("oras: check subject %s: %w", subject.Digest, err)
		}
		if !ok {
			return nil, fmt.Errorf("oras: subject %s: %w", subject.Digest, provenance.ErrNotFound)
		}
	}
	slices.SortFunc(out, func(a, b Attestation) int {
		return strings.Compare(string(a.Source)+a.Subject.Digest.String()+a.Manifest.Digest.String()+a.Layer.Digest.String(),
			string(b.Source)+b.Subject.Digest.String()+b.Manifest.Digest.String()+b.Layer.Digest.String())
	})
	return out, nil
}

// discoverReferrers lists the referrers of subject, reading the manifests of entries listed
// without annotations to learn their predicate type.
func (s *Store) discoverReferrers(ctx context.Context, subject ocispec.Descriptor, nested bool) ([]Attestation, error) {
	refs, src, err := s.referrers(ctx, subject, "")
	if err != nil {
		if errors.Is(err, provenance.ErrNotFound) {
			return nil, nil
		}
		return nil, err
	}
	if nested {
		src = SourceNested
	}
	out := make([]Attestation, len(refs))
	err = forEach(ctx, s.o.concurrency, indexes(len(refs)), func(ctx context.Context, i int) error {
		r := refs[i]
		a := Attestation{Subject: subject, Manifest: r, ArtifactType: r.ArtifactType, Source: src, Signed: true,
			PredicateType: predicateType(r.Annotations)}
		if len(r.Annotations) == 0 {
			// Entries of a referrers tag index written by cosign carry no annotations: the manifest says.
			doc, _, err := fetchDocument(ctx, s.reader(), r)
			if err != nil {
				return err
			}
			a.PredicateType = predicateType(doc.Annotations)
			a.Manifest.Annotations = doc.Annotations
			if a.ArtifactType == "" {
				a.ArtifactType = doc.ArtifactType
			}
			if len(doc.Layers) == 1 {
				a.Layer = doc.Layers[0]
				if a.PredicateType == "" {
					a.PredicateType = predicateType(a.Layer.Annotations)
				}
			}
		}
		out[i] = a
		return nil
	})
	return out, err
}

// discoverCosignTag reads cosign's legacy "sha256-<hex>.att" or ".sig" tag of subject.
func (s *Store) discoverCosignTag(ctx context.Context, subject ocispec.Descriptor, kind Source) ([]Attestation, error) {
	suffix := ".att"
	if kind == SourceCosignSigTag {
		suffix = ".sig"
	}
	tag := subject.Digest.Algorithm().String() + "-" + subject.Digest.Encoded() + suffix
	desc, doc, err := fetchByTag(ctx, s.reader(), s.target, tag)
	if err != nil {
		if errors.Is(err, provenance.ErrNotFound) {
			return nil, nil
		}
		return nil, err
	}
	out := make([]Attestation, 0, len(doc.Layers))
	for _, l := range doc.Layers {
		out = append(out, Attestation{
			Subject: subject, Manifest: desc, Layer: l, ArtifactType: l.MediaType,
			PredicateType: predicateType(l.Annotations), Source: kind, Signed: true,
		})
	}
	return out, nil
}

// discoverBuildKit reads the attestation manifests BuildKit stores inside an image index, as
// https://github.com/moby/buildkit/blob/master/docs/attestations/attestation-storage.md describes.
func (s *Store) discoverBuildKit(ctx context.Context, index ocispec.Descriptor) ([]Attestation, error) {
	doc, _, err := fetchDocument(ctx, s.reader(), index)
	if err != nil {
		return nil, err
	}
	platforms := map[string]ocispec.Descriptor{}
	var atts []ocispec.Descriptor
	for _, m := range doc.Manifests {
		if m.Annotations[AnnotationDockerReferenceType] == DockerReferenceTypeAttestation {
			atts = append(atts, m)
		} else {
			platforms[m.Digest.String()] = m
		}
	}
	var (
		mu  sync.Mutex
		out []Attestation
	)
	err = forEach(ctx, s.o.concurrency, atts, func(ctx context.Context, m ocispec.Descriptor) error {
		ref := m.Annotations[AnnotationDockerReferenceDigest]
		subject, ok := platforms[ref]
		if !ok {
			s.o.logger.WarnContext(ctx, "BuildKit attestation manifest names no manifest of the index",
				"index", index.Digest, "manifest", m.Digest, "reference", ref)
			return nil
		}
		am, _, err := fetchDocument(ctx, s.reader(), m)
		if err != nil {
			return err
		}
		var as []Attestation
		for _, l := range am.Layers {
			if l.MediaType != provenance.MediaTypeInToto {
				continue
			}
			as = append(as, Attestation{
				Subject: subject, Manifest: m, Layer: l, ArtifactType: l.MediaType,
				PredicateType: predicateType(l.Annotations), Source: SourceBuildKitIndex, Signed: false,
			})
		}
		mu.Lock()
		out = append(out, as...)
		mu.Unlock()
		return nil
	})
	return out, err
}

// FetchAttestation returns the bundle, envelope or statement of an attestation Discover found,
// with digest and size verified while reading. Its MediaType is the layer's (a bundle version,
// MediaTypeDSSE for cosign's legacy ".att" layers, MediaTypeInToto for BuildKit's unsigned
// statements) and its PredicateType is the one Discover reported. Its Replaces is the
// AnnotationBundleReplaces of the manifest when the manifest is read, else of the listing
// (Manifest's annotations), so a caller can walk from a re-signed bundle to the one it
// replaces; a malformed value leaves it empty (see ReplacedBundle). Its Effective comes from
// AnnotationBundleEffective the same way (see EffectiveTime).
//
// For a referrer listed with AnnotationBundleDigest and AnnotationBundleSize (those Attach
// writes) it fetches that blob directly, one request; otherwise, or when that fetch fails, it
// reads the manifest and then its layer. To read exactly the layer of a manifest you hold by
// digest, use Fetch, which never takes the annotations' word.
func (s *Store) FetchAttestation(ctx context.Context, a Attestation) (provenance.Bundle, error) {
	return s.fetchAttestation(ctx, s.newFetchSession(), a)
}

func (s *Store) fetchAttestation(ctx context.Context, fs *fetchSession, a Attestation) (provenance.Bundle, error) {
	if a.Layer.Digest != "" {
		b, err := s.fetch(ctx, fs, a.Layer)
		if err != nil {
			return provenance.Bundle{}, err
		}
		if a.PredicateType != "" {
			b.PredicateType = a.PredicateType
		}
		b.Replaces, b.Effective = replaces(a.Manifest), effective(a.Manifest)
		return b, nil
	}
	// The bundle digest comes from the listing, which whoever serves or writes it controls, and
	// is not checked against the manifest here. That is safe because of what can go wrong:
	//   - The bytes are fetched by that digest and size, verified while reading and capped at
	//     provenance.MaxBundleBytes, so the answer is exactly the blob the listing named, in this
	//     repository, and no bigger than any bundle may be.
	//   - A listing that names some other blob of the repository gains an attacker nothing: with
	//     the access it takes to write the listing (push for the tag index; running the registry
	//     for the API) one can as well push a real manifest with that blob as its layer and this
	//     image as its subject. What binds a bundle to an image is the subject inside its signed
	//     statement, which verify checks together with the signature and signer identity; the
	//     manifest binds nothing that the listing does not already claim.
	//   - The predicate type was already taken from the listing, as Discover reports it; verify
	//     reads the real one from the signed statement.
	// Where the binding to a manifest does matter, when a caller holds a manifest digest and
	// asks for its content, Fetch reads the manifest. When the named blob is missing or fails
	// verification, the manifest is read instead, so a wrong hint costs requests, not bundles.
	if hint, ok := bundleHint(a.Manifest); ok {
		b, err := s.fetch(ctx, fs, hint)
		if err == nil {
			b.PredicateType, b.Replaces, b.Effective = a.PredicateType, replaces(a.Manifest), effective(a.Manifest)
			return b, nil
		}
		if ctx.Err() != nil || errors.Is(err, errBudget) {
			return provenance.Bundle{}, err
		}
		s.o.logger.DebugContext(ctx, "bundle named by the listing unusable; reading the manifest",
			"manifest", a.Manifest.Digest, "bundle", hint.Digest, "error", err)
	}
	b, err := s.fetch(ctx, fs, a.Manifest)
	if err == nil && b.PredicateType == "" {
		b.PredicateType = a.PredicateType
	}
	return b, err
}

// FetchAll fetches every attestation in as, at most WithConcurrency at once, and returns the
// bundles in the same order. It stops at the first error.
//
// Each distinct blob is downloaded once, however many attestations name it, and bundles of the
// same blob share their Data: treat it as read-only. Everything FetchAll downloads counts
// against the byte budget (WithMaxFetchBytes) by declared size: the sizes the attestations
// declare are added up before any download, and each further download (a manifest read when a
// listing named no bundle, or named one that failed) is charged before it starts. Past the
// budget FetchAll fails with a *provenance.SizeError (wrapping provenance.ErrTooLarge) and
// downloads nothing more, so a registry declaring large bundles costs its declared bytes at
// most, never their multiple.
func (s *Store) FetchAll(ctx context.Context, as []Attestation) ([]provenance.Bundle, error) {
	fs := s.newFetchSession()
	declared := map[string]int64{}
	var total int64
	for _, a := range as {
		d := a.Manifest
		if a.Layer.Digest != "" {
			d = a.Layer
		} else if hint, ok := bundleHint(a.Manifest); ok {
			d = hint
		}
		if k := blobKey(d); d.Size > 0 && declared[k] == 0 {
			declared[k] = d.Size
			total += d.Size
		}
	}
	if total > fs.limit {
		return nil, fs.overBudget(total)
	}
	out := make([]provenance.Bundle, len(as))
	err := forEach(ctx, s.o.concurrency, indexes(len(as)), func(ctx context.Context, i int) error {
		b, err := s.fetchAttestation(ctx, fs, as[i])
		if err != nil {
			return err
		}
		out[i] = b
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// errBudget marks the SizeError of a spent byte budget, which no fallback may work around.
var errBudget = errors.New("byte budget spent")

// fetchSession is the state of one FetchAll, Fetch or FetchAttestation call: the blobs
// downloaded so far, by digest and size, and what is left of the byte budget.
type fetchSession struct {
	s     *Store
	limit int64
	mu    sync.Mutex
	spent int64
	blobs map[string]*fetchedBlob
}

// fetchedBlob is one download, shared by every caller asking for the same blob.
type fetchedBlob struct {
	done chan struct{}
	data []byte
	err  error
}

func (s *Store) newFetchSession() *fetchSession {
	return &fetchSession{s: s, limit: s.o.maxFetchBytes, blobs: map[string]*fetchedBlob{}}
}

func blobKey(d ocispec.Descriptor) string {
	return d.Digest.String() + "/" + strconv.FormatInt(d.Size, 10)
}

func (fs *fetchSession) overBudget(size int64) error {
	return &budgetError{SizeError: provenance.SizeError{What: "content fetched in one call", Limit: fs.limit, Size: size}}
}

// budgetError is a *provenance.SizeError that also matches errBudget.
type budgetError struct{ provenance.SizeError }

func (e *budgetError) Unwrap() []error { return []error{&e.SizeError, errBudget} }

// bytes downloads and verifies desc once per session, charging its declared size to the
// budget before the download starts.
func (fs *fetchSession) bytes(ctx context.Context, desc ocispec.Descriptor, what string, limit int64) ([]byte, error) {
	key := blobKey(desc)
	fs.mu.Lock()
	if b, ok := fs.blobs[key]; ok {
		fs.mu.Unlock()
		select {
		case <-b.done:
			return b.data, b.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if desc.Size > 0 && desc.Size <= limit {
		if fs.spent+desc.Size > fs.limit {
			fs.mu.Unlock()
			return nil, fs.overBudget(fs.spent + desc.Size)
		}
		fs.spent += desc.Size
	}
	b := &fetchedBlob{done: make(chan struct{})}
	fs.blobs[key] = b
	fs.mu.Unlock()
	b.data, b.err = fetchBytes(ctx, fs.s.reader(), desc, what, limit)
	if b.err != nil && ctx.Err() != nil {
		// A cancelled download says nothing about the blob: let a later caller try again.
		fs.mu.Lock()
		delete(fs.blobs, key)
		fs.mu.Unlock()
	}
	close(b.done)
	return b.data, b.err
}

func indexes(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}
