// Package gate is the one call from an artifact in a store to a decision: it discovers the
// attestations attached to the artifact, fetches them, verifies each against the artifact's
// digest and the expected signer, and, given a policy, decides.
//
//	checker, err := gate.New(verifier, verify.KeyIDs("release"), gate.WithPolicy(pol), gate.WithEnvironment("prod"))
//	report, err := checker.Check(ctx, store, image)
//	switch {
//	case err == nil:                                 // allowed: report.Results() verified, report.Decision allows
//	case errors.Is(err, policy.ErrDenied):           // the evidence or the policy says no (see below)
//	default:                                         // could not check: network, not found, configuration
//	}
//
// Check finds attestations everywhere package oras does (the OCI 1.1 referrers API, the
// referrers tag schema, an OCI layout's graph, cosign's legacy ".att" tag), fetches each
// distinct bundle once within the store's byte budget, and routes cosign's legacy layers to
// verify.Verifier.VerifyCosignLayer with their annotations. What it leaves out, and why:
// cosign's ".sig" image signatures (no statement); BuildKit's unsigned in-index attestations
// and other unsigned statements, reported as Rejected with ErrUnsigned (a claim anyone who can
// push could make); and referrers of referrers, which are about an attestation, not the
// artifact. An attestation whose registry annotation names a predicate type the Verifier does
// not accept (verify.WithPredicateTypes) is not fetched.
//
// The artifact is the subject manifest itself, except for a file stored with
// oras.Store.PushFile: then Check reads the manifest and the artifact is the file, by the
// digest statements about it name.
//
// # Outcomes
//
// Check returns a nil error only when at least one attestation verified and, with a policy,
// the policy allowed. Every other outcome is an error of one of four classes, told apart with
// errors.Is and errors.As:
//
//   - ErrNoAttestations (*NoAttestationsError): nothing to verify was attached.
//   - ErrNoneVerified (*NoneVerifiedError): attestations were attached and none verified; the
//     error lists each with its reason.
//   - a *policy.DeniedError: attestations verified and the policy denied.
//   - ErrNotChecked (*CheckError): the check could not be made: a store that fails or does not
//     hold the subject (the cause, such as provenance.ErrNotFound, is wrapped too), a fetch
//     that fails or exceeds the byte budget, a verifier or policy configuration error, or the
//     end of the context.
//
// The first three also match policy.ErrDenied: "the evidence or the policy says no", which is
// what an admission gate or a CI step denies on. The report is returned with them, for display.
//
// # Roles and lifecycle
//
// WithRole gives a predicate type its own signers: build provenance signed by the build key,
// lifecycle statuses (provenance/lifecycle) by release managers, VSAs by the promotion key. An
// attestation is verified against its type's signers, and one listed under a type but holding
// another, where a role applies, is rejected with a *RoleError, so no role's key stands in
// for another's. Lifecycle reads an artifact's status in effect from its statuses, each
// verified against the identities entitled to set it; a policy's lifecycle rule decides on
// the verified statuses in a Check. Sweep marks the artifacts a policy denies deprecated or
// retired, attaching a signed status beside each and deleting nothing.
//
// # Key rotation
//
// Rotate re-signs the attestations of a set of artifacts with a new key or identity. Each
// attestation that verifies under the Checker's trust has exactly its verified statement
// signed again; the new bundle names the one it replaces (provenance.Bundle.Replaces, the
// annotation oras.AnnotationBundleReplaces) and is attached beside it, and the old one stays
// as history. Nothing that fails verification is re-signed. The rotation report has one row
// per attestation: re-signed, skipped because an earlier run already re-signed it (so an
// interrupted rotation resumes where it stopped), or not re-signed, with a *RotateError
// saying at which step and why. With WithRecorder each re-signing is a "resigned" event.
//
// Which signature counts when is then the trust material's business: give the old key a
// NotAfter and the new one a NotBefore at the rotation (verify.PublicKey), and with verified
// signing times (an RFC 3161 timestamp authority, a transparency log) the old bundles keep
// verifying for the time they were signed, the new ones verify from the rotation on, and
// anything the old key signs after it fails verification.
//
// # After admission
//
// WithCache keeps allowed decisions (a Cache) under the Checker, the store's location and the
// artifact digest, until the earliest of the cache's maximum age, the decision's Until and the
// verified keys' ValidUntil; denials are never kept, and Invalidate drops an artifact's entry.
//
// CheckRuntime compares a running workload (a Workload) with what was built and allowed: it
// checks the admitted image again, reads the latest verified runtime facts (package
// provenance/runtime) about the digest that runs, and reports each difference from the build's
// SBOM and from the RuntimeRequirements as a typed Deviation in a *DeviationError
// (ErrDeviation), recorded as a runtime-deviation event. With RuntimeRequirements.Quote the
// facts must also be bound to a TPM quote by the enrolled attestation key (package
// provenance/runtime/tpm: a quote statement attached beside the facts, verified under the role
// WithRole gives tpm.QuotePredicateType), and the quoted PCRs must hold the values required.
// Watch runs CheckRuntime over many workloads on a schedule and whenever their attestations
// change, and hands each deviation to the caller's hook.
//
// # Cost
//
// On a registry, Check makes the requests of oras.Store.Discover (one per listing page, plus
// cosign's legacy tags), one read of the subject manifest when it is an OCI image manifest (to
// learn whether it holds a file), and one fetch per distinct bundle; no more. Verification runs
// on WithConcurrency workers. Rotate makes the same requests, fetching each attestation once,
// plus those of oras.Store.Attach for each one it re-signs: on olareg, resuming a finished
// rotation of an image with 10 attestations (20 referrers) costs 24 requests, re-signing the
// 10 costs 104 (BenchmarkRotate).
//
// A Checker is safe for concurrent use.
package gate
