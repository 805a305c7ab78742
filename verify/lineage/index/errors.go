package index

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

var (
	// ErrOpen means the index could not be opened: a DSN the driver rejects, a server that
	// does not answer, a file that cannot be created, or a schema that cannot be made.
	ErrOpen = errors.New("index: cannot open")
	// ErrSchemaVersion means the database holds a schema newer than this package knows.
	ErrSchemaVersion = errors.New("index: unsupported schema version")
	// ErrInvalidQuery means a Query names a digest, repository or parameter path that cannot be
	// compared with what the index records.
	ErrInvalidQuery = errors.New("index: invalid query")
	// ErrNotVerified means Add was given a nil or zero *verify.Result, which verify never returns.
	ErrNotVerified = errors.New("index: not a result made by verify")
)

// OpenError says which backend could not be opened, and why. It matches ErrOpen with errors.Is
// and unwraps to the driver's error.
type OpenError struct {
	// Backend is "sqlite" or "postgres".
	Backend string
	// Err is the cause.
	Err error
}

// Error implements error: the backend and the cause.
func (e *OpenError) Error() string {
	return fmt.Sprintf("index: cannot open %s database: %v", e.Backend, e.Err)
}

// Unwrap returns ErrOpen and the cause.
func (e *OpenError) Unwrap() []error { return []error{ErrOpen, e.Err} }

// SchemaError says the database's schema version is newer than the newest this package knows.
// It matches ErrSchemaVersion with errors.Is.
type SchemaError struct {
	// Found is the version recorded in the database; Supported the newest this package knows.
	Found, Supported int
}

// Error implements error: both schema versions.
func (e *SchemaError) Error() string {
	return fmt.Sprintf("index: database schema version %d is newer than supported version %d", e.Found, e.Supported)
}

// Unwrap returns ErrSchemaVersion.
func (e *SchemaError) Unwrap() error { return ErrSchemaVersion }

// ResultError says which result of an Add call could not be indexed, and why. Nothing of that
// call is indexed.
type ResultError struct {
	// Index is the position of the result in the call's arguments.
	Index int
	// Err is the cause, such as ErrNotVerified.
	Err error
}

// Error implements error: the result's position and the cause.
func (e *ResultError) Error() string {
	return fmt.Sprintf("index: result %d: %v", e.Index, e.Err)
}

// Unwrap returns the cause.
func (e *ResultError) Unwrap() error { return e.Err }

// QueryError says which field of a Query is invalid, and why. It matches ErrInvalidQuery with
// errors.Is and unwraps to the cause (such as a *provenance.DigestError or
// *provenance.RepositoryError).
type QueryError struct {
	// Field is the Query field, such as "Subject" or "Parameters".
	Field string
	// Err is the cause.
	Err error
}

// Error implements error: the Query field and the cause.
func (e *QueryError) Error() string {
	return fmt.Sprintf("index: invalid query %s: %v", e.Field, e.Err)
}

// Unwrap returns ErrInvalidQuery and the cause.
func (e *QueryError) Unwrap() []error { return []error{ErrInvalidQuery, e.Err} }

var (
	// ErrTagDrift means a tag the index saw pointing at one digest was seen pointing at another.
	ErrTagDrift = errors.New("index: tag moved")
	// ErrInvalidReference means a reference names no tag.
	ErrInvalidReference = errors.New("index: invalid tag reference")
)

// ReferenceError says a reference given as a tag names none. It matches ErrInvalidReference.
type ReferenceError struct {
	// Reference is the reference given.
	Reference string
}

// Error implements error: the reference.
func (e *ReferenceError) Error() string {
	return fmt.Sprintf("index: reference %q names no tag (want REPOSITORY:TAG)", e.Reference)
}

// Unwrap returns ErrInvalidReference.
func (e *ReferenceError) Unwrap() error { return ErrInvalidReference }

// DriftError says a tag was seen pointing at other digests than the one it points at now. It
// matches ErrTagDrift.
type DriftError struct {
	// Reference is the tag, as REPOSITORY:TAG.
	Reference string
	// Current is the sighting of the digest the tag points at now, with every earlier sighting
	// of the same digest folded in.
	Current Sighting
	// Earlier are the sightings of the other digests, by first sighting.
	Earlier []Sighting
}

// Error implements error: the tag, and each digest with when it was seen.
func (e *DriftError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "index: tag %s moved: now %s (seen %s)", e.Reference, e.Current.Digest, span(e.Current))
	for _, s := range e.Earlier {
		fmt.Fprintf(&b, "; was %s (seen %s, by %s)", s.Digest, span(s), s.Source)
	}
	return b.String()
}

// Unwrap returns ErrTagDrift.
func (e *DriftError) Unwrap() error { return ErrTagDrift }

func span(s Sighting) string {
	first, last := s.FirstSeen.Format(time.RFC3339), s.LastSeen.Format(time.RFC3339)
	if first == last {
		return first
	}
	return first + " to " + last
}
