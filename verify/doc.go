// Package verify checks signed provenance and returns only what verified.
//
// A Verifier is made once from trust material and options, and is then safe for concurrent
// use:
//
//	keys, _ := verify.TrustedKeys(verify.PublicKey{ID: "release", Key: pub})
//	v, _ := verify.New(keys)
//	res, err := v.Verify(ctx, bundle, imageDigest, verify.KeyIDs("release"))
//	if err != nil { /* denied, or could not check */ }
//	st := res.Statement() // verified, and about imageDigest
//
// Verify takes the artifact digest and the expected signer as required arguments: a statement
// signed for another artifact fails (*SubjectError), and the zero Identity is refused.
// Accepting any signer is spelled AnyTrustedKey or AnyIdentityUnsafe.
//
// # Trust material
//
// Trust is a sigstore-go root.TrustedMaterial: public keys (TrustedKeys, with ids and validity
// windows), a Sigstore trusted_root.json of the public-good or a private instance
// (TrustedRootJSON, LoadTrustedRoot), the TUF-distributed root with a cache directory and an
// offline mode (TrustedRootTUF), the CAs of a private PKI (CertificateAuthorities), or a
// root.TrustedMaterialCollection of these. Nothing is read from the user's home or environment.
//
// # Formats
//
// Verify reads Sigstore bundles v0.1 to v0.3 and bare DSSE envelopes
// (provenance.MediaTypeDSSE) signed with a trusted key; VerifyCosignLayer reads cosign's legacy
// ".att" layers with their annotations; VerifyEntity takes any sigstore-go SignedEntity. The
// statement is parsed from the exact verified payload bytes, as in-toto Statement v1 or v0.1.
// Signatures, certificate chains, log proofs and timestamps are checked by sigstore-go's verify
// package; this package adds the binding to the artifact and the signer, typed errors, the
// formats registries hold, size limits and batch verification (VerifyAll).
//
// # Defaults and thresholds
//
// The zero configuration is the strictest: one verified transparency-log entry and one
// verified signing time are required of every bundle; a certificate must chain to a trusted
// authority at that time and, when the trust material has CT logs, carry an SCT. Options
// change the thresholds; each is one of sigstore-go's (WithTransparencyLog,
// WithObserverTimestamps, WithSignedTimestamps, WithNoObserverTimestamps), chosen per bundle.
//
// A signing time is an RFC 3161 timestamp from a trusted timestamp authority, or the
// integrated time of a trusted log's entry that has a signed entry timestamp (an entry with
// only an inclusion proof, as Rekor v2 writes, proves inclusion but dates nothing). Entries
// of logs and timestamps of authorities the trust material does not hold are not counted.
// This is the outcome for each kind of bundle, signed by the expected signer:
//
//	signer       log entry  signing time           default  UntimedKeys  WithoutLog
//	key          none       none                   log      pass         time
//	key          none       RFC 3161               log      pass         pass
//	key          proof      none                   time     pass         time
//	key          proof      RFC 3161               pass     pass         pass
//	key          promise    integrated             pass     pass         pass
//	key          promise    integrated + RFC 3161  pass     pass         pass
//	certificate  none       none                   log      log          time
//	certificate  none       RFC 3161               log      log          pass
//	certificate  proof      none                   time     time         time
//	certificate  proof      RFC 3161               pass     pass         pass
//	certificate  promise    integrated             pass     pass         pass
//	certificate  promise    integrated + RFC 3161  pass     pass         pass
//
// "log" and "time" name the check that denies (CheckTransparencyLog, CheckTimestamp);
// UntimedKeys is WithUntimestampedKeysUnsafe and WithoutLog is WithoutTransparencyLog. No row
// has an integrated time without a log entry: only a log gives one.
//
//   - The default needs a log entry and a time. A key-signed bundle dated by a timestamp
//     authority without a log (a private deployment) passes with WithoutTransparencyLog,
//     which keeps a trusted third party's time and loses public auditability.
//   - WithUntimestampedKeysUnsafe trusts keys without any time, so it drops every log and
//     time threshold for key-signed bundles; evidence a bundle does carry is still verified,
//     and a verified time is then used to check the key's validity window.
//   - A certificate is short-lived and is checked at the signing time, so it is denied
//     without one under every configuration.
//
// The table obeys one rule, which the tests check cell by cell: under one configuration,
// adding a valid log entry or signed timestamp to a bundle that passes never makes it fail.
// An entry of a trusted log that does not verify (tampered) is a denial; a timestamp that
// does not verify counts for nothing, so the bundle must meet its thresholds without it.
//
// # Errors
//
// Every failure of the evidence is a *VerificationError wrapping ErrVerification and naming
// the Check that failed; configuration, trust-material and context errors do not wrap
// ErrVerification. errors.Is(err, ErrVerification) tells "denied" from "could not check";
// neither is a pass.
//
// When several parts of a bundle are bad, the first failing check is reported, in this order:
// size and format; the kind of signer (key or certificate) against the expected identity;
// transparency log (which also binds the entry to the signature, key or certificate and
// payload), timestamps, certificate chain or key validity, signature (sigstore-go's order);
// then payload type, statement, subject, predicate type, and the certificate identity. So a
// flipped signature byte in a keyless bundle fails the log check, which sees an entry for
// another signature, before the signature check.
//
// A key hint in a bundle is not evidence: when it names a trusted key, that key must verify
// and be one the identity accepts; when it names none (cosign's hints differ from
// sigstore-go's), each key the identity accepts is tried and the signature alone decides.
package verify
