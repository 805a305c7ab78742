package oras

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/provkit/provkit/provenance"
	orasgo "oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/credentials"
	"oras.land/oras-go/v2/registry/remote/retry"
)

// Store keeps attestations as OCI 1.1 referrers in an oras-go graph target: a remote
// repository, an OCI image layout or memory. It implements provenance.Store and adds Discover,
// Resolve, CheckDrift and Copy. A Store is safe for concurrent use.
type Store struct {
	target orasgo.GraphTarget
	repo   *remote.Repository // set for remote stores
	// pushRepo pushes attestation manifests to repo without oras-go's referrers tag index
	// update, which settle does instead (see repair.go).
	pushRepo *remote.Repository
	dir      string // absolute directory of an OCI layout store
	readOnly string // names a read-only Store ("OCI layout /srv/pack"); "" when it may write
	lock     string // key of the in-process lock for referrers tag index writes
	o        options
	cap      atomic.Value // capability, learnt from the first listing of a remote repository
}

var _ provenance.Store = (*Store)(nil)

// New returns a Store over any oras-go graph target. When the target also lists referrers
// (registry.ReferrerLister, as *remote.Repository does) the Store uses that; otherwise it reads
// the target's predecessor graph. Remote-only options (credentials, transport, plain HTTP) are
// rejected: configure a *remote.Repository yourself, or use NewRemote.
func New(target orasgo.GraphTarget, opts ...Option) (*Store, error) {
	if target == nil {
		return nil, &InputError{What: "target", Reason: "is nil"}
	}
	o, err := buildOptions(opts)
	if err != nil {
		return nil, err
	}
	if o.remoteOnlyOpt != "" {
		return nil, &OptionError{Option: o.remoteOnlyOpt, Reason: "applies to NewRemote only"}
	}
	s := &Store{target: target, o: o}
	if r, ok := target.(*remote.Repository); ok {
		s.repo = r
		s.pushRepo = pushRepository(r)
		s.lock = r.Reference.Registry + "/" + r.Reference.Repository
	}
	return s, nil
}

// NewMemory returns a Store in memory (oras-go content/memory), for tests and for staging
// attestations before a copy.
func NewMemory(opts ...Option) (*Store, error) {
	return New(newMemoryTarget(), opts...)
}

// NewLayout returns a Store over the OCI image layout in directory dir for reading and
// writing, creating the directory and the layout when dir holds none: the way to open an
// Attach or Copy destination. An image copied there with Copy keeps its attestations, so the
// directory works as an offline evidence pack. To read a layout that must already exist, and
// write nothing, use OpenLayout (or OpenLayoutFS, OpenLayoutTar).
//
// Several Stores, in one process or many, may share one layout, on a local disk or a network
// file system: blobs are written to temporary files and renamed into place (oras-go's
// content/oci.Storage), and every change to index.json is merged with the file on disk while
// holding a lock on index.json.lock and replaced atomically (temporary file, fsync, rename,
// directory fsync), so no writer drops another's entries, a reader never sees a torn index,
// and a writer killed at any point leaves a layout that opens with everything acknowledged
// before the kill. A Store reads index.json again whenever another writer replaced it. On a
// network file system, what other clients wrote shows once the client's attribute cache
// expires.
func NewLayout(ctx context.Context, dir string, opts ...Option) (*Store, error) {
	o, err := buildOptions(opts)
	if err != nil {
		return nil, err
	}
	if o.remoteOnlyOpt != "" {
		return nil, &OptionError{Option: o.remoteOnlyOpt, Reason: "applies to NewRemote only"}
	}
	layout, err := openLayout(ctx, dir, true)
	if err != nil {
		return nil, fmt.Errorf("oras: open OCI layout %s: %w", dir, err)
	}
	return &Store{target: layout, dir: absDir(dir), o: o}, nil
}

