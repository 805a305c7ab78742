package gate

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/errgroup"
	"google.golang.org/protobuf/proto"

	"github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/audit"
	"github.com/provkit/provkit/provenance/lifecycle"
	"github.com/provkit/provkit/verify"
)

// Rotation is how Rotate re-signs attestations: with which signer, known to the Checker's
// verifier as which identity.
type Rotation struct {
	// Signer signs the replacements with the new key or identity.
	Signer StatusSigner
	// Identity is who Signer signs as in the Checker's trust material, such as
	// verify.KeyIDs("release-2027"): the Checker's verifier must trust the new key as well as
	// the old ones. Each replacement must verify as Identity before it is attached, and an
	// attestation that already has a replacement verifying as Identity, or is itself signed as
	// Identity, is not re-signed again.
	Identity verify.Identity
	// PredicateTypes, when not empty, limits the rotation to statements of these predicate
	// types; the others are left alone and reported in no row.
	PredicateTypes []string
	// DecidedBy is the identity on whose authority the keys rotate, such as a security team
	// (optional); each event records it as the attribute "decidedBy".
	DecidedBy string
	// Reason says why the keys rotate, such as "release key 2026 retired" (optional); each
	// event records it as a reason.
	Reason string
}

// Rotated is the outcome of a rotation for one attestation: one row of the rotation report.
type Rotated struct {
	// Subject is the artifact's manifest.
	Subject ocispec.Descriptor
	// Replaced is the attestation to re-sign, where Discover found it. It is zero in the one row
	// of a subject whose attestations could not be listed (Err says why).
	Replaced oras.Attestation
	// Bundle is the digest of Replaced's bundle (or cosign envelope): what the replacement's
	// provenance.Bundle.Replaces names. It is empty when the bundle could not be fetched.
	Bundle digest.Digest
	// Signer is who signed Replaced, as verified under the Checker's trust; zero when it did
	// not verify.
	Signer verify.Signer
	// Replacement is the manifest of the bundle that re-signs Replaced: attached by this call
	// when Resigned, else found attached by an earlier rotation. It is zero when there is none.
	Replacement ocispec.Descriptor
	// Resigned says this call signed and attached Replacement.
	Resigned bool
	// Err is why Replaced was not re-signed, or its re-signing not recorded: a *RotateError.
	// It is nil when Replaced was re-signed, now or before.
	Err error
}

// Rotate re-signs the attestations of each subject in store with r.Signer: for key rotation,
// or a move from a key to a keyless identity. Each attestation that verifies under the
// Checker's trust, as signed by the Checker's identity (or its role's, WithRole) and bound to
// the artifact, has exactly its verified statement signed again; the new bundle, whose
// provenance.Bundle.Replaces names the old one, must verify as r.Identity with the same
// statement, and is then attached beside the old one, which stays as history. Key validity
// windows (verify.PublicKey's NotBefore and NotAfter) then decide which of the two counts at
// which time.
//
// An attestation that does not verify is never re-signed: its row says why (a *RotateError
// with Op "verify", wrapping the verification error, verify.ErrVerification for bad evidence,
// or ErrUnsigned). An attestation that already has a replacement verifying as r.Identity with
// the same statement is skipped, its row naming that replacement, so a rotation interrupted
// at any point is resumed by running it again; attestations signed as r.Identity themselves
// are the rotation's result, not its input, and have no row. Cosign's ".sig" signatures,
// referrers of referrers and predicate types the verifier does not accept are left out, as
// Check leaves them out.
//
// With WithRecorder, each attestation re-signed is recorded as a "resigned" event by the
// Checker's actor about the artifact, with the old bundle, the new bundle and the new manifest
// as evidence, in that order. A re-signing attached but not recorded is reported with Op
// "record" and, being attached, is not re-signed, nor recorded, by a later run.
//
// The report has one row per attestation, in the order of subjects and then of Discover, and
// one row for a subject whose attestations could not be listed. Subjects are listed, and
// attestations fetched, verified and re-signed, WithConcurrency at a time. Failures are per
// row, in Rotated.Err; Rotate itself fails only on a bad configuration.
func (c *Checker) Rotate(ctx context.Context, store *oras.Store, subjects []ocispec.Descriptor, r Rotation) ([]Rotated, error) {
	switch {
	case store == nil:
		return nil, fmt.Errorf("%w: Rotate needs a store", ErrInvalidConfig)
	case r.Signer == nil:
		return nil, fmt.Errorf("%w: a rotation needs a signer", ErrInvalidConfig)
	case r.Identity.IsZero():
		return nil, fmt.Errorf("%w: %w: a rotation needs the identity its signer signs as", ErrInvalidConfig, verify.ErrInvalidIdentity)
	}
	var g errgroup.Group
	g.SetLimit(c.cfg.concurrency)
	listed := make([]rotationSubject, len(subjects))
	for i, subject := range subjects {
		g.Go(func() error {
			listed[i] = c.listForRotation(ctx, store, subject, r)
			return nil
		})
	}
	_ = g.Wait()
	var items []*rotationItem
	for _, l := range listed {
		items = append(items, l.items...)
	}
	for _, it := range items {
		if it.row.Err == nil {
			g.Go(func() error {
				c.examine(ctx, store, it, r)
				return nil
			})
		}
	}
	_ = g.Wait()
	for _, l := range listed {
		plan(l.items)
	}
	for _, it := range items {
		if it.resign {
			g.Go(func() error {
				c.resign(ctx, store, it, r)
				return nil
			})
		}
	}
	_ = g.Wait()

	var out []Rotated
	for _, l := range listed {
		if l.err != nil {
			out = append(out, Rotated{Subject: l.subject, Err: l.err})
			continue
		}
		for _, it := range l.items {
			if it.sameAs != nil {
				it.row.Replacement, it.row.Err = it.sameAs.row.Replacement, it.sameAs.row.Err
			}
			if it.current == nil && !it.outOfScope {
				out = append(out, it.row)
			}
		}
	}
	return out, nil
}

