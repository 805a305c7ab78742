package verify

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/opencontainers/go-digest"
)

// ErrVerification is wrapped by every error that means the evidence is bad: a signature that
// does not verify, an untrusted certificate, the wrong signer, a statement about another
// artifact, a missing log entry or timestamp, a payload or predicate of the wrong type, input
// over a size limit. Such an error is a denial. An error that does not wrap ErrVerification
// means the evidence could not be checked (bad configuration, trust material unavailable, a
// cancelled context): it is not a verdict on the evidence, and it must not be taken as a pass.
var ErrVerification = errors.New("verify: verification failed")

// Configuration and availability errors. None of them wraps ErrVerification.
var (
	// ErrInvalidConfig means New or an Option was given contradictory or out-of-range settings.
	ErrInvalidConfig = errors.New("verify: invalid configuration")
	// ErrInvalidIdentity means the expected identity is missing (the zero Identity) or malformed.
	ErrInvalidIdentity = errors.New("verify: invalid expected identity")
	// ErrInvalidSubject means the expected subject digest is malformed or not sha256 or sha512.
	ErrInvalidSubject = errors.New("verify: invalid expected subject digest")
	// ErrUnsupportedMediaType means the bundle's media type is not one this package reads.
	ErrUnsupportedMediaType = errors.New("verify: unsupported media type")
	// ErrTrustMaterial means trust material could not be loaded or is unusable.
	ErrTrustMaterial = errors.New("verify: trust material unavailable")
)

// Reasons a *BundleFormatError gives. The error that carries one also wraps ErrVerification.
var (
	// ErrUnknownBundleVersion means a Sigstore bundle's media type names a version this package
	// does not read (anything but v0.1, v0.2 and v0.3), or none.
	ErrUnknownBundleVersion = errors.New("verify: unknown Sigstore bundle version")
	// ErrMediaTypeMismatch means a media type, the bundle's own or the one it was stored or
	// passed with, says something other than what the content is.
	ErrMediaTypeMismatch = errors.New("verify: media type disagrees with the content")
	// ErrUnknownFormat means a document is none of the formats this package reads.
	ErrUnknownFormat = errors.New("verify: not a bundle, envelope or cosign bundle")
)

// Check names the verification step that rejected the evidence.
type Check string

// The checks a VerificationError can name.
const (
	// CheckSize: the bundle, envelope or payload is over a size limit.
	CheckSize Check = "size"
	// CheckFormat: the bundle or envelope is malformed, or holds no DSSE envelope.
	CheckFormat Check = "format"
	// CheckSignature: the signature does not verify, or the envelope does not carry exactly one.
	CheckSignature Check = "signature"
	// CheckKey: no trusted key verifies the bundle, or the key was not valid at signing time.
	CheckKey Check = "key"
	// CheckCertificate: the certificate chain, its validity at signing time or its SCTs fail.
	CheckCertificate Check = "certificate"
	// CheckIdentity: the signer is not the expected identity.
	CheckIdentity Check = "identity"
	// CheckTransparencyLog: log entries are missing, below the threshold, or fail their proofs.
	CheckTransparencyLog Check = "transparency-log"
	// CheckTimestamp: signed or observer timestamps are missing, below the threshold, or invalid.
	CheckTimestamp Check = "timestamp"
	// CheckPayloadType: the DSSE payload type is not the in-toto one.
	CheckPayloadType Check = "payload-type"
	// CheckStatement: the signed payload is not a valid in-toto statement.
	CheckStatement Check = "statement"
	// CheckSubject: the statement does not name the expected artifact digest.
	CheckSubject Check = "subject"
	// CheckPredicateType: the statement's predicate type is not one the Verifier expects.
	CheckPredicateType Check = "predicate-type"
)

// VerificationError reports evidence that failed a check. It wraps ErrVerification and its
// cause, which may be one of the detailed errors below (SubjectError, IdentityError,
// PredicateTypeError, PayloadTypeError) or a *provenance.SizeError.
type VerificationError struct {
	// Check is the step that failed.
	Check Check
	// Err is the cause.
	Err error
}

// Error implements error. The message is the cause's when the cause is one of this package's
// detailed errors, and otherwise names the check and the cause once.
func (e *VerificationError) Error() string {
	if d, ok := e.Err.(detailed); ok && d.complete() {
		return e.Err.Error()
	}
	return fmt.Sprintf("verify: %s check failed: %s", e.Check, cause(e.Err))
}

// Unwrap returns ErrVerification and the cause.
func (e *VerificationError) Unwrap() []error { return []error{ErrVerification, e.Err} }

// detailed marks this package's errors whose message already says everything.
type detailed interface{ complete() bool }

// fail reports err as a failure of check c. When err is or wraps a *VerificationError, that
// failure is returned as it is, with its own check, so that no message says "check failed"
// twice.
func fail(c Check, err error) error {
	if ve, ok := errors.AsType[*VerificationError](err); ok {
		return ve
	}
	return &VerificationError{Check: c, Err: err}
}

