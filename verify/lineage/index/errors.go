package index

import (
	"errors"
	"fmt"
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
