// Package lifecycle is the model of an artifact's status after release: active, deprecated,
// retired or revoked, with the reason, the successor to migrate to, when the status takes
// effect and who decided it. A Status becomes an in-toto statement about the artifact's digest,
// signed like any attestation and attached beside the artifact as a referrer; nothing is ever
// deleted, so the artifact and its history stay fetchable for rollback and audit.
//
//	st, err := (&lifecycle.Status{
//		Subject:   image.Digest,
//		State:     lifecycle.StateDeprecated,
//		Reason:    "base image end of life; move to 1.5",
//		Successor: next.Digest,
//		Effective: clock(),
//		DecidedBy: "release-managers@example.com",
//	}).Statement()
//
// # Predicate (https://provkit.dev/lifecycle/v1)
//
// The statement has exactly one subject, the artifact (its name, such as a reference, is
// informative only; its one digest identifies it). The predicate's fields:
//
//   - state (string, required): "active", "deprecated", "retired" or "revoked". Deprecated
//     artifacts still run, with a warning or a denial per environment as a policy says;
//     retired ones no longer meet the thresholds to run; revoked ones must not run at all
//     (a compromised build or key).
//   - reason (string, required except for active, at most MaxReasonBytes): why, for people.
//   - successor (string, optional): the digest of the artifact to migrate to, in normal form
//     ("sha256:<64 hex>"); never the artifact itself.
//   - successorName (string, optional, only with successor): a reference naming it.
//   - effective (string, required): when the status takes effect, RFC 3339 in UTC. A status
//     may be published ahead of its effective time.
//   - decidedBy (string, required): the identity on whose authority the status was set; the
//     signature says who signed it.
//
// A predicate with any other field is refused.
//
// # The current status
//
// An artifact may carry many statuses over its life. Resolve picks the current one from the
// statuses a caller has verified: statuses about another artifact, not yet effective, or
// signed by someone not entitled to set them are set aside with the reason; of the rest, the
// latest effective time wins. Two statuses with that same effective time that disagree fail
// closed with a *ConflictError. An artifact with no status in effect is active.
//
// Sign the statement like any other and set the bundle's Effective (provenance.Bundle.Effective)
// to the status's Effective before attaching it: a store lists that time beside each status,
// unsigned, so a reader such as gate.Lifecycle can verify the latest statuses first instead of
// every status an artifact ever had. A status attached without it is still found, and always
// read.
package lifecycle
