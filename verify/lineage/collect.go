package lineage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/verify"
)

// Source is where Collect reads attestations: any provenance.Store backend (oras.Store for
// registries, OCI layouts and memory) or anything else that lists and fetches them.
type Source interface {
	provenance.Lister
	provenance.Fetcher
}

// Stored names an artifact and the manifest its attestations are attached to in a Source.
type Stored struct {
	// Subject is the manifest the attestations refer to.
	Subject ocispec.Descriptor
	// Artifact is the digest each attestation must name, sha256 or sha512. Empty means
	// Subject.Digest: the artifact is the image itself. For a file stored as an OCI artifact
	// (oras.Store.PushFile), it is the file's digest.
	Artifact digest.Digest
}

// artifact returns the digest the attestations of s must name.
func (s Stored) artifact() digest.Digest {
	if s.Artifact != "" {
		return s.Artifact
	}
	return s.Subject.Digest
}

// storedKey identifies a Stored: its subject's digest and its artifact.
type storedKey struct{ subject, artifact digest.Digest }

func (s Stored) key() storedKey { return storedKey{s.Subject.Digest, s.artifact()} }

// Rejected is an attestation Collect found and left out of the results: its evidence failed
// verification (a forged or untrusted signature, the wrong signer, a statement about another
// artifact: Err wraps verify.ErrVerification), or it holds no signed attestation (Err wraps
// ErrNotAttestation).
type Rejected struct {
	// Subject is the manifest the attestation is attached to.
	Subject ocispec.Descriptor
	// Attestation is the attestation's descriptor, as the Source listed it.
	Attestation ocispec.Descriptor
	// Err is the reason.
	Err error
}

// MarshalJSON encodes r as {"subject": descriptor, "attestation": descriptor, "reason": text},
// the reason being Err's message.
func (r Rejected) MarshalJSON() ([]byte, error) {
	reason := ""
	if r.Err != nil {
		reason = r.Err.Error()
	}
	return json.Marshal(struct {
		Subject     ocispec.Descriptor `json:"subject"`
		Attestation ocispec.Descriptor `json:"attestation"`
		Reason      string             `json:"reason"`
	}{r.Subject, r.Attestation, reason})
}

// Collection is what Collect found: the results that verified, ready for New, and the
// attestations it rejected, with their reasons.
type Collection struct {
	// Results are the verified attestations, in the order of the Stored arguments, then in the
	// order the Source lists each subject's referrers.
	Results []*verify.Result
	// Rejected are the attestations that did not verify or are not signed attestations, in
	// the same order.
	Rejected []Rejected
}

// collectBatch is how many attestations Collect holds in memory at once: it fetches a batch,
// verifies it, and lets its bundles go before the next.
const collectBatch = 64

// fetchWorkers is how many fetches Collect runs at once.
const fetchWorkers = 8