// rotationSubject is one subject of a rotation: its attestations, or why they could not be listed.
type rotationSubject struct {
	subject ocispec.Descriptor
	err     error
	items   []*rotationItem
}

// rotationItem is one attestation of a rotation as it goes through the steps.
type rotationItem struct {
	subject  ocispec.Descriptor
	artifact digest.Digest
	found    oras.Attestation
	bundle   provenance.Bundle
	// old is the attestation verified under the Checker's identity; current, instead, as the
	// rotation's: then it needs no re-signing.
	old, current *verify.Result
	// outOfScope marks a statement of a predicate type the rotation leaves alone.
	outOfScope bool
	// resign marks the attestations to re-sign; sameAs, one whose bundle another item re-signs.
	resign bool
	sameAs *rotationItem
	row    Rotated
}

func (it *rotationItem) fail(op string, err error) {
	it.row.Err = &RotateError{Op: op, Subject: it.subject, Attestation: it.found.Manifest.Digest, Err: err}
}

// listForRotation lists the attestations of subject a rotation concerns.
func (c *Checker) listForRotation(ctx context.Context, store *oras.Store, subject ocispec.Descriptor, r Rotation) rotationSubject {
	l := rotationSubject{subject: subject}
	artifact, err := artifactOf(ctx, store, subject)
	if err != nil {
		l.err = &RotateError{Op: "read", Subject: subject, Err: err}
		return l
	}
	found, err := store.Discover(ctx, subject, oras.Query{SkipNested: true})
	if err != nil {
		l.err = &RotateError{Op: "discover", Subject: subject, Err: err}
		return l
	}
	for _, a := range found {
		switch {
		case a.Source == oras.SourceCosignSigTag:
			continue // image signatures sign no statement
		case a.PredicateType != "" && !c.verifier.AcceptsPredicateType(a.PredicateType):
			continue
		case a.PredicateType != "" && len(r.PredicateTypes) > 0 && !slices.Contains(r.PredicateTypes, a.PredicateType):
			continue
		}
		it := &rotationItem{subject: subject, artifact: artifact, found: a, row: Rotated{Subject: subject, Replaced: a}}
		if !a.Signed {
			it.fail("verify", ErrUnsigned)
		}
		l.items = append(l.items, it)
	}
	return l
}

