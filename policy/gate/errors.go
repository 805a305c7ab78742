package gate

import (
	"errors"
	"fmt"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/provkit/provkit/policy"
)

var (
	// ErrNoAttestations means the store holds no attestation of the artifact to verify.
	ErrNoAttestations = errors.New("no attestations")
	// ErrNoneVerified means attestations are attached and none of them verified.
	ErrNoneVerified = errors.New("no attestation verified")
	// ErrNotChecked means the check could not be made; the cause is wrapped with it.
	ErrNotChecked = errors.New("could not check")
	// ErrUnsigned is the reason of a Rejected attestation that carries no signature.
	ErrUnsigned = errors.New("unsigned attestation")
	// ErrInvalidConfig means New was given options that contradict each other.
	ErrInvalidConfig = errors.New("gate: invalid configuration")
	// ErrWrongRole is the reason of a Rejected attestation whose statement is not of the
	// predicate type it was listed under, where a role (WithRole) applies to either.
	ErrWrongRole = errors.New("statement outside its signer's role")
)

// RoleError reports an attestation listed under one predicate type whose verified statement
// is of another, where WithRole gives either its own signers: counting it would let one role's
// key stand in for another's. It matches ErrWrongRole.
type RoleError struct {
	// Manifest is the manifest holding the attestation.
	Manifest digest.Digest
	// Listed is the predicate type it was listed under; Verified the statement's.
	Listed, Verified string
}

// Error names both predicate types.
func (e *RoleError) Error() string {
	return fmt.Sprintf("attestation %s listed as %q holds a %q statement: verified under the wrong role", e.Manifest, e.Listed, e.Verified)
}

// Unwrap returns ErrWrongRole.
func (e *RoleError) Unwrap() error { return ErrWrongRole }

// NoAttestationsError reports that nothing to verify is attached to Subject. It matches
// ErrNoAttestations and policy.ErrDenied.
type NoAttestationsError struct {
	// Subject is the manifest whose attestations were looked for.
	Subject ocispec.Descriptor
	// Ignored counts what was found and is not an attestation to verify (image signatures,
	// attestations of predicate types the verifier does not accept).
	Ignored int
}

// Error names the subject and how many referrers were not attestations.
func (e *NoAttestationsError) Error() string {
	if e.Ignored > 0 {
		return fmt.Sprintf("no attestations of %s to verify (%d other referrers ignored)", e.Subject.Digest, e.Ignored)
	}
	return fmt.Sprintf("no attestations of %s", e.Subject.Digest)
}

// Unwrap returns ErrNoAttestations and policy.ErrDenied.
func (e *NoAttestationsError) Unwrap() []error { return []error{ErrNoAttestations, policy.ErrDenied} }

// NoneVerifiedError reports that every attestation of Artifact was rejected. It matches
// ErrNoneVerified and policy.ErrDenied.
type NoneVerifiedError struct {
	// Artifact is the digest the statements had to name.
	Artifact digest.Digest
	// Rejected lists every attestation with its reason.
	Rejected []Rejected
}

// Error names the artifact and the first three rejections.
func (e *NoneVerifiedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "none of the %d attestations of %s verified", len(e.Rejected), e.Artifact)
	for i, r := range e.Rejected {
		if i == 3 {
			fmt.Fprintf(&b, "; and %d more", len(e.Rejected)-i)
			break
		}
		fmt.Fprintf(&b, "; %s: %v", r.Found.Manifest.Digest, r.Err)
	}
	return b.String()
}

// Unwrap returns ErrNoneVerified and policy.ErrDenied.
func (e *NoneVerifiedError) Unwrap() []error { return []error{ErrNoneVerified, policy.ErrDenied} }

// CheckError reports a check that could not be made. It matches ErrNotChecked and its cause.
type CheckError struct {
	// Op is the step that failed: "read", "discover", "fetch", "verify" or "decide".
	Op string
	// Subject is the manifest being checked.
	Subject ocispec.Descriptor
	// Err is the cause.
	Err error
}

// Error names the subject, the step and the cause.
func (e *CheckError) Error() string {
	return fmt.Sprintf("could not check %s: %s: %v", e.Subject.Digest, e.Op, e.Err)
}

// Unwrap returns ErrNotChecked and the cause.
func (e *CheckError) Unwrap() []error { return []error{ErrNotChecked, e.Err} }

// RotateError reports why Rotate did not re-sign an attestation, could not list a subject's
// attestations, or did not record a re-signing. It matches its cause.
type RotateError struct {
	// Op is the step that failed:
	//   - "read" or "discover": the subject's attestations could not be listed;
	//   - "fetch": the attestation's bundle could not be fetched;
	//   - "verify": the attestation did not verify under the Checker's trust (the cause wraps
	//     verify.ErrVerification, or is ErrUnsigned or a *RoleError), or could not be verified
	//     (the cause says why): either way it is not re-signed;
	//   - "sign": the rotation's signer failed;
	//   - "verify-replacement": the new bundle does not verify as the rotation's identity, or
	//     holds another statement: it is not attached;
	//   - "attach": the new bundle could not be attached;
	//   - "record": the new bundle is attached, and the event could not be recorded.
	Op string
	// Subject is the artifact's manifest.
	Subject ocispec.Descriptor
	// Attestation is the digest of the manifest holding the attestation; empty for "read"
	// and "discover".
	Attestation digest.Digest
	// Err is the cause.
	Err error
}

// Error names the attestation or subject, the step and the cause.
func (e *RotateError) Error() string {
	if e.Attestation == "" {
		return fmt.Sprintf("rotate %s: %s: %v", e.Subject.Digest, e.Op, e.Err)
	}
	return fmt.Sprintf("rotate attestation %s of %s: %s: %v", e.Attestation, e.Subject.Digest, e.Op, e.Err)
}

// Unwrap returns the cause.
func (e *RotateError) Unwrap() error { return e.Err }
