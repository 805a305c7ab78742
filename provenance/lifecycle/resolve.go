package lifecycle

import (
	"fmt"
	"slices"
	"time"

	"github.com/opencontainers/go-digest"
)

// Signed is a status whose signature the caller verified, with who signed it.
type Signed struct {
	// Status is the status read from the verified statement.
	Status *Status
	// Signer is the verified signer's identity, as the caller's entitlement check names it
	// (a key ID, or a certificate's subject).
	Signer string
	// Bundle is the digest of the bundle it came in, to report it.
	Bundle digest.Digest
}

// SetAside is a status Resolve did not count, and why: an error wrapping ErrOtherSubject,
// ErrNotYetEffective or ErrNotEntitled.
type SetAside struct {
	// Signed is the status.
	Signed Signed
	// Err says why it was set aside.
	Err error
}

// Resolution is an artifact's current status and what was set aside to find it.
type Resolution struct {
	// Subject is the artifact.
	Subject digest.Digest
	// Current is the status in effect, or nil when none is: the artifact is then active.
	Current *Signed
	// SetAside are the statuses not counted, in the order given.
	SetAside []SetAside
}

// State is the artifact's current state: Current's, or StateActive when none is in effect.
func (r *Resolution) State() State {
	if r.Current == nil {
		return StateActive
	}
	return r.Current.Status.State
}

// Resolve finds subject's status in effect at time at among statuses. A status about another
// artifact, effective after at, or whose signer entitled refuses is set aside; of the rest, the
// latest effective time wins. Statuses sharing that time must agree on state and successor,
// or Resolve fails closed with a *ConflictError. entitled is required: a status anyone could
// sign would let anyone retire, or revive, an artifact.
func Resolve(subject digest.Digest, statuses []Signed, at time.Time, entitled func(signer string) bool) (*Resolution, error) {
	if entitled == nil {
		return nil, fmt.Errorf("%w: an entitlement check is required", ErrNotEntitled)
	}
	r := &Resolution{Subject: subject}
	var latest []Signed
	for _, s := range statuses {
		switch {
		case s.Status == nil || s.Status.Subject != subject:
			r.SetAside = append(r.SetAside, SetAside{Signed: s, Err: fmt.Errorf("%w: about %s, not %s", ErrOtherSubject, subjectOf(s), subject)})
			continue
		case s.Status.Effective.After(at):
			r.SetAside = append(r.SetAside, SetAside{Signed: s, Err: fmt.Errorf("%w: effective %s", ErrNotYetEffective, s.Status.Effective.UTC().Format(time.RFC3339))})
			continue
		case !entitled(s.Signer):
			r.SetAside = append(r.SetAside, SetAside{Signed: s, Err: fmt.Errorf("%w: %s", ErrNotEntitled, s.Signer)})
			continue
		}
		switch {
		case len(latest) == 0 || s.Status.Effective.After(latest[0].Status.Effective):
			latest = []Signed{s}
		case s.Status.Effective.Equal(latest[0].Status.Effective):
			latest = append(latest, s)
		}
	}
	if len(latest) == 0 {
		return r, nil
	}
	first := latest[0].Status
	if i := slices.IndexFunc(latest, func(s Signed) bool {
		return s.Status.State != first.State || s.Status.Successor != first.Successor
	}); i >= 0 {
		return nil, &ConflictError{Subject: subject, Effective: first.Effective, Statuses: latest}
	}
	r.Current = &latest[0]
	return r, nil
}

func subjectOf(s Signed) string {
	if s.Status == nil {
		return "nothing"
	}
	return s.Status.Subject.String()
}
