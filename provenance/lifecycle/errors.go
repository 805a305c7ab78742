package lifecycle

import (
	"errors"
	"fmt"
	"time"

	"github.com/opencontainers/go-digest"
)

// Sentinel errors. Compare with errors.Is; the typed errors below wrap them.
var (
	// ErrInvalidStatus means a status lacks a required field or holds a value it cannot have.
	ErrInvalidStatus = errors.New("lifecycle: invalid status")
	// ErrInvalidPredicate means a statement does not hold a valid lifecycle status.
	ErrInvalidPredicate = errors.New("lifecycle: invalid status predicate")
	// ErrOtherSubject means a status is about another artifact than the one asked about.
	ErrOtherSubject = errors.New("lifecycle: status about another artifact")
	// ErrNotYetEffective means a status takes effect after the time asked about.
	ErrNotYetEffective = errors.New("lifecycle: status not yet in effect")
	// ErrNotEntitled means a status is signed by an identity not entitled to set statuses.
	ErrNotEntitled = errors.New("lifecycle: signer not entitled to set the status")
	// ErrConflict means statuses in effect from the same time disagree.
	ErrConflict = errors.New("lifecycle: conflicting statuses")
)

// FieldError names the field of a status that is missing or invalid.
type FieldError struct {
	// Field is the field's name in the predicate, such as "state", or "subject" for the
	// statement's subject.
	Field string
	// Reason says what is wrong.
	Reason string
}

// Error implements error.
func (e *FieldError) Error() string {
	return fmt.Sprintf("lifecycle: status %s: %s", e.Field, e.Reason)
}

// Unwrap returns ErrInvalidStatus.
func (e *FieldError) Unwrap() error { return ErrInvalidStatus }

// PredicateError reports a statement that Parse rejects.
type PredicateError struct {
	// Reason says what is wrong.
	Reason string
	// Err is the *FieldError when the status read is invalid, else nil.
	Err error
}

// Error implements error.
func (e *PredicateError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("lifecycle: status predicate: %s: %v", e.Reason, e.Err)
	}
	return "lifecycle: status predicate: " + e.Reason
}

// Unwrap returns ErrInvalidPredicate and the cause.
func (e *PredicateError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrInvalidPredicate, e.Err}
	}
	return []error{ErrInvalidPredicate}
}

// ConflictError reports statuses in effect from the same latest time that disagree, so that
// no current status can be chosen.
type ConflictError struct {
	// Subject is the artifact.
	Subject digest.Digest
	// Effective is the time the statuses share.
	Effective time.Time
	// Statuses are the disagreeing statuses.
	Statuses []Signed
}

// Error implements error.
func (e *ConflictError) Error() string {
	msg := fmt.Sprintf("lifecycle: %d statuses of %s effective at %s disagree:", len(e.Statuses), e.Subject, e.Effective.UTC().Format(time.RFC3339))
	for _, s := range e.Statuses {
		msg += fmt.Sprintf(" %s by %s;", s.Status.State, s.Signer)
	}
	return msg[:len(msg)-1]
}

// Unwrap returns ErrConflict.
func (e *ConflictError) Unwrap() error { return ErrConflict }
