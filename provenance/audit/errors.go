package audit

import (
	"errors"
	"fmt"
)

// Sentinel errors. Compare with errors.Is; the typed errors below wrap them.
var (
	// ErrInvalidEvent means an event lacks a required field or holds a value it cannot have.
	ErrInvalidEvent = errors.New("audit: invalid event")
	// ErrInvalidPredicate means a statement does not hold a valid audit event.
	ErrInvalidPredicate = errors.New("audit: invalid event predicate")
)

// FieldError names the field of an event that is missing or invalid.
type FieldError struct {
	// Field is the field's path in the predicate, such as "kind" or "reasons[2]", or "subject"
	// for the statement's subject.
	Field string
	// Reason says what is wrong.
	Reason string
}

// Error implements error.
func (e *FieldError) Error() string {
	return fmt.Sprintf("audit: event %s: %s", e.Field, e.Reason)
}

// Unwrap returns ErrInvalidEvent.
func (e *FieldError) Unwrap() error { return ErrInvalidEvent }

// PredicateError reports a statement or predicate that Parse or ParseStatement rejects.
type PredicateError struct {
	// Reason says what is wrong.
	Reason string
	// Err is the *FieldError when the event read is invalid, else nil.
	Err error
}

// Error implements error.
func (e *PredicateError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("audit: event predicate: %s: %v", e.Reason, e.Err)
	}
	return "audit: event predicate: " + e.Reason
}

// Unwrap returns ErrInvalidPredicate and the cause.
func (e *PredicateError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrInvalidPredicate, e.Err}
	}
	return []error{ErrInvalidPredicate}
}