// NewRemote returns a Store over the registry repository named by repository ("host[:port]/name").
// It speaks HTTPS unless WithPlainHTTPUnsafe is given (for loopback, or hosts named there),
// retries requests answered 429 or 5xx with backoff (oras-go's retry transport), sends
// credentials only when a credentials option is given, and detects the referrers API on first
// use (or takes WithReferrersAPI) and remembers it.
//
// A hostile registry cannot redirect the Store's credentials or keep it for ever:
//   - Credentials are chosen by oras-go's auth.Client for the repository's host and sent to
//     that host, and to the token realm it names (as Docker Hub's auth.docker.io), over HTTPS.
//     A redirect to another host, such as a blob CDN, is followed over HTTPS without the
//     Authorization and Cookie headers; one to plain HTTP fails with a *RedirectError.
//   - A Link header must name the registry's own scheme and host, or the listing fails with a
//     *RedirectError; every request of one listing counts against a budget of 1,000 pages,
//     and a page over provenance.MaxManifestBytes fails with a *LimitError.
//   - A response whose Content-Length differs from the descriptor fails with an *IntegrityError.
//   - A registry silent for the stall timeout (WithStallTimeout) fails the request with a
//     *StallError; dial and TLS handshake are bounded as well. The caller's ctx deadline is what
//     bounds a whole operation: give every call one.
func NewRemote(repository string, opts ...Option) (*Store, error) {
	o, err := buildOptions(opts)
	if err != nil {
		return nil, err
	}
	if o.dockerConfig != nil && o.credStore != nil {
		return nil, &OptionError{Option: "WithCredentials", Reason: "cannot be combined with a Docker config option"}
	}
	ref, err := registry.ParseReference(repository)
	if err != nil {
		return nil, &InputError{What: "repository", Reason: err.Error()}
	}
	if ref.Reference != "" {
		return nil, &InputError{What: "repository", Reason: fmt.Sprintf("%q names a tag or digest; give the repository only", repository)}
	}
	repo, err := remote.NewRepository(repository)
	if err != nil {
		return nil, &InputError{What: "repository", Reason: err.Error()}
	}
	cred := o.credStore
	switch {
	case o.dockerConfig != nil && *o.dockerConfig == "":
		cred, err = credentials.NewStoreFromDocker(credentials.StoreOptions{})
	case o.dockerConfig != nil:
		cred, err = credentials.NewStore(*o.dockerConfig, credentials.StoreOptions{})
	}
	if err != nil {
		return nil, fmt.Errorf("oras: load Docker credentials: %w", err)
	}
	if o.plainHTTP && !isLoopback(ref.Registry) && !o.plainAllowed("", ref.Registry) {
		return nil, &OptionError{Option: "WithPlainHTTPUnsafe",
			Reason: fmt.Sprintf("registry %s is not on loopback; name it to allow plain HTTP to it", ref.Registry)}
	}
	base := o.transport
	if base == nil {
		base = defaultTransport(o.stallTimeout)
	}
	scheme := "https"
	if o.plainHTTP {
		scheme = "http"
	}
	g := &guard{
		origin: originOf(&url.URL{Scheme: scheme, Host: ref.Host()}),
		plain:  func(host string) bool { return o.plainAllowed(ref.Host(), host) },
		next:   retry.NewTransport(&stall{d: o.stallTimeout, next: base}),
	}
	client := &auth.Client{
		// reread is outside guard, so that every attempt counts against a listing's budget.
		Client: &http.Client{Transport: &reread{next: g}},
		Cache:  auth.NewCache(),
	}
	client.SetUserAgent("provkit")
	if cred != nil {
		client.Credential = credentials.Credential(cred)
	}
	repo.Client = client
	repo.PlainHTTP = o.plainHTTP
	repo.ReferrerListPageSize = o.pageSize
	// One byte over the listing limit, so the guard's *provenance.SizeError, not oras-go's
	// truncated decoding, reports a listing that is too large.
	repo.MaxMetadataBytes = provenance.MaxManifestBytes + 1
	// The previous referrers tag index is kept rather than deleted: with several writers, deleting
	// "the old index" can delete the one another writer just tagged.
	repo.SkipReferrersGC = true
	if o.referrersAPI != nil {
		if err := repo.SetReferrersCapability(*o.referrersAPI); err != nil {
			return nil, fmt.Errorf("oras: %w", err)
		}
	}
	return &Store{target: repo, repo: repo, pushRepo: pushRepository(repo), lock: ref.Registry + "/" + ref.Repository, o: o}, nil
}

// Target returns the oras-go graph target under the Store, for operations provkit does not wrap.
func (s *Store) Target() orasgo.GraphTarget { return s.target }

