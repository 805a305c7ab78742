package lineage

import (
	"errors"
	"fmt"

	"github.com/opencontainers/go-digest"
)

// Sentinel errors. Compare with errors.Is; the typed errors below wrap them.
var (
	// ErrInvalidResult means a result cannot be added to a graph: it is nil, it is a zero Result
	// that verify did not make, or its SLSA predicate cannot be decoded.
	ErrInvalidResult = errors.New("lineage: invalid result")
	// ErrUnknownArtifact means a query named a digest the graph has no node for.
	ErrUnknownArtifact = errors.New("lineage: artifact not in graph")
	// ErrNoPath means no chain of edges leads from one artifact to the other.
	ErrNoPath = errors.New("lineage: no path")
	// ErrInvalidCrate means the RO-Crate description lacks a required property.
	ErrInvalidCrate = errors.New("lineage: invalid RO-Crate description")
)

// ResultError reports a result that could not be added to a graph.
type ResultError struct {
	// Index is the result's position in the slice given to New.
	Index int
	// Err is the reason.
	Err error
}

// Error implements error.
func (e *ResultError) Error() string {
	return fmt.Sprintf("lineage: result %d: %v", e.Index, e.Err)
}

// Unwrap returns ErrInvalidResult and the reason.
func (e *ResultError) Unwrap() []error { return []error{ErrInvalidResult, e.Err} }

// UnknownArtifactError reports a digest that names no node of the graph.
type UnknownArtifactError struct {
	// Digest is the digest queried.
	Digest digest.Digest
}

// Error implements error.
func (e *UnknownArtifactError) Error() string {
	return fmt.Sprintf("lineage: artifact %s not in graph", e.Digest)
}

// Unwrap returns ErrUnknownArtifact.
func (e *UnknownArtifactError) Unwrap() error { return ErrUnknownArtifact }

// NoPathError reports that no chain of edges leads from From to To.
type NoPathError struct {
	// From and To are the canonical digests of the two artifacts.
	From, To digest.Digest
}

// Error implements error.
func (e *NoPathError) Error() string {
	return fmt.Sprintf("lineage: no path from %s to %s", e.From, e.To)
}

// Unwrap returns ErrNoPath.
func (e *NoPathError) Unwrap() error { return ErrNoPath }
