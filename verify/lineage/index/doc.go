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
// verified signing time, when the bundle had one). For a keyless signature it also records
// the certificate's Fulcio extensions, which say which repository, ref, commit, workflow and
// run signed, by the JSON names of sigstore-go's certificate.Extensions
// ("sourceRepositoryURI", "sourceRepositoryRef", "buildSignerURI", "runInvocationURI",
// "githubWorkflowRepository"...). An index of schema version 2 or older has none recorded:
// adding its keyless results again records them.
//
// Find selects artifacts (statement subjects) by source commit, source repository, builder
// id, material digest (a dataset, input file, base image or module), external parameter value
// by JSON Pointer, predicate type, subject digest (every statement about an artifact), signer
// (a key id or a certificate's subject alternative name), signing-time range and certificate
// extensions, in any combination, and returns each artifact's digest and name with the id of
// the statement that names it, in a deterministic order. The conditions on a signature (the
// signer, its time, its extensions) must all hold on one signature, so
//
//	Query{SignerExtensions: map[string]string{
//		"sourceRepositoryURI": "https://github.com/org/repo",
//		"sourceRepositoryRef": "refs/tags/v1.0.0",
//	}}
//
// selects every artifact that a workflow of that repository signed at that tag. Signatures
// returns who signed a statement, with the certificate's extensions.
//
// Vulnerabilities over time: the index records the findings of verified vulnerability scans
// (the in-toto vulns v0.2 predicate, as package provenance/vuln writes it from grype, Trivy,
// SARIF and OSV-Scanner reports, and cosign's vuln predicate) with when each scan happened.
// Exposed answers "which artifacts, and which of their release tags, are affected by
// CVE-X" and "which deployed digests fail the high threshold today" from each artifact's
// latest scan; a scan whose report cannot be read is exposed to every query.
//
// Release tags are meant never to move. ObserveTag records where a tag pointed and when, and
// reports a tag seen at another digest before as a *DriftError with both digests and when
// each was seen; AddAuditLog records the tags in the subject names of the events it ingests,
// so a tag promoted at one digest and deployed at another is caught. Drifts lists every tag
// that moved.
//
// The index reads SLSA Provenance v1 facts straight from the statement's predicate, as package
// lineage does, and decodes the predicate in full only when it has an unusual shape.
//
// Imports: the standard library, go-digest, in-toto attestation, protobuf, pgx,
// modernc.org/sqlite, sigstore-go's fulcio/certificate, and provkit's provenance, verify and
// verify/auditlog.
package index