// Location names the place the Store reads and writes, the same for every Store over it:
// "REGISTRY/REPOSITORY" for a registry (NewRemote), the absolute folder of an OCI layout
// (NewLayout, OpenLayout), and "" for a memory store and other targets, which have no name
// beyond the Store value itself.
func (s *Store) Location() string {
	if s.lock != "" {
		return s.lock
	}
	return s.dir
}

// Attach stores b as an OCI 1.1 referrer of subject: a manifest whose subject is subject,
// artifactType and single layer are b's media type, config is the OCI empty descriptor, and
// whose annotations are those cosign writes for its bundle format
// (dev.sigstore.bundle.content, dev.sigstore.bundle.predicateType and
// org.opencontainers.image.created from the Store's clock), plus AnnotationBundleDigest and
// AnnotationBundleSize naming the bundle bytes, AnnotationBundleReplaces when b.Replaces
// names the bundle b re-signs (a b.Replaces that is not a valid digest, or is b's own, fails
// with an *InputError), and AnnotationBundleEffective when b.Effective is set. When subject already has a referrer holding the same bundle bytes,
// Attach returns it and writes nothing, whatever b.Replaces says: the bytes are stored once,
// with the reference of their first attach. For referrers Attach wrote, one referrers listing
// tells, without reading their manifests.
//
// In a registry the manifest is pushed by its record tag, and Attach returns only once the
// subject's listing holds it and every other recorded referrer, re-listing what concurrent
// writers in other processes dropped (see Repair); when that does not hold after the Store's
// attempts it fails with a *LostUpdateError rather than report an attestation nobody can find.
// Writers in one process also take turns per subject. An OCI layout serialises writers across
// processes with a file lock (see NewLayout).
func (s *Store) Attach(ctx context.Context, subject ocispec.Descriptor, b provenance.Bundle) (ocispec.Descriptor, error) {
	if err := s.writable("attach"); err != nil {
		return ocispec.Descriptor{}, err
	}
	if err := checkSubject(subject); err != nil {
		return ocispec.Descriptor{}, err
	}
	if len(b.Data) == 0 {
		return ocispec.Descriptor{}, &InputError{What: "bundle", Reason: "is empty"}
	}
	if len(b.Data) > provenance.MaxBundleBytes {
		return ocispec.Descriptor{}, &provenance.SizeError{What: "bundle", Limit: provenance.MaxBundleBytes, Size: int64(len(b.Data))}
	}
	if b.MediaType == "" {
		return ocispec.Descriptor{}, &InputError{What: "bundle", Reason: "has no media type"}
	}
	if b.Replaces != "" {
		if err := b.Replaces.Validate(); err != nil {
			return ocispec.Descriptor{}, &InputError{What: "bundle", Reason: fmt.Sprintf("replaces %q, which is not a digest: %v", b.Replaces, err)}
		}
		if b.Replaces == b.Digest() {
			return ocispec.Descriptor{}, &InputError{What: "bundle", Reason: fmt.Sprintf("replaces itself (%s)", b.Replaces)}
		}
	}
	ok, err := s.target.Exists(ctx, subject)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("oras: check subject %s: %w", subject.Digest, err)
	}
	if !ok {
		return ocispec.Descriptor{}, fmt.Errorf("oras: subject %s: %w", subject.Digest, provenance.ErrNotFound)
	}
	if s.lock != "" {
		// Writers in this process take turns per subject: the referrers tag index is a
		// read-modify-write, and some registries (olareg v0.2.2) update their referrers list the
		// same way. Writers elsewhere are caught by the check after the push.
		mu := subjectLock(s.lock + "@" + subject.Digest.String())
		mu.Lock()
		defer mu.Unlock()
	}
	if desc, found, err := s.findAttached(ctx, subject, b); err != nil {
		return ocispec.Descriptor{}, err
	} else if found {
		s.o.logger.DebugContext(ctx, "attestation already attached", "subject", subject.Digest, "manifest", desc.Digest)
		return desc, nil
	}
	layer := b.Descriptor()
	if err := pushIfAbsent(ctx, s.target, layer, b.Data); err != nil {
		return ocispec.Descriptor{}, err
	}
	ann := map[string]string{
		provenance.AnnotationBundleContent: provenance.BundleContentDSSE,
		ocispec.AnnotationCreated:          s.o.clock().UTC().Format(time.RFC3339),
		AnnotationBundleDigest:             layer.Digest.String(),
		AnnotationBundleSize:               strconv.FormatInt(layer.Size, 10),
	}
	if b.PredicateType != "" {
		ann[provenance.AnnotationBundlePredicateType] = b.PredicateType
	}
	if b.Replaces != "" {
		ann[AnnotationBundleReplaces] = b.Replaces.String()
	}
	if !b.Effective.IsZero() {
		ann[AnnotationBundleEffective] = b.Effective.UTC().Format(time.RFC3339Nano)
	}
	cp := &capturePusher{GraphTarget: s.target}
	if s.repo != nil {
		cp.push = func(ctx context.Context, desc ocispec.Descriptor, data []byte) error {
			return s.pushManifest(ctx, subject.Digest, desc, data)
		}
	}
	desc, err := orasgo.PackManifest(ctx, cp, orasgo.PackManifestVersion1_1, b.MediaType, orasgo.PackManifestOptions{
		Subject:             &subject,
		Layers:              []ocispec.Descriptor{layer},
		ManifestAnnotations: ann,
	})
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("oras: push attestation manifest for %s: %w", subject.Digest, err)
	}
	if s.repo != nil {
		if _, err := s.settle(ctx, subject, desc, cp.manifest); err != nil {
			return ocispec.Descriptor{}, err
		}
	}
	s.o.logger.DebugContext(ctx, "attached attestation", "subject", subject.Digest, "manifest", desc.Digest,
		"predicateType", b.PredicateType, "replaces", b.Replaces)
	return desc, nil
}

