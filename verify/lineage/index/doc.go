// Package index is a queryable knowledge base of verified provenance: it records facts of
// verified in-toto statements in SQL and finds artifacts by them.
//
// Two backends share one schema and one set of queries: SQLite, embedded in a file the caller
// names (OpenSQLite, through the pure-Go modernc.org/sqlite driver, no cgo), and PostgreSQL,
// for a team sharing one database (OpenPostgres, through pgx). Opening creates the schema, or
// migrates an older one; the schema is versioned, and a database written by a newer version
// of this package fails to open with a *SchemaError.
//
// Add takes only *verify.Result values, which only package verify makes, so a statement that
// did not verify can never be indexed. Ingestion is incremental and idempotent: a statement is
// keyed by the sha256 digest of its canonical form (provenance.Marshal), adding it again
// changes nothing, and each call is one transaction. The index records who signed each
// statement (a key id, or a certificate's issuer and subject alternative name) and when (the
// verified signing time, when the bundle had one).
//
// Find selects artifacts (statement subjects) by source commit, source repository, builder
// id, material digest (a dataset, input file, base image or module), external parameter value
// by dotted path, predicate type, subject digest (every statement about an artifact), signer
// (a key id or a certificate's subject alternative name) and signing-time range, in any
// combination, and returns each artifact's digest and name with the id of the statement that
// names it, in a deterministic order. Signatures returns who signed a statement.
//
// The index reads SLSA Provenance v1 facts straight from the statement's predicate, as package
// lineage does, and decodes the predicate in full only when it has an unusual shape.
//
// Imports: the standard library, go-digest, in-toto attestation, protobuf, pgx,
// modernc.org/sqlite, and provkit's provenance and verify.
package index
