// Package provenance is the model every other provkit package shares: in-toto Statements and
// their predicates, the subjects they are about, the signed Bundle as it is stored, and the
// Store contract that registries, OCI layouts and memory implement.
//
// # Statements
//
// A statement names its subjects by digest and carries one predicate. Subjects come from a
// stream (SubjectFromReader, SubjectFromFile: hashed in one pass, several algorithms at once,
// in constant memory), from a directory tree (SubjectsFromDir: one subject per regular file,
// hashed by a bounded pool of workers, never following links out of the tree), or from an OCI
// manifest (SubjectFromDescriptor). Predicates are SLSA Provenance v1, built from a Build, or any
// other document by predicate type (see the Predicate* constants for SBOMs, VEX, scans and VSAs).
//
// Statements are the in-toto/attestation Go types. Marshal writes them as canonical JSON, so the
// same statement always gives the same bytes; ParseStatement reads v1 and the v0.1 that cosign
// still writes. Once a statement is signed, keep the exact signed bytes: never re-marshal it.
//
// # Reproducibility
//
// Nothing here reads the clock, the environment or the file system behind the caller's back.
// Times come from a Clock; ClockFromEnv honours SOURCE_DATE_EPOCH from an environment the caller
// passes. Gathering facts about a real build is the job of the collect sub-package.
//
// # Storage
//
// A Bundle is signed provenance as stored: media type and exact bytes. Store (Attacher, Lister
// and Fetcher) is implemented by the oras package and checked by one shared conformance suite.
//
// # Errors
//
// Every failure wraps one of the Err* sentinels, often through a typed error (MissingFieldError,
// SizeError, PathError) that carries the details; compare with errors.Is and errors.As.
//
// This package imports only the standard library, go-digest, image-spec, the in-toto attestation
// types and protobuf, and is safe for concurrent use.
package provenance