// findAttached looks for a referrer of subject that holds exactly b's bytes. The created
// annotation comes from the clock, so attaching the same bundle twice makes two different
// manifests: the match is on the bundle, not the manifest digest. Referrers Attach wrote carry
// the bundle's digest and size in their listed annotations, so the listing alone settles them.
// Only referrers listed without those annotations (written by cosign, or by provkit before it
// added them) have their manifests read, and of those only the ones whose listed predicate
// type matches b's or is not listed.
//
// A match taken from the listing is trusted without reading the manifest. Whoever can make a
// listing claim a bundle it does not hold (a hostile registry, or a writer of the referrers tag
// index, which needs push access) can as well delete the attestation after Attach wrote it;
// either way the bundle is missing and verification fails closed, never open. A listing that
// is merely stale is possible only with the tag index, which clients edit (a manifest deleted
// by a tool that leaves the index alone): there the matching manifest is checked to exist, one
// HEAD request, before Attach relies on it.
func (s *Store) findAttached(ctx context.Context, subject ocispec.Descriptor, b provenance.Bundle) (ocispec.Descriptor, bool, error) {
	refs, src, err := s.referrers(ctx, subject, b.MediaType)
	if err != nil && !errors.Is(err, provenance.ErrNotFound) {
		return ocispec.Descriptor{}, false, err
	}
	want := b.Descriptor()
	var unhinted []ocispec.Descriptor
	for _, r := range refs {
		if pt, ok := r.Annotations[provenance.AnnotationBundlePredicateType]; ok && pt != b.PredicateType {
			continue
		}
		hint, ok := bundleHint(r)
		if !ok {
			unhinted = append(unhinted, r)
			continue
		}
		if hint.Digest != want.Digest || hint.Size != want.Size {
			continue
		}
		if src == SourceReferrersTag {
			ok, err := s.target.Exists(ctx, r)
			if err != nil {
				return ocispec.Descriptor{}, false, fmt.Errorf("oras: check attestation manifest %s: %w", r.Digest, err)
			}
			if !ok {
				continue
			}
		}
		return r, true, nil
	}
	var hit atomic.Pointer[ocispec.Descriptor]
	err = forEach(ctx, s.o.concurrency, unhinted, func(ctx context.Context, r ocispec.Descriptor) error {
		doc, _, err := fetchDocument(ctx, s.target, r)
		if err != nil {
			if errors.Is(err, provenance.ErrNotFound) {
				return nil
			}
			return err
		}
		if len(doc.Layers) == 1 && doc.Layers[0].Digest == want.Digest && doc.Layers[0].Size == want.Size {
			hit.Store(&r)
		}
		return nil
	})
	if err != nil {
		return ocispec.Descriptor{}, false, err
	}
	if d := hit.Load(); d != nil {
		return *d, true, nil
	}
	return ocispec.Descriptor{}, false, nil
}

