package gate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/errgroup"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/errdef"

	"github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/policy"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/audit"
	"github.com/provkit/provkit/verify"
)

// Checker checks the attestations of artifacts against one verifier, identity and policy.
type Checker struct {
	verifier *verify.Verifier
	identity verify.Identity
	cfg      *config
}

// New returns a Checker that accepts attestations v verifies as signed by id. The zero
// Identity accepts no signer and is refused, as verify refuses it.
func New(v *verify.Verifier, id verify.Identity, opts ...Option) (*Checker, error) {
	if v == nil {
		return nil, fmt.Errorf("%w: nil verifier", ErrInvalidConfig)
	}
	if id.IsZero() {
		return nil, fmt.Errorf("%w: %w: the zero Identity accepts no signer", ErrInvalidConfig, verify.ErrInvalidIdentity)
	}
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	return &Checker{verifier: v, identity: id, cfg: cfg}, nil
}

// Report is what Check found, verified and decided.
type Report struct {
	// Subject is the manifest the attestations are attached to.
	Subject ocispec.Descriptor
	// Artifact is the digest every statement had to name: Subject's, or the file's for a file
	// stored with oras.Store.PushFile.
	Artifact digest.Digest
	// Verified are the attestations that verified, in the order Discover lists them.
	Verified []Verified
	// Rejected are the attestations that did not, with their reasons, in the same order.
	Rejected []Rejected
	// Decision is the policy's decision; nil without WithPolicy or when nothing verified.
	Decision *policy.Decision
}

// Results returns the verified results, in order: what policies, lineage and the index read.
func (r *Report) Results() []*verify.Result {
	out := make([]*verify.Result, len(r.Verified))
	for i, v := range r.Verified {
		out[i] = v.Result
	}
	return out
}

// Verified is an attestation that verified.
type Verified struct {
	// Found is where the attestation was found.
	Found oras.Attestation
	// MediaType is the media type of the bundle or envelope that verified.
	MediaType string
	// Result is the verified statement and its signer.
	Result *verify.Result
}

// Rejected is an attestation that did not verify.
type Rejected struct {
	// Found is where the attestation was found.
	Found oras.Attestation
	// MediaType is the media type of the fetched bundle or envelope; empty when it was not
	// fetched (ErrUnsigned).
	MediaType string
	// Err is the reason: an error wrapping verify.ErrVerification for bad evidence (a forged
	// or untrusted signature, another signer, a statement about another artifact, a predicate
	// type the verifier does not accept), ErrUnsigned for an unsigned statement, or
	// verify.ErrUnsupportedMediaType for something that is not a bundle or envelope.
	Err error
}

// Stage names a step of Check in a Progress report.
type Stage string

// The stages of Check, in order.
const (
	StageDiscovered Stage = "discovered"
	StageFetched    Stage = "fetched"
	StageVerified   Stage = "verified"
)

// Progress is one report of WithProgress: Done of Total attestations have passed Stage.
type Progress struct {
	// Stage is the step reported.
	Stage Stage
	// Done counts the attestations past Stage, of Total to check.
	Done, Total int
}

// Check discovers, fetches and verifies the attestations of subject in store and, with a
// policy, decides. See the package documentation for what it reads and for the outcomes; the
// Report is nil only with a *CheckError.
func (c *Checker) Check(ctx context.Context, store *oras.Store, subject ocispec.Descriptor) (*Report, error) {
	report, err := c.cachedCheck(ctx, store, subject)
	if c.cfg.recorder == nil || (err != nil && !errors.Is(err, policy.ErrDenied)) {
		return report, err
	}
	if rerr := c.cfg.recorder.Record(ctx, c.event(report, err)); rerr != nil {
		return nil, &CheckError{Op: "record", Subject: subject, Err: rerr}
	}
	return report, err
}

// cachedCheck is check through the Cache, when the Checker has one.
func (c *Checker) cachedCheck(ctx context.Context, store *oras.Store, subject ocispec.Descriptor) (*Report, error) {
	cache := c.cfg.cache
	if cache == nil || store == nil {
		return c.check(ctx, store, subject)
	}
	k := keyOf(c, store, subject.Digest)
	if r, ok := cache.get(k, c.cfg.clock()); ok {
		return r, nil
	}
	report, err := c.check(ctx, store, subject)
	if err == nil {
		cache.put(k, report, c.cfg.clock())
	}
	return report, err
}

