package runtime

import (
	"errors"
	"fmt"
)

// Sentinel errors. Compare with errors.Is; the typed errors below wrap them.
var (
	// ErrInvalidFacts means facts lack a required field or hold a value they cannot have.
	ErrInvalidFacts = errors.New("runtime: invalid facts")
	// ErrInvalidPredicate means a statement does not hold valid runtime facts.
	ErrInvalidPredicate = errors.New("runtime: invalid facts predicate")
	// ErrMalformedDatabase means a package database could not be parsed.
	ErrMalformedDatabase = errors.New("runtime: malformed package database")
	// ErrTooLarge means an input is over one of the package's size limits.
	ErrTooLarge = errors.New("runtime: input too large")
	// ErrInvalidOption means an option given to Collect is invalid.
	ErrInvalidOption = errors.New("runtime: invalid option")
)

// FieldError names the field of the facts that is missing or invalid.
type FieldError struct {
	// Field is the field's name in the predicate, such as "packages[3].name", or "image" for
	// the statement's subject.
	Field string
	// Reason says what is wrong.
	Reason string
}

// Error implements error.
func (e *FieldError) Error() string {
	return fmt.Sprintf("runtime: facts %s: %s", e.Field, e.Reason)
}

// Unwrap returns ErrInvalidFacts.
func (e *FieldError) Unwrap() error { return ErrInvalidFacts }

// PredicateError reports a statement that Parse rejects.
type PredicateError struct {
	// Reason says what is wrong.
	Reason string
	// Err is the *FieldError when the facts read are invalid, else nil.
	Err error
}

// Error implements error.
func (e *PredicateError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("runtime: facts predicate: %s: %v", e.Reason, e.Err)
	}
	return "runtime: facts predicate: " + e.Reason
}

// Unwrap returns ErrInvalidPredicate and the cause.
func (e *PredicateError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrInvalidPredicate, e.Err}
	}
	return []error{ErrInvalidPredicate}
}

// DatabaseError reports a package database that ParseDpkgStatus or ParseAPKInstalled
// rejects.
type DatabaseError struct {
	// Database is the kind of database: DatabaseDpkg or DatabaseAPK.
	Database string
	// Line is the 1-based line the problem was found on, or 0 when it concerns the whole input.
	Line int
	// Reason says what is wrong.
	Reason string
	// Err is ErrMalformedDatabase or ErrTooLarge.
	Err error
}

// Error implements error.
func (e *DatabaseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("runtime: %s database line %d: %s", e.Database, e.Line, e.Reason)
	}
	return fmt.Sprintf("runtime: %s database: %s", e.Database, e.Reason)
}

// Unwrap returns Err.
func (e *DatabaseError) Unwrap() error { return e.Err }