type capability int

const (
	capUnknown capability = iota
	capAPI
	capTag
)

func (s *Store) capability() capability {
	if s.repo == nil {
		return capUnknown
	}
	v, _ := s.cap.Load().(capability)
	return v
}

// Referrers lists the attestation manifests that refer to subject, filtered to artifactType
// unless it is empty, sorted by digest. It reads the referrers API or the referrers tag index of
// a registry, or the predecessor graph of a layout or memory store. Beyond the Store's referrer
// limit it fails with a *LimitError (wrapping provenance.ErrTooLarge); for a subject the store
// does not hold it fails with an error wrapping provenance.ErrNotFound.
func (s *Store) Referrers(ctx context.Context, subject ocispec.Descriptor, artifactType string) ([]ocispec.Descriptor, error) {
	if err := checkSubject(subject); err != nil {
		return nil, err
	}
	refs, _, err := s.referrers(ctx, subject, artifactType)
	if err != nil {
		return nil, err
	}
	if len(refs) == 0 {
		ok, err := s.target.Exists(ctx, subject)
		if err != nil {
			return nil, fmt.Errorf("oras: check subject %s: %w", subject.Digest, err)
		}
		if !ok {
			return nil, fmt.Errorf("oras: subject %s: %w", subject.Digest, provenance.ErrNotFound)
		}
	}
	return refs, nil
}

// referrers lists subject's referrers and says where it found them. From a referrers tag
// index it also lists the recorded referrers the index lost, and merges them back into it when
// the Store may write (see repair.go).
func (s *Store) referrers(ctx context.Context, subject ocispec.Descriptor, artifactType string) ([]ocispec.Descriptor, Source, error) {
	if s.repo == nil || s.capability() != capTag {
		refs, src, err := s.listReferrers(ctx, subject, artifactType)
		if s.repo == nil || src != SourceReferrersTag {
			return refs, src, err
		}
	}
	all, _, err := s.listReferrers(ctx, subject, "")
	if err != nil && !errors.Is(err, provenance.ErrNotFound) {
		return nil, "", err
	}
	lost, _, oerr := s.orphans(ctx, subject, all)
	if oerr != nil {
		return nil, "", oerr
	}
	if len(lost) > 0 {
		if merr := s.mergeTagIndex(ctx, subject, lost); merr != nil {
			s.o.logger.WarnContext(ctx, "could not list lost referrers again", "subject", subject.Digest, "err", merr)
		}
		all = append(all, lost...)
		err = nil
	}
	var refs []ocispec.Descriptor
	for _, d := range all {
		if artifactType == "" || d.ArtifactType == artifactType {
			refs = append(refs, d)
		}
	}
	if len(refs) > s.o.maxReferrers {
		return nil, "", &LimitError{What: "referrers of " + subject.Digest.String(), Limit: s.o.maxReferrers}
	}
	slices.SortFunc(refs, func(a, b ocispec.Descriptor) int { return strings.Compare(a.Digest.String(), b.Digest.String()) })
	return refs, SourceReferrersTag, err
}