// event is the audit event of a decision: err is nil or a denial.
func (c *Checker) event(report *Report, err error) audit.Event {
	e := audit.Event{
		Kind:        audit.KindVerified,
		Subject:     report.Artifact,
		Actor:       c.cfg.actor,
		Time:        c.cfg.clock(),
		Decision:    audit.DecisionAllow,
		Environment: c.cfg.environment,
	}
	if err != nil {
		e.Kind, e.Decision = audit.KindDenied, audit.DecisionDeny
		e.Reasons = append(e.Reasons, err.Error())
	}
	for _, v := range report.Verified {
		e.Evidence = append(e.Evidence, v.Found.Manifest.Digest)
	}
	for _, r := range report.Rejected {
		e.Evidence = append(e.Evidence, r.Found.Manifest.Digest)
	}
	if d := report.Decision; d != nil {
		e.Attributes = map[string]string{"policy": d.Policy.Name, "policyDigest": d.Policy.Digest.String()}
		for _, r := range d.Rules {
			e.Reasons = append(e.Reasons, fmt.Sprintf("%s: %s: %s", r.Name, r.Outcome, r.Reason))
		}
	} else if err == nil {
		e.Reasons = append(e.Reasons, fmt.Sprintf("%d of %d attestations verified", len(report.Verified), len(report.Verified)+len(report.Rejected)))
	}
	e.Evidence = slices.Compact(e.Evidence)
	if len(e.Evidence) > audit.MaxEvidence {
		e.Evidence = e.Evidence[:audit.MaxEvidence]
	}
	if len(e.Reasons) > audit.MaxReasons {
		e.Reasons = e.Reasons[:audit.MaxReasons]
	}
	return e
}

func (c *Checker) check(ctx context.Context, store *oras.Store, subject ocispec.Descriptor) (*Report, error) {
	if store == nil {
		return nil, &CheckError{Op: "read", Subject: subject, Err: fmt.Errorf("%w: nil store", ErrInvalidConfig)}
	}
	artifact, err := artifactOf(ctx, store, subject)
	if err != nil {
		return nil, &CheckError{Op: "read", Subject: subject, Err: err}
	}
	found, err := store.Discover(ctx, subject, oras.Query{SkipNested: true})
	if err != nil {
		return nil, &CheckError{Op: "discover", Subject: subject, Err: err}
	}
	report := &Report{Subject: subject, Artifact: artifact}
	var todo []oras.Attestation
	ignored := 0
	for _, a := range found {
		switch {
		case a.Source == oras.SourceCosignSigTag:
			ignored++ // image signatures sign no statement
		case a.PredicateType != "" && !c.verifier.AcceptsPredicateType(a.PredicateType):
			ignored++
		case !a.Signed:
			report.Rejected = append(report.Rejected, Rejected{Found: a, Err: ErrUnsigned})
		default:
			todo = append(todo, a)
		}
	}
	c.report(Progress{Stage: StageDiscovered, Done: len(todo), Total: len(todo)})
	if len(todo) == 0 && len(report.Rejected) == 0 {
		return report, &NoAttestationsError{Subject: subject, Ignored: ignored}
	}

	bundles, err := store.FetchAll(ctx, todo)
	if err != nil {
		return nil, &CheckError{Op: "fetch", Subject: subject, Err: err}
	}
	c.report(Progress{Stage: StageFetched, Done: len(todo), Total: len(todo)})
	outcomes, err := c.verifyAll(ctx, todo, bundles, artifact)
	if err != nil {
		return nil, &CheckError{Op: "verify", Subject: subject, Err: err}
	}
	for i, o := range outcomes {
		if o.Err != nil {
			report.Rejected = append(report.Rejected, Rejected{Found: todo[i], MediaType: bundles[i].MediaType, Err: o.Err})
		} else {
			report.Verified = append(report.Verified, Verified{Found: todo[i], MediaType: bundles[i].MediaType, Result: o.Result})
		}
	}
	if len(report.Verified) == 0 {
		return report, &NoneVerifiedError{Artifact: artifact, Rejected: report.Rejected}
	}
	if c.cfg.policy == nil {
		return report, nil
	}
	now := c.cfg.clock()
	if c.cfg.environment != "" {
		report.Decision, err = c.cfg.policy.Gate(c.cfg.environment, artifact, report.Results(), now)
	} else {
		report.Decision, err = c.cfg.policy.Evaluate(artifact, report.Results(), now)
	}
	if err != nil && !errors.Is(err, policy.ErrDenied) {
		return nil, &CheckError{Op: "decide", Subject: subject, Err: err}
	}
	return report, err
}

