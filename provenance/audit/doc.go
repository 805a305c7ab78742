// Package audit is the model of provenance events: what happened to an artifact (attested,
// attached, verified, denied, promoted, released, deployed, deprecated, retired, revoked,
// re-signed, a runtime deviation), on what evidence, decided by whom, when and why. An Event
// becomes an in-toto statement about the artifact's digest, appended to a tamper-evident log
// (package verify/auditlog) that signs it together with the events recorded beside it; a
// Recorder is where gates and pipelines send their events.
//
//	st, err := (&audit.Event{
//		Kind:     audit.KindPromoted,
//		Subject:  desc.Digest,
//		Actor:    "release-managers@example.com",
//		Time:     clock(),
//		Decision: audit.DecisionAllow,
//		Reasons:  []string{"policy prod: 6 rules passed"},
//		Environment: "prod",
//	}).Statement()
//
// # Predicate
//
// The predicate type is PredicateType, "https://provkit.dev/audit/event/v1"; a schema change
// that a version 1 reader could misread gets a new predicate type. The statement has exactly
// one subject, the artifact: its digest (one, in sha256, sha384 or sha512, lower-case hex) and,
// optionally, a name for people. The predicate's fields are:
//
//   - kind (string, required): one of the Kind constants, such as "verified" or "retired".
//   - time (string, required): when it happened, RFC 3339 in UTC.
//   - actor (string, required): who decided or acted: an e-mail address, a team, a gate's or a
//     pipeline's identity. The log's signature says who recorded the event; actor says on whose
//     behalf.
//   - decision (string, optional): "allow", "warn" or "deny"; "verified" requires allow or
//     warn, "denied" requires deny.
//   - reasons (array of strings, optional, at most 256): why, one sentence each.
//   - environment (string, optional): where, such as "prod".
//   - evidence (array of strings, optional, at most 1024): the digests ("sha256:…") of the
//     attestations, bundles or records the event concerns.
//   - attributes (object of strings, optional, at most 64): free name-value pairs, such as a
//     ticket or a pipeline run.
//
// A predicate is at most MaxEventBytes. Parse rejects any other field.
//
// # Errors
//
// Event.Validate and Event.Statement fail with a *FieldError (ErrInvalidEvent) naming the field
// by its path in the predicate. Parse fails with a *PredicateError wrapping ErrInvalidPredicate,
// and the *FieldError when the event read is invalid.
//
// The package does no I/O and imports only provenance and the model's own dependencies.
package audit