// listReferrers lists subject's referrers as the store lists them and says where it found them.
func (s *Store) listReferrers(ctx context.Context, subject ocispec.Descriptor, artifactType string) ([]ocispec.Descriptor, Source, error) {
	limitErr := &LimitError{What: "referrers of " + subject.Digest.String(), Limit: s.o.maxReferrers}
	var out []ocispec.Descriptor
	seen := map[string]bool{}
	add := func(page []ocispec.Descriptor) error {
		for _, d := range page {
			if d.Digest.Validate() != nil || seen[d.Digest.String()] {
				continue
			}
			if artifactType != "" && d.ArtifactType != artifactType {
				continue
			}
			seen[d.Digest.String()] = true
			out = append(out, d)
			if len(out) > s.o.maxReferrers {
				return limitErr
			}
		}
		return nil
	}
	var src Source
	if s.repo != nil {
		budget := &pageBudget{limit: s.o.maxPages}
		budget.left.Store(int64(s.o.maxPages))
		pctx := context.WithValue(ctx, pageBudgetKey{}, budget)
		if err := s.repo.Referrers(pctx, subject, artifactType, add); err != nil {
			if errors.Is(err, errdef.ErrNotFound) {
				return nil, "", notFound(err, "referrers of "+subject.Digest.String())
			}
			if errors.Is(err, provenance.ErrTooLarge) {
				return nil, "", err
			}
			return nil, "", fmt.Errorf("oras: list referrers of %s: %w", subject.Digest, err)
		}
		src = s.learnCapability()
	} else {
		src = SourceGraph
		preds, err := s.target.Predecessors(ctx, subject)
		if err != nil {
			return nil, "", notFound(err, "predecessors of "+subject.Digest.String())
		}
		if len(preds) > s.o.maxReferrers*2 {
			return nil, "", limitErr
		}
		var mu sync.Mutex
		var found []ocispec.Descriptor
		err = forEach(ctx, s.o.concurrency, preds, func(ctx context.Context, p ocispec.Descriptor) error {
			if !isManifest(p.MediaType) && !isIndex(p.MediaType) {
				return nil
			}
			doc, _, err := fetchDocument(ctx, s.reader(), p)
			if err != nil {
				return err
			}
			if doc.Subject == nil || doc.Subject.Digest != subject.Digest {
				return nil
			}
			d := ocispec.Descriptor{MediaType: p.MediaType, Digest: p.Digest, Size: p.Size,
				ArtifactType: doc.ArtifactType, Annotations: doc.Annotations}
			if d.ArtifactType == "" && doc.Config != nil {
				d.ArtifactType = doc.Config.MediaType
			}
			mu.Lock()
			found = append(found, d)
			mu.Unlock()
			return nil
		})
		if err != nil {
			return nil, "", err
		}
		if err := add(found); err != nil {
			return nil, "", err
		}
	}
	slices.SortFunc(out, func(a, b ocispec.Descriptor) int { return strings.Compare(a.Digest.String(), b.Digest.String()) })
	return out, src, nil
}

// learnCapability records and returns which referrers mechanism the repository used, once
// oras-go has settled it after a successful listing.
func (s *Store) learnCapability() Source {
	if c := s.capability(); c != capUnknown {
		if c == capAPI {
			return SourceReferrersAPI
		}
		return SourceReferrersTag
	}
	// After a successful listing oras-go has recorded the capability; setting "true" again fails
	// exactly when it recorded "false".
	if err := s.repo.SetReferrersCapability(true); err != nil {
		s.cap.Store(capTag)
		return SourceReferrersTag
	}
	s.cap.Store(capAPI)
	return SourceReferrersAPI
}

// Fetch returns the bundle an attestation descriptor refers to. desc is either an attestation
// manifest (as Attach and Referrers return) holding one layer, or a layer itself (as Discover
// reports for cosign's legacy tags and BuildKit); digest and size are verified while reading,
// and manifests are capped at provenance.MaxManifestBytes, bundles at provenance.MaxBundleBytes,
// both together at the byte budget (WithMaxFetchBytes). The bundle's PredicateType comes from
// the manifest or layer annotations, and its Replaces from the manifest's
// AnnotationBundleReplaces and its Effective from AnnotationBundleEffective (each left empty
// when malformed; see ReplacedBundle and EffectiveTime).
func (s *Store) Fetch(ctx context.Context, desc ocispec.Descriptor) (provenance.Bundle, error) {
	return s.fetch(ctx, s.newFetchSession(), desc)
}

