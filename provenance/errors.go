package provenance

import (
	"errors"
	"fmt"
)

// Sentinel errors. Compare with errors.Is; the typed errors below wrap them.
var (
	// ErrNoSubjects means a statement was asked for with no subject.
	ErrNoSubjects = errors.New("provenance: no subjects")
	// ErrInvalidDigest means a digest is malformed or uses an algorithm provkit does not hash.
	ErrInvalidDigest = errors.New("provenance: invalid digest")
	// ErrMissingField means a document lacks a field its specification requires.
	ErrMissingField = errors.New("provenance: required field missing")
	// ErrInvalidPredicate means a predicate is not a JSON object or cannot be encoded.
	ErrInvalidPredicate = errors.New("provenance: invalid predicate")
	// ErrInvalidStatement means bytes do not hold a valid in-toto Statement.
	ErrInvalidStatement = errors.New("provenance: invalid statement")
	// ErrTooLarge means input exceeds a documented size limit.
	ErrTooLarge = errors.New("provenance: too large")
	// ErrNotFound means a store holds no such attestation or subject.
	ErrNotFound = errors.New("provenance: not found")
	// ErrSourceDateEpoch means SOURCE_DATE_EPOCH is set to something other than a non-negative
	// integer of seconds.
	ErrSourceDateEpoch = errors.New("provenance: invalid SOURCE_DATE_EPOCH")
	// ErrOutsideTree means a path, usually through a symbolic link, leads out of the tree being hashed.
	ErrOutsideTree = errors.New("provenance: path leads outside the tree")
	// ErrInvalidRepository means a source repository location has no canonical identity.
	ErrInvalidRepository = errors.New("provenance: invalid repository")
	// ErrNotRegular means a path names a FIFO, device, socket or directory where a regular
	// file's bytes were to be read.
	ErrNotRegular = errors.New("provenance: not a regular file")
)

// MissingFieldError names a required field that is absent.
type MissingFieldError struct {
	// Field is the JSON path of the field, e.g. "runDetails.builder.id".
	Field string
}

// Error implements error.
func (e *MissingFieldError) Error() string {
	return fmt.Sprintf("provenance: required field %s missing", e.Field)
}

// Unwrap returns ErrMissingField.
func (e *MissingFieldError) Unwrap() error { return ErrMissingField }

// SizeError reports input over a limit.
type SizeError struct {
	// What names the input, e.g. "bundle" or "statement".
	What string
	// Limit is the largest size allowed, in bytes.
	Limit int64
	// Size is the size seen, or -1 when reading stopped at the limit.
	Size int64
}

// Error implements error.
func (e *SizeError) Error() string {
	if e.Size < 0 {
		return fmt.Sprintf("provenance: %s exceeds the %d-byte limit", e.What, e.Limit)
	}
	return fmt.Sprintf("provenance: %s is %d bytes, over the %d-byte limit", e.What, e.Size, e.Limit)
}

// Unwrap returns ErrTooLarge.
func (e *SizeError) Unwrap() error { return ErrTooLarge }

// PathError reports a file or directory that could not be used as a subject or material.
type PathError struct {
	// Op is what was being done: "hash", "walk", "open".
	Op string
	// Path is the path as the caller named it, or relative to the tree being walked.
	Path string
	// Err is the cause.
	Err error
}

// Error implements error.
func (e *PathError) Error() string {
	return fmt.Sprintf("provenance: %s %s: %v", e.Op, e.Path, e.Err)
}

// Unwrap returns the cause.
func (e *PathError) Unwrap() error { return e.Err }

// DigestError names a digest that cannot identify an artifact and why. It wraps ErrInvalidDigest.
type DigestError struct {
	// Algorithm is the digest's algorithm name as written, e.g. "sha256" or "md5".
	Algorithm string
	// Value is the digest's value as written; empty when the algorithm alone is the reason.
	Value string
	// Reason says what is wrong.
	Reason string
}

// Error implements error.
func (e *DigestError) Error() string {
	switch {
	case e.Algorithm == "":
		return fmt.Sprintf("provenance: invalid digest %q: %s", e.Value, e.Reason)
	case e.Value == "":
		return fmt.Sprintf("provenance: invalid digest algorithm %q: %s", e.Algorithm, e.Reason)
	}
	return fmt.Sprintf("provenance: invalid digest %s:%q: %s", e.Algorithm, e.Value, e.Reason)
}

// Unwrap returns ErrInvalidDigest.
func (e *DigestError) Unwrap() error { return ErrInvalidDigest }

// RepositoryError names a source repository location that has no canonical identity and why.
// It wraps ErrInvalidRepository.
type RepositoryError struct {
	// URI is the location as written.
	URI string
	// Reason says what is wrong.
	Reason string
}

// Error implements error.
func (e *RepositoryError) Error() string {
	return fmt.Sprintf("provenance: repository %q: %s", e.URI, e.Reason)
}

// Unwrap returns ErrInvalidRepository.
func (e *RepositoryError) Unwrap() error { return ErrInvalidRepository }
