// Package tpm binds a runtime statement to a TPM 2.0 quote: the quote's nonce (its qualifying
// data) is the statement's digest, so a verifier that trusts the attestation key learns that
// the statement existed when the TPM signed the quote, and which values the quoted PCRs held.
//
// The statement itself is another package's business; this one takes only its digest, a
// go-digest digest.Digest of the statement bytes (sha256, or sha384/sha512 where the TPM
// accepts a nonce that long), and the raw digest bytes become the nonce.
//
// # Flow
//
//	conn, _ := net.Dial("tcp", addr)          // any stream of raw TPM 2.0 commands
//	t, _ := tpm.Open(ctx, conn)               // go-attestation over that stream
//	defer t.Close()
//	akPub, _ := t.AKPublic(ctx)               // enrol: record it once its certification is checked
//	q, _ := t.Quote(ctx, digest.FromBytes(statement), []int{0, 1, 2, 3, 4, 5, 6, 7})
//	b, _ := json.Marshal(q)                   // travels beside the attestation (MediaType)
//
//	q, err := tpm.ParseQuote(b)               // size-capped, strict JSON
//	ak, err := tpm.ParseAKPublic(enrolledAK)  // from the enrolment record, not from q
//	v, err := tpm.Verify(q, ak, digest.FromBytes(statement))
//	// v.PCRs are the verified PCR values; compare them with known-good ones.
//
// # Beside a runtime statement
//
// A quote of a runtime statement (package provenance/runtime) travels as an attestation of its
// own: QuoteStatement wraps the quote and the bound statement's digest in a statement of
// QuotePredicateType about the same image, which is signed and attached beside the runtime
// statement like any attestation. A verifier verifies both bundles, then calls VerifyBinding
// with the enrolled AK:
//
//	d, _ := tpm.StatementDigest(runtimeStatement) // sha256 of its canonical form
//	q, _ := t.Quote(ctx, d, pcrs)
//	qs, _ := tpm.QuoteStatement(runtimeStatement, q) // sign and attach qs too
//	...
//	v, err := tpm.VerifyBinding(verifiedQuoteStatement, verifiedRuntimeStatement, ak)
//
// The attestation key is created under the TPM's storage root key on first use and reused for
// every quote made through the same TPM value; it is flushed on Close. Only the sha256 PCR
// bank is quoted.
//
// Verify returns errors that wrap ErrMalformed, ErrBadSignature, ErrNonceMismatch,
// ErrPCRMismatch or ErrKey inside a *VerifyError; compare with errors.Is.
//
// # What a quote proves and what it does not
//
// A quote that Verify accepts with a given AK proves that a key held in the TPM that holds that
// AK signed these PCR values (in the sha256 bank) together with this nonce. Because the nonce
// is the statement's digest, the statement existed, byte for byte, when the quote was made,
// and at that moment the quoted PCRs held those values. Verified.Clock, ResetCount and
// RestartCount are the TPM's own counters at that moment, not wall-clock time.
//
// It does not prove:
//
//   - that the AK belongs to a genuine TPM. Verify trusts whatever key it is given, and
//     Quote.AKPublic is only the key the quote names. Tie the AK to a real TPM by checking
//     its certification chain: the TPM's endorsement key (EK) certificate up to the
//     manufacturer's root, and credential activation (go-attestation's ActivateCredential)
//     to show that the AK lives in the TPM with that EK. ParseAKPublic requires a restricted
//     signing key, which is necessary (an unrestricted key can sign anything that looks like
//     a quote) but not sufficient.
//   - that the statement's facts are true. The TPM signed a digest; it never read the
//     statement. What the statement says is the word of the software that wrote it, which the
//     PCR values may let you judge if you know what the measured boot chain should be.
//   - anything about what happened after the quote: PCRs can be extended, software replaced
//     and statements rewritten a millisecond later. Quote again for a fresh claim; a verifier
//     that wants freshness must make the statement carry its own challenge.
//   - which machine, container or process the quote came from, beyond "a process that could
//     send commands to this TPM".
//   - anything about hardware when the TPM is software (swtpm, a simulator, a vTPM whose host
//     you do not trust): such a TPM's keys and PCRs are whatever its host makes them. The
//     tests here use swtpm and prove the protocol, not a platform.
//
// This package does not replay a measurement log against the PCRs; it returns the quoted
// values for the caller to compare.
package tpm
