package gate

import (
	"context"
	"errors"
	"fmt"
	"slices"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/errgroup"

	"github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/policy"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/audit"
	"github.com/provkit/provkit/provenance/lifecycle"
)

// StatusSigner signs statements: the lifecycle statuses Sweep sets, and the statements
// Rotate re-signs with a new key or identity. sign.Signer satisfies it.
type StatusSigner interface {
	// Sign signs st as a DSSE envelope in a Sigstore bundle.
	Sign(ctx context.Context, st *intoto.Statement) (provenance.Bundle, error)
}

// Sweep is what to do with the artifacts a policy no longer allows.
type Sweep struct {
	// State is the status to set: lifecycle.StateDeprecated or lifecycle.StateRetired.
	State lifecycle.State
	// Signer signs the statuses; it must be an identity the lifecycle role accepts.
	Signer StatusSigner
	// DecidedBy is the identity on whose authority the statuses are set.
	DecidedBy string
}

// Swept is the outcome of a sweep for one artifact.
type Swept struct {
	// Subject is the artifact checked.
	Subject ocispec.Descriptor
	// Denied is why the artifact is not allowed (it matches policy.ErrDenied: a policy
	// denial, no attestations, none verified), nil when it is.
	Denied error
	// Status is the manifest of the status attached, zero when none was: the artifact was
	// allowed, already at State or beyond, or could not be checked.
	Status ocispec.Descriptor
	// Err is why the artifact could not be checked or its status set, else nil.
	Err error
}

// Sweep checks each subject in store with the Checker's policy and, for each one it denies,
// signs a status of s.State whose reason is the denial's and attaches it beside the artifact:
// nothing is deleted, so fetch and rollback keep working. An artifact whose verified status in
// effect is already s.State or more severe is left alone, so sweeps can run on a schedule.
// With WithRecorder, each status set is recorded as a deprecated or retired event with the
// status's manifest as evidence. Artifacts are swept WithConcurrency at a time, and the
// results are in the order of subjects. Failures are per artifact, in Swept.Err; Sweep itself
// fails only on a bad configuration.
func (c *Checker) Sweep(ctx context.Context, store *oras.Store, subjects []ocispec.Descriptor, s Sweep) ([]Swept, error) {
	switch {
	case c.cfg.policy == nil:
		return nil, fmt.Errorf("%w: Sweep needs WithPolicy", ErrInvalidConfig)
	case s.State != lifecycle.StateDeprecated && s.State != lifecycle.StateRetired:
		return nil, fmt.Errorf("%w: a sweep sets deprecated or retired, not %q", ErrInvalidConfig, s.State)
	case s.Signer == nil || s.DecidedBy == "":
		return nil, fmt.Errorf("%w: a sweep needs a signer and who decided", ErrInvalidConfig)
	}
	out := make([]Swept, len(subjects))
	var g errgroup.Group
	g.SetLimit(c.cfg.concurrency)
	for i, subject := range subjects {
		g.Go(func() error {
			out[i] = c.sweepOne(ctx, store, subject, s)
			return nil
		})
	}
	_ = g.Wait()
	return out, nil
}

func (c *Checker) sweepOne(ctx context.Context, store *oras.Store, subject ocispec.Descriptor, s Sweep) Swept {
	r := Swept{Subject: subject}
	report, err := c.check(ctx, store, subject)
	if err == nil {
		return r
	}
	if !errors.Is(err, policy.ErrDenied) {
		r.Err = err
		return r
	}
	r.Denied = err
	if report != nil && c.alreadyAt(report, s.State) {
		return r
	}
	now := c.cfg.clock()
	status := lifecycle.Status{Subject: subject.Digest, State: s.State, Reason: err.Error(), Effective: now, DecidedBy: s.DecidedBy}
	if len(status.Reason) > lifecycle.MaxReasonBytes {
		status.Reason = status.Reason[:lifecycle.MaxReasonBytes]
	}
	st, err := status.Statement()
	if err != nil {
		r.Err = err
		return r
	}
	b, err := s.Signer.Sign(ctx, st)
	if err != nil {
		r.Err = fmt.Errorf("sign %s status: %w", s.State, err)
		return r
	}
	b.Effective = status.Effective
	if r.Status, err = store.Attach(ctx, subject, b); err != nil {
		r.Err = fmt.Errorf("attach %s status: %w", s.State, err)
		return r
	}
	if c.cfg.recorder != nil {
		kind := audit.KindDeprecated
		if s.State == lifecycle.StateRetired {
			kind = audit.KindRetired
		}
		e := audit.Event{Kind: kind, Subject: subject.Digest, Actor: c.cfg.actor, Time: now, Environment: c.cfg.environment,
			Evidence: []digest.Digest{r.Status.Digest}, Reasons: []string{status.Reason}}
		if err := c.cfg.recorder.Record(ctx, e); err != nil {
			r.Err = &CheckError{Op: "record", Subject: subject, Err: err}
		}
	}
	return r
}

// alreadyAt reports whether the verified statuses in report put the artifact at state or beyond.
func (c *Checker) alreadyAt(report *Report, state lifecycle.State) bool {
	var statuses []lifecycle.Signed
	for _, v := range report.Verified {
		if v.Result.PredicateType() != lifecycle.PredicateType {
			continue
		}
		if s, err := lifecycle.Parse(v.Result.Statement()); err == nil {
			statuses = append(statuses, lifecycle.Signed{Status: s})
		}
	}
	res, err := lifecycle.Resolve(report.Artifact, statuses, c.cfg.clock(), func(string) bool { return true })
	if err != nil {
		return false
	}
	severity := slices.Index(lifecycle.States(), res.State())
	return severity >= slices.Index(lifecycle.States(), state)
}