// verifyAll verifies each bundle against artifact, returning one outcome per attestation in
// order. Evidence that fails (verify.ErrVerification) or is not a bundle
// (verify.ErrUnsupportedMediaType) is an outcome; any other error means the check could not be
// made, and is returned.
func (c *Checker) verifyAll(ctx context.Context, found []oras.Attestation, bundles []provenance.Bundle, artifact digest.Digest) ([]verify.Outcome, error) {
	out := make([]verify.Outcome, len(found))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.cfg.concurrency)
	var mu sync.Mutex
	done := 0
	for i := range found {
		g.Go(func() error {
			r, err := c.verifyOne(gctx, found[i], bundles[i], artifact)
			if err != nil && !isVerdict(err) {
				return fmt.Errorf("%s: %w", found[i].Manifest.Digest, err)
			}
			out[i] = verify.Outcome{Result: r, Err: err}
			mu.Lock()
			defer mu.Unlock()
			done++
			c.report(Progress{Stage: StageVerified, Done: done, Total: len(found)})
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// verifyOne verifies the bundle b of attestation a against artifact, as signed by who must
// sign its predicate type (identityFor), and rejects it with a *RoleError when a role applies
// and its verified predicate type is not the one it was listed under.
func (c *Checker) verifyOne(ctx context.Context, a oras.Attestation, b provenance.Bundle, artifact digest.Digest) (*verify.Result, error) {
	id, listedRole := c.identityFor(a.PredicateType)
	r, err := c.verifyAs(ctx, a, b, artifact, id)
	if err != nil {
		return nil, err
	}
	if _, verifiedRole := c.identityFor(r.PredicateType()); (listedRole || verifiedRole) && r.PredicateType() != a.PredicateType {
		return nil, &RoleError{Manifest: a.Manifest.Digest, Listed: a.PredicateType, Verified: r.PredicateType()}
	}
	return r, nil
}

// verifyAs verifies the bundle b of attestation a against artifact as signed by id, reading
// cosign's legacy layers with their annotations.
func (c *Checker) verifyAs(ctx context.Context, a oras.Attestation, b provenance.Bundle, artifact digest.Digest, id verify.Identity) (*verify.Result, error) {
	if a.Source == oras.SourceCosignAttTag {
		return c.verifier.VerifyCosignLayer(ctx, b, maps.Clone(a.Layer.Annotations), artifact, id)
	}
	return c.verifier.Verify(ctx, b, artifact, id)
}

// isVerdict says whether an error of verifyOne is a verdict on the evidence (it is bad, not a
// bundle at all, or outside its signer's role) rather than a failure to check it.
func isVerdict(err error) bool {
	return errors.Is(err, verify.ErrVerification) || errors.Is(err, verify.ErrUnsupportedMediaType) || errors.Is(err, ErrWrongRole)
}

// identityFor returns who must sign statements of predicateType, and whether a role says so.
func (c *Checker) identityFor(predicateType string) (verify.Identity, bool) {
	if id, ok := c.cfg.roles[predicateType]; ok {
		return id, true
	}
	return c.identity, false
}

func (c *Checker) report(p Progress) {
	if c.cfg.progress != nil {
		c.cfg.progress(p)
	}
}

// artifactOf returns the digest statements about subject name: the file's, for a manifest
// oras.Store.PushFile wrote, else subject's own.
func artifactOf(ctx context.Context, store *oras.Store, subject ocispec.Descriptor) (digest.Digest, error) {
	if err := subject.Digest.Validate(); err != nil {
		return "", fmt.Errorf("%w: subject digest %q: %v", verify.ErrInvalidSubject, subject.Digest, err)
	}
	if subject.MediaType != ocispec.MediaTypeImageManifest || (subject.ArtifactType != "" && subject.ArtifactType != oras.ArtifactTypeFile) {
		return subject.Digest, nil
	}
	if subject.Size > provenance.MaxManifestBytes {
		return "", &provenance.SizeError{What: "subject manifest", Size: subject.Size, Limit: provenance.MaxManifestBytes}
	}
	data, err := content.FetchAll(ctx, store.Target(), subject) // verifies size and digest
	if errors.Is(err, errdef.ErrNotFound) {
		return "", fmt.Errorf("%w: subject manifest %s", provenance.ErrNotFound, subject.Digest)
	}
	if err != nil {
		return "", err
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return "", fmt.Errorf("subject manifest %s: %w", subject.Digest, err)
	}
	if m.ArtifactType == oras.ArtifactTypeFile && len(m.Layers) == 1 {
		return m.Layers[0].Digest, nil
	}
	return subject.Digest, nil
}