// Collect verifies every attestation attached to each stored subject and returns those that
// verified, for New, with those that did not. For each Stored, in order, it lists the
// subject's referrers of every artifact type, fetches them (eight at a time) and verifies them
// with v.VerifyAll against the artifact digest and id, using as many workers as GOMAXPROCS, in
// batches of 64 attestations; progress reported through verify.WithProgress counts within
// each batch. A subject given twice is read once.
//
// Evidence that fails verification (errors wrapping verify.ErrVerification: a signature by an
// untrusted key, another signer than id, a statement about another artifact, a fetched bundle
// over provenance.MaxBundleBytes) and referrers that hold no signed attestation (an index, an
// unsigned in-toto statement, an SBOM: *NotAttestationError) are Rejected, and Collect goes
// on. Everything else means the evidence could not be read or checked, and fails Collect with
// a *CollectError wrapping ErrCollect and the cause: a malformed Stored (Op "check", wrapping
// verify.ErrInvalidSubject), a subject the Source does not hold (wrapping
// provenance.ErrNotFound), a listing or fetch that fails, a configuration or trust material
// error of v, or the end of ctx.
//
// Collect reads nothing but src. To build a graph from bundle files instead, read each file
// into a provenance.Bundle, pair it with its artifact's digest in a verify.Item, call
// v.VerifyAll and pass the results that verified to New (see the Example of New from files).
func Collect(ctx context.Context, src Source, v *verify.Verifier, id verify.Identity, stored ...Stored) (*Collection, error) {
	if src == nil || v == nil {
		return nil, &CollectError{Op: "check", Err: errors.New("nil source or verifier")}
	}
	if id.IsZero() {
		return nil, &CollectError{Op: "check", Err: fmt.Errorf("%w: the zero Identity accepts no signer", verify.ErrInvalidIdentity)}
	}
	type key struct{ subject, artifact digest.Digest }
	seen := map[key]bool{}
	var todo []Stored
	for _, s := range stored {
		if err := checkStored(s); err != nil {
			return nil, &CollectError{Op: "check", Subject: s.Subject, Err: err}
		}
		k := key{s.Subject.Digest, s.artifact()}
		if !seen[k] {
			seen[k] = true
			todo = append(todo, s)
		}
	}

	c := &Collection{}
	var jobs []job
	for _, s := range todo {
		refs, err := src.Referrers(ctx, s.Subject, "")
		if err != nil {
			return nil, &CollectError{Op: "list", Subject: s.Subject, Err: err}
		}
		for _, ref := range refs {
			jobs = append(jobs, job{stored: s, att: ref})
		}
	}
	for start := 0; start < len(jobs); start += collectBatch {
		if err := collectBatchOf(ctx, src, v, id, jobs[start:min(start+collectBatch, len(jobs))], c); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// job is one attestation to fetch and verify.
type job struct {
	stored Stored
	att    ocispec.Descriptor
	bundle provenance.Bundle
	err    error // a rejection found before verifying
}

func checkStored(s Stored) error {
	if err := s.Subject.Digest.Validate(); err != nil {
		return fmt.Errorf("%w: subject manifest digest %q: %v", verify.ErrInvalidSubject, s.Subject.Digest, err)
	}
	a := s.artifact()
	if err := a.Validate(); err != nil {
		return fmt.Errorf("%w: artifact digest %q: %v", verify.ErrInvalidSubject, a, err)
	}
	if alg := a.Algorithm(); alg != digest.SHA256 && alg != digest.SHA512 {
		return fmt.Errorf("%w: artifact digest %s is not sha256 or sha512", verify.ErrInvalidSubject, a)
	}
	return nil
}

// isIndex reports whether a referrer is an index, which holds no attestation of its own.
func isIndex(mediaType string) bool {
	return mediaType == ocispec.MediaTypeImageIndex || mediaType == "application/vnd.docker.distribution.manifest.list.v2+json"
}

// collectBatchOf fetches and verifies jobs, appending to c in the jobs' order.
func collectBatchOf(ctx context.Context, src Source, v *verify.Verifier, id verify.Identity, jobs []job, c *Collection) error {
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, fetchWorkers)
	for i := range jobs {
		j := &jobs[i]
		if isIndex(j.att.MediaType) {
			j.err = &NotAttestationError{MediaType: j.att.MediaType}
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			b, err := src.Fetch(fctx, j.att)
			switch {
			case err == nil:
				j.bundle = b
			case errors.Is(err, provenance.ErrTooLarge) && fctx.Err() == nil:
				// Oversized evidence is bad evidence, as verify treats it.
				j.err = &verify.VerificationError{Check: verify.CheckSize, Err: err}
			default:
				errs[i] = err
				cancel()
			}
		}()
	}
	wg.Wait()
	// The first failure, rather than a fetch it cancelled.
	first := -1
	for i, err := range errs {
		if err != nil && (first < 0 || errors.Is(errs[first], context.Canceled) && !errors.Is(err, context.Canceled)) {
			first = i
		}
	}
	if first >= 0 {
		err := errs[first]
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return &CollectError{Op: "fetch", Subject: jobs[first].stored.Subject, Attestation: jobs[first].att, Err: err}
	}

	var items []verify.Item
	var at []int // job index of each item
	for i := range jobs {
		if jobs[i].err == nil {
			items = append(items, verify.Item{Bundle: jobs[i].bundle, Subject: jobs[i].stored.artifact(), Identity: id})
			at = append(at, i)
		}
	}
	outcomes := v.VerifyAll(ctx, items, runtime.GOMAXPROCS(0))
	results := make([]*verify.Result, len(jobs))
	for k, o := range outcomes {
		j := &jobs[at[k]]
		switch {
		case o.Err == nil:
			results[at[k]] = o.Result
		case errors.Is(o.Err, verify.ErrVerification):
			j.err = o.Err
		case errors.Is(o.Err, verify.ErrUnsupportedMediaType):
			j.err = &NotAttestationError{MediaType: j.bundle.MediaType, Err: o.Err}
		default:
			return &CollectError{Op: "verify", Subject: j.stored.Subject, Attestation: j.att, Err: o.Err}
		}
	}
	for i := range jobs {
		if results[i] != nil {
			c.Results = append(c.Results, results[i])
		} else {
			c.Rejected = append(c.Rejected, Rejected{Subject: jobs[i].stored.Subject, Attestation: jobs[i].att, Err: jobs[i].err})
		}
		jobs[i].bundle = provenance.Bundle{}
	}
	return nil
}

// UpstreamSource is a Source that also finds a manifest by digest, as oras.Store.Resolve does:
// what CollectUpstream needs to follow dependencies.
type UpstreamSource interface {
	Source
	// Resolve returns the descriptor of the manifest or index reference (a tag or a digest)
	// names; an unknown reference fails with an error wrapping provenance.ErrNotFound.
	Resolve(ctx context.Context, reference string) (ocispec.Descriptor, error)
}

// FileFinder is an ability a Source may have, found by type assertion: finding the manifests
// under which a file is stored from the file's digest alone, as oras.Store.FileManifests does
// for files stored with oras.Store.PushFile. With it, CollectUpstream follows a statement's
// input files to their own provenance: from the final output of a workflow it reaches every
// step whose outputs the store holds.
type FileFinder interface {
	// FileManifests returns the manifests holding the file whose digest is file, in a stable
	// order, and none, without an error, when the source holds no such file.
	FileManifests(ctx context.Context, file digest.Digest) ([]ocispec.Descriptor, error)
}

// CollectUpstream is Collect that follows the lineage up the store. After collecting stored, it
// looks up, by digest, every dependency of the statements that verified (each sha256 or sha512
// digest of a node the graph of those statements has as an input: a step's input files, its
// container image, a base image) and collects the attestations of those src holds: as a
// manifest or index (src.Resolve: a base image, a step's container image) or, when src is a
// FileFinder, as a stored file (every manifest FileManifests returns for the digest, each with
// the digest as its Artifact). It goes on up from what those verify, and reads each manifest
// once. A dependency src holds neither way (a source repository, a module, a file nobody
// stored) ends the walk there. Each dependency's attestations are verified against its own
// digest, with the same v and id; rejections and errors are as Collect's.
//
// A Stored whose Subject is the zero descriptor and whose Artifact is set is looked up the
// same way, so the walk can start from the digest of a final output alone:
//
//	c, err := lineage.CollectUpstream(ctx, store, v, id, lineage.Stored{Artifact: figure})
//
// Such a Stored that src does not hold at all fails with a *CollectError (Op "resolve")
// wrapping ErrCollect and provenance.ErrNotFound. (oras.NewMemory stores resolve tags only, so
// in one of those images are reached from their tags, and files, through FileManifests, from
// their digests.)
func CollectUpstream(ctx context.Context, src UpstreamSource, v *verify.Verifier, id verify.Identity, stored ...Stored) (*Collection, error) {
	all := &Collection{}
	looked := map[digest.Digest]bool{}
	files, _ := src.(FileFinder)
	var start []Stored
	for _, s := range stored {
		if s.Subject.Digest != "" || s.Artifact == "" {
			looked[s.Subject.Digest], looked[s.artifact()] = true, true
			start = append(start, s)
			continue
		}
		if err := checkStored(Stored{Subject: ocispec.Descriptor{Digest: s.Artifact}, Artifact: s.Artifact}); err != nil {
			return nil, &CollectError{Op: "check", Err: err}
		}
		looked[s.Artifact] = true
		found, err := locate(ctx, src, files, s.Artifact)
		if err != nil {
			return nil, err
		}
		if len(found) == 0 {
			return nil, &CollectError{Op: "resolve", Subject: ocispec.Descriptor{Digest: s.Artifact},
				Err: fmt.Errorf("%w: %s is neither a manifest nor a stored file in the source", provenance.ErrNotFound, s.Artifact)}
		}
		start = append(start, found...)
	}
	read := map[storedKey]bool{} // each subject and artifact collected once
	for _, s := range start {
		read[s.key()] = true
	}
	for next := start; len(next) > 0; {
		c, err := Collect(ctx, src, v, id, next...)
		if err != nil {
			return nil, err
		}
		all.Results = append(all.Results, c.Results...)
		all.Rejected = append(all.Rejected, c.Rejected...)
		g, err := New(c.Results)
		if err != nil {
			return nil, &CollectError{Op: "verify", Err: err}
		}
		next = nil
		for _, d := range inputDigests(g) {
			if looked[d] {
				continue
			}
			looked[d] = true
			found, err := locate(ctx, src, files, d)
			if err != nil {
				return nil, err
			}
			for _, s := range found {
				if !read[s.key()] {
					read[s.key()] = true
					next = append(next, s)
				}
			}
		}
	}
	return all, nil
}

// locate returns where src holds the artifact d: the manifest or index d names, or else the
// manifests of the stored file d, when src can find those; none when it holds neither.
func locate(ctx context.Context, src UpstreamSource, files FileFinder, d digest.Digest) ([]Stored, error) {
	desc, err := src.Resolve(ctx, d.String())
	if err == nil {
		return []Stored{{Subject: desc, Artifact: d}}, nil
	}
	if !errors.Is(err, provenance.ErrNotFound) {
		return nil, &CollectError{Op: "resolve", Subject: ocispec.Descriptor{Digest: d}, Err: err}
	}
	if files == nil {
		return nil, nil
	}
	manifests, err := files.FileManifests(ctx, d)
	if err != nil {
		return nil, &CollectError{Op: "resolve", Subject: ocispec.Descriptor{Digest: d}, Err: err}
	}
	out := make([]Stored, 0, len(manifests))
	for _, m := range manifests {
		out = append(out, Stored{Subject: m, Artifact: d})
	}
	return out, nil
}

// inputDigests returns the sha256 and sha512 digests of every node g has as an input of an
// activity, in the graph's order.
func inputDigests(g *Graph) []digest.Digest {
	var out []digest.Digest
	for _, a := range g.Activities() {
		for _, in := range a.Inputs {
			n, _ := g.Node(in)
			for _, d := range n.Digests {
				if alg := d.Algorithm(); alg == digest.SHA256 || alg == digest.SHA512 {
					out = append(out, d)
				}
			}
		}
	}
	return out
}