// examine fetches an attestation and verifies it, first as the rotation's identity, then as
// the Checker's.
func (c *Checker) examine(ctx context.Context, store *oras.Store, it *rotationItem, r Rotation) {
	b, err := store.FetchAttestation(ctx, it.found)
	if err != nil {
		it.fail("fetch", err)
		return
	}
	it.bundle, it.row.Bundle = b, b.Digest()
	res, err := c.verifyAs(ctx, it.found, b, it.artifact, r.Identity)
	if err == nil {
		it.current = res
		return
	}
	if !isVerdict(err) {
		it.fail("verify", err)
		return
	}
	res, err = c.verifyOne(ctx, it.found, b, it.artifact)
	if err != nil {
		it.fail("verify", err)
		return
	}
	if len(r.PredicateTypes) > 0 && !slices.Contains(r.PredicateTypes, res.PredicateType()) {
		it.outOfScope = true
		return
	}
	it.old, it.row.Signer = res, res.Signer()
}

// plan decides, for the attestations of one subject, which to re-sign: those verified under
// the Checker's identity with no replacement already verified as the rotation's identity, each
// distinct bundle once.
func plan(items []*rotationItem) {
	first := map[digest.Digest]*rotationItem{}
	for _, it := range items {
		if it.old == nil {
			continue
		}
		if rep := replacementOf(items, it); rep != nil {
			it.row.Replacement = rep.found.Manifest
			continue
		}
		if f, ok := first[it.row.Bundle]; ok {
			it.sameAs = f
			continue
		}
		first[it.row.Bundle] = it
		it.resign = true
	}
}

// replacementOf returns an attestation that replaces it: one verified as the rotation's
// identity, naming its bundle in Replaces and holding the same statement. The reference is
// unsigned, which is why the statement is compared: a reference alone, which anyone who can
// push may write, does not make an attestation replaced.
func replacementOf(items []*rotationItem, it *rotationItem) *rotationItem {
	for _, cand := range items {
		if cand.current != nil && cand.bundle.Replaces == it.row.Bundle && proto.Equal(cand.current.Statement(), it.old.Statement()) {
			return cand
		}
	}
	return nil
}

// errOtherStatement is the cause of a replacement whose signer signed something else than
// it was given.
var errOtherStatement = errors.New("the replacement holds another statement than the one verified")

// resign signs the verified statement of it again, checks and attaches the new bundle, and
// records the event.
func (c *Checker) resign(ctx context.Context, store *oras.Store, it *rotationItem, r Rotation) {
	st := it.old.Statement()
	nb, err := r.Signer.Sign(ctx, st)
	if err != nil {
		it.fail("sign", err)
		return
	}
	nb.Replaces = it.row.Bundle
	if status, err := lifecycle.Parse(st); err == nil {
		nb.Effective = status.Effective
	}
	if nb.PredicateType == "" {
		nb.PredicateType = st.GetPredicateType()
	}
	check, err := c.verifier.Verify(ctx, nb, it.artifact, r.Identity)
	if err != nil {
		it.fail("verify-replacement", err)
		return
	}
	if !proto.Equal(check.Statement(), st) {
		it.fail("verify-replacement", errOtherStatement)
		return
	}
	desc, err := store.Attach(ctx, it.subject, nb)
	if err != nil {
		it.fail("attach", err)
		return
	}
	it.row.Replacement, it.row.Resigned = desc, true
	if c.cfg.recorder == nil {
		return
	}
	pt := st.GetPredicateType()
	e := audit.Event{
		Kind:        audit.KindResigned,
		Subject:     it.artifact,
		Actor:       c.cfg.actor,
		Time:        c.cfg.clock(),
		Environment: c.cfg.environment,
		Evidence:    []digest.Digest{it.row.Bundle, nb.Digest(), desc.Digest},
		Reasons: []string{fmt.Sprintf("%s statement signed by %s in bundle %s re-signed as %s in bundle %s",
			pt, signerName(it.row.Signer), it.row.Bundle, signerName(check.Signer()), nb.Digest())},
		Attributes: map[string]string{"predicateType": pt, "replaces": it.row.Bundle.String(), "replacedManifest": it.found.Manifest.Digest.String()},
	}
	if r.Reason != "" {
		e.Reasons = append(e.Reasons, r.Reason)
	}
	if r.DecidedBy != "" {
		e.Attributes["decidedBy"] = r.DecidedBy
	}
	if err := c.cfg.recorder.Record(ctx, e); err != nil {
		it.fail("record", err)
	}
}
