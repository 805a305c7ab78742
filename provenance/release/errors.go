package release

import (
	"errors"
	"fmt"
)

// Sentinel errors. Compare with errors.Is; the typed errors below wrap them.
var (
	// ErrMissingField means a record lacks a required field.
	ErrMissingField = errors.New("release: required field missing")
	// ErrInvalidField means a field of a record holds a value it cannot have.
	ErrInvalidField = errors.New("release: invalid field")
	// ErrInvalidPredicate means a statement does not hold a valid release record.
	ErrInvalidPredicate = errors.New("release: invalid predicate")
	// ErrInvalidTag means a text is not a release tag.
	ErrInvalidTag = errors.New("release: invalid tag")
)

// MissingFieldError names a required field of a record that is empty, or the required
// SOURCE_DATE_EPOCH that TagFromEnvironment did not find.
type MissingFieldError struct {
	// Field is the field's path in the predicate, such as "approval.by", or "image" for the
	// released image (the statement's subject); for a tag, "SOURCE_DATE_EPOCH".
	Field string
}

// Error implements error.
func (e *MissingFieldError) Error() string {
	return fmt.Sprintf("release: %s is required", e.Field)
}

// Unwrap returns ErrMissingField.
func (e *MissingFieldError) Unwrap() error { return ErrMissingField }

// FieldError reports a field of a record, or a part of a tag, whose value is not allowed.
type FieldError struct {
	// Field is the field's path in the predicate, such as "configuration[2].digest"; for a
	// tag, "version", "date", "commit" or "SOURCE_DATE_EPOCH".
	Field string
	// Reason says what is wrong.
	Reason string
}

// Error implements error.
func (e *FieldError) Error() string {
	return fmt.Sprintf("release: %s: %s", e.Field, e.Reason)
}

// Unwrap returns ErrInvalidField.
func (e *FieldError) Unwrap() error { return ErrInvalidField }

// PredicateError reports a statement that Parse rejects.
type PredicateError struct {
	// Reason says what is wrong.
	Reason string
	// Err is the cause: a *MissingFieldError or *FieldError when the record read is
	// incomplete or invalid, else nil.
	Err error
}

// Error implements error.
func (e *PredicateError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("release: invalid release statement: %s: %v", e.Reason, e.Err)
	}
	return fmt.Sprintf("release: invalid release statement: %s", e.Reason)
}

// Unwrap returns ErrInvalidPredicate and the cause.
func (e *PredicateError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrInvalidPredicate, e.Err}
	}
	return []error{ErrInvalidPredicate}
}

// TagError reports a text that ParseTag rejects.
type TagError struct {
	// Tag is the text read, cut to its first 128 bytes when it is longer.
	Tag string
	// Reason says what is wrong.
	Reason string
}

// Error implements error.
func (e *TagError) Error() string {
	return fmt.Sprintf("release: invalid tag %q: %s", e.Tag, e.Reason)
}

// Unwrap returns ErrInvalidTag.
func (e *TagError) Unwrap() error { return ErrInvalidTag }