func failf(c Check, format string, args ...any) error {
	return fail(c, fmt.Errorf(format, args...))
}

// cause returns the message of err for use inside another message: without this package's
// "verify: " prefix, which the outer message already has, on one line, and without the
// formatting-verb errors some sigstore-go messages carry (a nil error given to %w prints as
// "%!w(<nil>)").
func cause(err error) string {
	if err == nil {
		return ""
	}
	msg := badVerb.ReplaceAllString(err.Error(), "")
	msg = strings.Join(strings.Fields(msg), " ")
	return strings.TrimPrefix(msg, "verify: ")
}

// badVerb matches the text fmt writes for a bad or nil operand, with a "; error: " or ": "
// that introduced it.
var badVerb = regexp.MustCompile(`(;? ?error: |: )?%!\w?\([^)]*\)`)

// upstreamError is an error of sigstore-go's Verify without the prefix naming its stage (the
// Check says it).
type upstreamError struct {
	msg string
	err error
}

func (e *upstreamError) Error() string { return e.msg }

func (e *upstreamError) Unwrap() error { return e.err }

// SubjectError reports a statement that does not name the expected artifact.
type SubjectError struct {
	// Expected is the digest Verify was asked about.
	Expected digest.Digest
	// Present are the digests the statement names, in the expected digest's algorithm when the
	// statement has any of that algorithm, and otherwise all of them.
	Present []digest.Digest
}

// Error implements error.
func (e *SubjectError) Error() string {
	if len(e.Present) == 0 {
		return fmt.Sprintf("verify: subject %s not in statement (has no %s digests)", short(e.Expected), e.Expected.Algorithm())
	}
	names := make([]string, 0, len(e.Present))
	for i, d := range e.Present {
		if i == 5 {
			names = append(names, fmt.Sprintf("and %d more", len(e.Present)-5))
			break
		}
		names = append(names, short(d))
	}
	return fmt.Sprintf("verify: subject %s not in statement (has %s)", short(e.Expected), strings.Join(names, ", "))
}

func (e *SubjectError) complete() bool { return true }

// short abbreviates a digest to its algorithm and first 12 hex characters.
func short(d digest.Digest) string {
	s := string(d)
	if i := strings.IndexByte(s, ':'); i >= 0 && len(s) > i+1+12 {
		return s[:i+1+12] + ".."
	}
	return s
}

// IdentityError reports a signer other than the expected one.
type IdentityError struct {
	// Expected describes the identity Verify was asked for.
	Expected string
	// Got describes the verified signer.
	Got string
	// Err is the matcher's reason, when there is one.
	Err error
}

// Error implements error.
func (e *IdentityError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("verify: signer %s is not %s: %s", e.Got, e.Expected, cause(e.Err))
	}
	return fmt.Sprintf("verify: signer %s is not %s", e.Got, e.Expected)
}

// Unwrap returns the matcher's reason.
func (e *IdentityError) Unwrap() error { return e.Err }

func (e *IdentityError) complete() bool { return true }

// PredicateTypeError reports a statement whose predicate type the Verifier does not accept.
type PredicateTypeError struct {
	// Expected are the accepted predicate types.
	Expected []string
	// Got is the statement's predicate type.
	Got string
}

// Error implements error.
func (e *PredicateTypeError) Error() string {
	return fmt.Sprintf("verify: predicate type %q is not one of %q", e.Got, e.Expected)
}

func (e *PredicateTypeError) complete() bool { return true }

// PayloadTypeError reports a DSSE envelope whose payload is not an in-toto statement.
type PayloadTypeError struct {
	// Got is the envelope's payload type.
	Got string
}

// Error implements error.
func (e *PayloadTypeError) Error() string {
	return fmt.Sprintf("verify: DSSE payload type %q is not %q", e.Got, "application/vnd.in-toto+json")
}

func (e *PayloadTypeError) complete() bool { return true }

// BundleFormatError reports a bundle, envelope or file whose format is refused before any
// signature is checked: a media type naming an unknown version, a media type that disagrees
// with the content, or content of no known format.
type BundleFormatError struct {
	// Line is the 1-based line of the document in a JSON Lines file, or 0.
	Line int
	// Declared is the media type (or kind) claimed, empty when nothing claimed one.
	Declared string
	// Reason says what the content is, or why it is refused.
	Reason string
	// Err is ErrUnknownBundleVersion, ErrMediaTypeMismatch or ErrUnknownFormat.
	Err error
}

// Error implements error.
func (e *BundleFormatError) Error() string {
	var b strings.Builder
	b.WriteString("verify: ")
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	switch {
	case e.Declared != "":
		fmt.Fprintf(&b, "%q refused: %s", e.Declared, e.Reason)
	default:
		b.WriteString(e.Reason)
	}
	return b.String()
}

// Unwrap returns the reason's sentinel.
func (e *BundleFormatError) Unwrap() error { return e.Err }

func (e *BundleFormatError) complete() bool { return true }
