// Package oras stores, finds and fetches provenance in OCI registries, OCI image layouts and
// memory, over any oras-go v2 graph target. Inside provkit, oras-go's root package is imported
// as orasgo ("oras.land/oras-go/v2") so it does not clash with this package's name.
//
// A *Store implements provenance.Store. Make one with NewRemote (a registry repository:
// credentials from a Docker config file only when asked, HTTPS unless WithPlainHTTPUnsafe,
// retries on 429 and 5xx), NewLayout (an OCI image layout directory to write to, created when
// missing), NewMemory, or New over a graph target you configured yourself. OpenLayout,
// OpenLayoutFS (any fs.FS: os.DirFS, embed.FS) and OpenLayoutTar (a tar archive, the offline
// evidence pack) open an existing layout read-only: they create nothing, fail with a
// *LayoutError wrapping provenance.ErrNotFound when there is no layout, and their Stores refuse
// Attach, PushFile, Repair and Copy into them with a *ReadOnlyError (ErrReadOnly) before
// writing anything.
//
// ParseReference reads the references users write, "host[:port]/repo[:tag|@digest]" (through
// oras-go's registry.ParseReference), "oci-layout:PATH[:tag|@digest]" and plain layout paths,
// into a Reference; Reference.Open opens its Store for reading (read-only for a layout),
// Reference.OpenWritable for writing, and store.Resolve(ctx, ref.TagOrDigest()) resolves it.
//
// Attach writes a bundle the way cosign writes its bundle format: an OCI 1.1 manifest whose
// subject is the image, whose artifactType and single layer are the bundle media type, with the
// OCI empty config and the annotations dev.sigstore.bundle.content,
// dev.sigstore.bundle.predicateType and org.opencontainers.image.created. So `cosign tree`,
// `cosign verify-attestation` and `oras discover` see what provkit attaches. It adds
// AnnotationBundleDigest and AnnotationBundleSize, naming the layer, which those tools ignore;
// because listings of referrers carry manifest annotations, they let Attach recognise a bundle
// it already attached from one listing, and FetchAttestation fetch a bundle in one request.
// Attaching the same bundle again returns the existing attestation. A bundle that re-signs
// another (provenance.Bundle.Replaces, as gate.Checker.Rotate makes them) also carries
// AnnotationBundleReplaces, naming the bundle it replaces, which stays attached as history;
// Fetch and FetchAttestation read it back into Replaces, and ReplacedBundle reads it from a
// listing. A bundle whose statement takes effect at a time (provenance.Bundle.Effective, as
// lifecycle statuses do) carries AnnotationBundleEffective, read back into Effective and by
// EffectiveTime, so a reader can order statements from one listing before fetching any.
//
// Concurrent writers, in one process or many, lose nothing. An OCI layout (NewLayout) merges
// every change to index.json with the file on disk under a file lock and replaces it
// atomically, so a shared folder (an NFS share, a CI cache) survives concurrent writers and a
// writer killed mid-write, and a Store sees what other processes wrote. In a registry, Attach
// pushes each attestation manifest by a record tag of its own
// ("sha256-<subject hex>.prov-<manifest digest prefix>"), then lists the subject's referrers
// and records and lists again whatever concurrent writers dropped (from the referrers tag
// index, or from a registry's own referrers list, as olareg v0.2.2 drops them), returning only
// once its attestation is listed; listings of a referrers tag index merge lost referrers the
// same way, and Repair does it on demand. Copy settles the referrers it copies the same way.
//
// Discover finds attestations wherever tools put them: referrers (API or tag schema), cosign's
// legacy ".att" and ".sig" tags, BuildKit's attestation manifests inside an image index
// (unsigned statements, reported with Signed false) and referrers of referrers. Each
// Attestation says where it was found (Source). Fetch, FetchAttestation and FetchAll verify
// digest and size while reading. Every size and count an attacker controls is capped:
// provenance.MaxManifestBytes, provenance.MaxBundleBytes, provenance.MaxReferrers and a page
// budget, with errors wrapping provenance.ErrTooLarge. FetchAll downloads each distinct blob
// once, within a byte budget (WithMaxFetchBytes) checked against declared sizes before any
// download. A remote Store follows redirects and Link headers only where they are safe (see
// NewRemote), and gives up on a registry that stalls (WithStallTimeout); the caller's context
// deadline bounds each whole call. FIFOs and other non-regular files, given to PushFile or
// found in an OCI layout, are refused with errors wrapping provenance.ErrNotRegular.
//
// Resolve turns a tag into a digest; CheckDrift reports a tag that has moved since; ResolveAll
// resolves one tag in several stores (environments, registries) at once, for
// diff.Environments. Image reads a manifest or index and an image's configuration, verified
// and capped like everything else, into the diff.Image that provenance/diff compares. Copy
// copies an image with its whole referrer graph between registries and layouts, making offline
// evidence packs.
//
// PushFile stores a file that is not an image (a binary, an SBOM, a tarball) as an OCI 1.1
// artifact: one application/octet-stream layer titled with the file's name, under a manifest
// of artifactType ArtifactTypeFile. Attestations about a file stored this way are attached to
// its manifest, the descriptor PushFile returns first, and name the file's digest (the second
// descriptor, the layer's) as their subject, as they would for the file on disk: Discover on
// the manifest finds them, and verifying them against the file's digest needs no registry.
// FileManifests finds those manifests again from the file's digest alone (through the file
// record tag PushFile writes, and an OCI layout's graph), so a statement naming a stored file
// as its input leads to the file's own provenance.
package oras
