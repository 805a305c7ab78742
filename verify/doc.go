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
// # Defaults
//
// The zero configuration is the strictest: one verified transparency-log entry and one
// verified signing time are required of every bundle; a certificate must chain to a trusted
// authority at that time and, when the trust material has CT logs, carry an SCT. Key-signed
// bundles with no timestamp at all (bare DSSE, cosign with --tlog-upload=false) are refused
// unless WithUntimestampedKeysUnsafe is given, because nothing then dates the signature.
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