func (s *Store) fetch(ctx context.Context, fs *fetchSession, desc ocispec.Descriptor) (provenance.Bundle, error) {
	if isIndex(desc.MediaType) {
		return provenance.Bundle{}, &InputError{What: "attestation", Reason: fmt.Sprintf("%s is an index, not an attestation", desc.Digest)}
	}
	if !isManifest(desc.MediaType) {
		data, err := fs.bytes(ctx, desc, "bundle", provenance.MaxBundleBytes)
		if err != nil {
			return provenance.Bundle{}, err
		}
		return provenance.Bundle{MediaType: desc.MediaType, Data: data, PredicateType: predicateType(desc.Annotations)}, nil
	}
	data, err := fs.bytes(ctx, desc, "manifest", provenance.MaxManifestBytes)
	if err != nil {
		return provenance.Bundle{}, err
	}
	doc, err := parseDocument(desc.Digest, data)
	if err != nil {
		return provenance.Bundle{}, err
	}
	if len(doc.Layers) != 1 {
		return provenance.Bundle{}, &InputError{What: "attestation",
			Reason: fmt.Sprintf("manifest %s has %d layers; fetch one of the layers Discover reports", desc.Digest, len(doc.Layers))}
	}
	layer := doc.Layers[0]
	data, err = fs.bytes(ctx, layer, "bundle", provenance.MaxBundleBytes)
	if err != nil {
		return provenance.Bundle{}, err
	}
	pt := predicateType(doc.Annotations)
	if pt == "" {
		pt = predicateType(layer.Annotations)
	}
	listed := ocispec.Descriptor{Digest: desc.Digest, Annotations: doc.Annotations}
	return provenance.Bundle{MediaType: layer.MediaType, Data: data, PredicateType: pt,
		Replaces: replaces(listed), Effective: effective(listed)}, nil
}

// predicateType reads a predicate type from the annotations cosign and BuildKit write.
func predicateType(ann map[string]string) string {
	for _, k := range []string{provenance.AnnotationBundlePredicateType, provenance.AnnotationCosignPredicateType, provenance.AnnotationInTotoPredicateType} {
		if v := ann[k]; v != "" {
			return v
		}
	}
	return ""
}

func checkSubject(subject ocispec.Descriptor) error {
	if err := subject.Digest.Validate(); err != nil {
		return &InputError{What: "subject", Reason: fmt.Sprintf("digest %q: %v", subject.Digest, err)}
	}
	if !isManifest(subject.MediaType) && !isIndex(subject.MediaType) {
		return &InputError{What: "subject", Reason: fmt.Sprintf("media type %q is not an image manifest or index", subject.MediaType)}
	}
	if subject.Size <= 0 || subject.Size > provenance.MaxManifestBytes {
		return &InputError{What: "subject", Reason: fmt.Sprintf("size %d is outside 1..%d", subject.Size, provenance.MaxManifestBytes)}
	}
	return nil
}

func pushIfAbsent(ctx context.Context, t content.Storage, desc ocispec.Descriptor, data []byte) error {
	ok, err := t.Exists(ctx, desc)
	if err != nil {
		return fmt.Errorf("oras: check %s: %w", desc.Digest, err)
	}
	if ok {
		return nil
	}
	if err := t.Push(ctx, desc, bytes.NewReader(data)); err != nil && !errors.Is(err, errdef.ErrAlreadyExists) {
		return fmt.Errorf("oras: push %s: %w", desc.Digest, err)
	}
	return nil
}

// capturePusher keeps a copy of the manifest PackManifest pushes, to push it again if a
// referrers tag index loses it.
type capturePusher struct {
	orasgo.GraphTarget
	push     func(context.Context, ocispec.Descriptor, []byte) error // pushes manifests, when set
	manifest []byte
}

func (c *capturePusher) Push(ctx context.Context, desc ocispec.Descriptor, r io.Reader) error {
	if !isManifest(desc.MediaType) {
		return c.GraphTarget.Push(ctx, desc, r)
	}
	data, err := content.ReadAll(r, desc)
	if err != nil {
		return err
	}
	c.manifest = data
	if c.push != nil {
		return c.push(ctx, desc, data)
	}
	return c.GraphTarget.Push(ctx, desc, bytes.NewReader(data))
}

var subjectLocks sync.Map // string -> *sync.Mutex

func subjectLock(key string) *sync.Mutex {
	mu, _ := subjectLocks.LoadOrStore(key, &sync.Mutex{})
	return mu.(*sync.Mutex)
}

type pageBudgetKey struct{}

type pageBudget struct {
	left  atomic.Int64
	limit int
}

// forEach runs fn on every item with at most n at once, stopping at the first error.
func forEach[T any](ctx context.Context, n int, items []T, fn func(context.Context, T) error) error {
	if len(items) == 0 {
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for _, it := range items {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := fn(ctx, it); err != nil {
				once.Do(func() { first = err; cancel() })
			}
		}()
	}
	wg.Wait()
	if first != nil {
		return first
	}
	return ctx.Err()
}
