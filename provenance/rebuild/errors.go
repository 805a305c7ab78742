package rebuild

import (
	"errors"
	"fmt"
	"strings"

	"github.com/provkit/provkit/provenance/diff"
)

// Sentinel errors. Compare with errors.Is; the typed errors below wrap them.
var (
	// ErrInvalidInput means Check was given an Input it cannot check: a required field is
	// missing, or a statement or descriptor is malformed.
	ErrInvalidInput = errors.New("rebuild: invalid input")
	// ErrMismatch means the rebuilt artifact differs from the original.
	ErrMismatch = errors.New("rebuild: rebuilt artifact does not match the original")
	// ErrInvalidPredicate means a statement does not hold a valid rebuild predicate.
	ErrInvalidPredicate = errors.New("rebuild: invalid predicate")
)

// InputError reports what is wrong with an Input.
type InputError struct {
	// Field is the Input field: "Original", "Rebuilt", "Provenance", "OriginalImage",
	// "RebuiltImage" or "CheckedOn".
	Field string
	// Reason says what is wrong.
	Reason string
	// Err is the cause, when there is one.
	Err error
}

// Error implements error.
func (e *InputError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("rebuild: input %s: %s: %v", e.Field, e.Reason, e.Err)
	}
	return fmt.Sprintf("rebuild: input %s: %s", e.Field, e.Reason)
}

// Unwrap returns ErrInvalidInput and the cause.
func (e *InputError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrInvalidInput, e.Err}
	}
	return []error{ErrInvalidInput}
}

// MismatchError lists how a rebuilt artifact differs from the original.
type MismatchError struct {
	// Differences are the differences, as in Result.Differences.
	Differences []diff.Change
}

// Error implements error. It names up to five differing fields.
func (e *MismatchError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "rebuild: rebuilt artifact does not match the original: %d difference", len(e.Differences))
	if len(e.Differences) != 1 {
		b.WriteString("s")
	}
	for i, c := range e.Differences {
		if i == 5 {
			b.WriteString(", …")
			break
		}
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %s", c.Field, c.Kind)
	}
	return b.String()
}

// Unwrap returns ErrMismatch.
func (e *MismatchError) Unwrap() error { return ErrMismatch }

// PredicateError reports a field of a rebuild statement that Parse rejects.
type PredicateError struct {
	// Field is the JSON path of the field in the statement, e.g. "predicate.outcome".
	Field string
	// Reason says what is wrong.
	Reason string
}

// Error implements error.
func (e *PredicateError) Error() string {
	return fmt.Sprintf("rebuild: %s: %s", e.Field, e.Reason)
}

// Unwrap returns ErrInvalidPredicate.
func (e *PredicateError) Unwrap() error { return ErrInvalidPredicate }
