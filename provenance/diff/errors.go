package diff

import (
	"errors"
	"fmt"
)

// Sentinel errors. Compare with errors.Is; the typed errors below wrap them.
var (
	// ErrInvalidDescriptor means a list of subjects or materials cannot be compared: an entry is
	// nil, has neither name, URI nor digest, or (among subjects) shares its name with another.
	ErrInvalidDescriptor = errors.New("diff: invalid resource descriptor")
	// ErrInvalidStatement means a statement to compare is missing.
	ErrInvalidStatement = errors.New("diff: invalid statement")
	// ErrInvalidPredicate means a statement claims a SLSA Provenance predicate type but its
	// predicate does not decode as one.
	ErrInvalidPredicate = errors.New("diff: invalid predicate")
)

// DescriptorError reports an entry of a subject or material list that cannot be matched.
type DescriptorError struct {
	// Side is "baseline" or "current".
	Side string
	// Index is the entry's position in its list.
	Index int
	// Key is the name, URI or digest the entry was matched by, when it has one.
	Key string
	// Reason says what is wrong.
	Reason string
}

// Error implements error.
func (e *DescriptorError) Error() string {
	if e.Key != "" {
		return fmt.Sprintf("diff: %s[%d] %q: %s", e.Side, e.Index, e.Key, e.Reason)
	}
	return fmt.Sprintf("diff: %s[%d]: %s", e.Side, e.Index, e.Reason)
}

// Unwrap returns ErrInvalidDescriptor.
func (e *DescriptorError) Unwrap() error { return ErrInvalidDescriptor }

// PredicateError reports a statement whose predicate claims to be SLSA Provenance and is not.
type PredicateError struct {
	// Side is "baseline" or "current".
	Side string
	// PredicateType is the type the statement claims.
	PredicateType string
	// Err is the decoder's error.
	Err error
}

// Error implements error.
func (e *PredicateError) Error() string {
	return fmt.Sprintf("diff: %s predicate of type %s does not decode: %v", e.Side, e.PredicateType, e.Err)
}

// Unwrap returns ErrInvalidPredicate and the decoder's error.
func (e *PredicateError) Unwrap() []error { return []error{ErrInvalidPredicate, e.Err} }
