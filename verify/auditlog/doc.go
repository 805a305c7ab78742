// Package auditlog keeps provenance events (package provenance/audit) in a tamper-evident
// log that anyone holding its public keys can check, on the standard Sigstore's Rekor v2 uses:
// a C2SP tlog-tiles Merkle tree written by transparency-dev/tessera, with checkpoints in the
// C2SP signed-note format.
//
// # Writing
//
// Open a folder (tessera's POSIX storage) with a note.Signer for checkpoints (its name is the
// log's origin; golang.org/x/mod/sumdb/note.GenerateKey makes one) and a Signer for events
// (any sign.Signer). Each event becomes an in-toto statement about its subject. Events recorded
// within a few milliseconds of each other (up to MaxSealedEvents) are sealed together: one
// signed statement, the seal (SealPredicateType), whose subject is the RFC 6962 Merkle root of
// their statements. Each log entry (EntryMediaType) holds one event's statement, the seal and
// the event's inclusion proof in the batch, so it verifies alone, while one signature covers
// the batch: logging costs a decision a share of a signature, not a whole one.
//
//	l, err := auditlog.Open(ctx, "audit", checkpointKey, signer, auditlog.WithActor("gate@example.com"))
//	err = l.Record(ctx, audit.Event{Kind: audit.KindVerified, Subject: d, Decision: audit.DecisionAllow, Time: now})
//	err = l.Flush(ctx) // every event recorded so far is durable, or the errors say which was not
//	err = l.Close(ctx) // and a published checkpoint covers them
//
// Record returns at once and signs and appends in the background, in batches; Append waits
// for the one entry. Entries and tiles are written with fsync before the tree state moves and
// the checkpoint is made from the tree state only, so a process killed at any point leaves a
// checkpoint that covers only entries on disk, and opening the folder again continues the same
// log. Several processes may append to one folder: tessera serialises them with a file lock.
// A log served from a web server is the same folder. tessera reports through klog; programs
// that want it silent set klog's output.
//
// # Sharing a log with Rekor v2
//
// A team's log is its own; to make rewriting it visible to others, seal with a signer that
// also logs in a shared Rekor v2 instance (sign.WithTransparencyLog(url, 2)), and give the
// seals a signing time (sign.WithTimestampAuthority: Rekor v2 entries carry none). Each seal
// then holds that log's inclusion proof, which the auditor's verify.Verifier checks when its
// trust material holds the Rekor log and it requires a log entry (verify.WithTransparencyLog):
// an event the team's log holds but Rekor never saw fails its audit. Rekor v2 keeps each seal's
// signature and digest, not the events, so the team's log stays the record of what was decided
// and Rekor the witness that it was decided then, at one Rekor entry per batch. Follow checks that any tlog-tiles log,
// a Rekor v2 log read from its tiles included, only grew since a checkpoint held.
//
// # Auditing
//
// An Auditor reads a log from a Source (Dir, URL) with Trust: the checkpoint verifier, a
// verify.Verifier that accepts SealPredicateType and the identity that must have signed the
// seals. It keeps no state: the
// caller keeps the last checkpoint it trusted and passes it in.
//
//   - Consistent proves the latest checkpoint extends the one held (RFC 6962 consistency
//     proof from the log's tiles); a log that shrank fails with *RollbackError, a rewrite or
//     fork with *ConsistencyError. Follow does the same for any tlog-tiles log and key.
//   - Prove builds an entry's inclusion proof; VerifyInclusion checks one with nothing but the
//     proof, the entry and an opened checkpoint.
//   - Entries reads events in order, each checked against the tree and verified.
//   - Audit does all of it for the whole log and recomputes the root.
//
// A deleted, altered, reordered or inserted entry fails with an *EntryError naming its index;
// entries that agree with rewritten tiles but not with the signed root fail with *RootError; a
// checkpoint that is malformed, of another origin or not signed by the log's key fails with
// *CheckpointError. Every one wraps ErrTampered; failures to read do not.
package auditlog
