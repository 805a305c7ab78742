package lifecycle

import (
	"encoding/json"
	"fmt"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"

	"github.com/provkit/provkit/provenance"
)

// PredicateType is the predicate type of a lifecycle status.
const PredicateType = "https://provkit.dev/lifecycle/v1"

// Limits of a status.
const (
	// MaxReasonBytes is the longest reason.
	MaxReasonBytes = 4 << 10
	// MaxPredicateBytes is the largest predicate Parse reads.
	MaxPredicateBytes = 16 << 10
)

// State is where an artifact is in its life.
type State string

// The states, from in use to must not run.
const (
	// StateActive: in use; the default of an artifact with no status.
	StateActive State = "active"
	// StateDeprecated: still runs, but should be replaced, by the successor when named.
	StateDeprecated State = "deprecated"
	// StateRetired: no longer meets the thresholds to run; kept for fetch and rollback.
	StateRetired State = "retired"
	// StateRevoked: must not run at all, such as after a compromised build or key.
	StateRevoked State = "revoked"
)

// States returns every state, in the order of their severity.
func States() []State {
	return []State{StateActive, StateDeprecated, StateRetired, StateRevoked}
}

func (s State) known() bool {
	switch s {
	case StateActive, StateDeprecated, StateRetired, StateRevoked:
		return true
	}
	return false
}

// Status is an artifact's lifecycle status from a point in time.
type Status struct {
	// Subject is the artifact's digest.
	Subject digest.Digest
	// SubjectName optionally names it, such as by a reference; informative only.
	SubjectName string
	// State is the artifact's state.
	State State
	// Reason says why, for people; required except for StateActive.
	Reason string
	// Successor is the digest of the artifact to migrate to, or empty.
	Successor digest.Digest
	// SuccessorName optionally names the successor; only with Successor.
	SuccessorName string
	// Effective is when the status takes effect.
	Effective time.Time
	// DecidedBy is the identity on whose authority the status is set.
	DecidedBy string
}

type wireStatus struct {
	State         string `json:"state"`
	Reason        string `json:"reason,omitempty"`
	Successor     string `json:"successor,omitempty"`
	SuccessorName string `json:"successorName,omitempty"`
	Effective     string `json:"effective"`
	DecidedBy     string `json:"decidedBy"`
}

// wireFields are the predicate's field names, exactly: encoding/json alone would match them
// regardless of case.
var wireFields = []string{"state", "reason", "successor", "successorName", "effective", "decidedBy"}

// Validate checks the status, naming the first bad field in a *FieldError.
func (s *Status) Validate() error {
	if err := checkDigest("subject", s.Subject); err != nil {
		return err
	}
	switch {
	case !s.State.known():
		return &FieldError{Field: "state", Reason: fmt.Sprintf("%q is not a state (active, deprecated, retired, revoked)", s.State)}
	case s.Reason == "" && s.State != StateActive:
		return &FieldError{Field: "reason", Reason: fmt.Sprintf("required for a %s status", s.State)}
	case len(s.Reason) > MaxReasonBytes:
		return &FieldError{Field: "reason", Reason: fmt.Sprintf("%d bytes, more than %d", len(s.Reason), MaxReasonBytes)}
	case s.Effective.IsZero():
		return &FieldError{Field: "effective", Reason: "required"}
	case s.Effective.UTC().Year() < 1 || s.Effective.UTC().Year() > 9999:
		return &FieldError{Field: "effective", Reason: "outside the years 1 to 9999"}
	case s.DecidedBy == "":
		return &FieldError{Field: "decidedBy", Reason: "required"}
	case s.SuccessorName != "" && s.Successor == "":
		return &FieldError{Field: "successorName", Reason: "names no successor"}
	}
	if s.Successor != "" {
		if err := checkDigest("successor", s.Successor); err != nil {
			return err
		}
		if s.Successor == s.Subject {
			return &FieldError{Field: "successor", Reason: "an artifact does not succeed itself"}
		}
	}
	return nil
}

// Statement returns the status as a validated in-toto statement, ready to sign. An invalid
// status fails with a *FieldError.
func (s *Status) Statement() (*intoto.Statement, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	w := wireStatus{State: string(s.State), Reason: s.Reason, Successor: s.Successor.String(), SuccessorName: s.SuccessorName,
		Effective: s.Effective.UTC().Format(time.RFC3339Nano), DecidedBy: s.DecidedBy}
	raw, err := json.Marshal(w)
	if err != nil {
		return nil, &FieldError{Field: "predicate", Reason: err.Error()}
	}
	subject := &intoto.ResourceDescriptor{Name: s.SubjectName, Digest: map[string]string{s.Subject.Algorithm().String(): s.Subject.Encoded()}}
	st, err := provenance.NewStatement([]*intoto.ResourceDescriptor{subject}, PredicateType, json.RawMessage(raw))
	if err != nil {
		return nil, &FieldError{Field: "subject", Reason: err.Error()}
	}
	return st, nil
}

// Parse reads a status back from a statement, such as one a verifier returned. It is strict:
// the predicate type must be PredicateType, the statement must have one subject with one
// digest, the predicate no field Statement does not write, and the status must be valid. A
// rejected statement fails with a *PredicateError. Parse checks the document, not its
// signature: verify it first.
func Parse(st *intoto.Statement) (*Status, error) {
	var w wireStatus
	subject, subjectDigest, err := provenance.DecodePredicateStrict(st, PredicateType, wireFields, MaxPredicateBytes, &w)
	if err != nil {
		return nil, &PredicateError{Reason: err.Error()}
	}
	s := &Status{SubjectName: subject.GetName(), State: State(w.State), Reason: w.Reason,
		Successor: digest.Digest(w.Successor), SuccessorName: w.SuccessorName, DecidedBy: w.DecidedBy}
	s.Subject = subjectDigest
	t, err := time.Parse(time.RFC3339Nano, w.Effective)
	if err != nil || t.Location() != time.UTC {
		return nil, &PredicateError{Reason: "invalid status", Err: &FieldError{Field: "effective", Reason: fmt.Sprintf("%q is not an RFC 3339 time in UTC", w.Effective)}}
	}
	s.Effective = t
	if err := s.Validate(); err != nil {
		return nil, &PredicateError{Reason: "invalid status", Err: err}
	}
	return s, nil
}

// checkDigest requires a digest in normal form of an identifying algorithm.
func checkDigest(field string, d digest.Digest) error {
	if d == "" {
		return &FieldError{Field: field, Reason: "required"}
	}
	if err := provenance.CheckArtifactDigest(d); err != nil {
		return &FieldError{Field: field, Reason: err.Error()}
	}
	return nil
}
