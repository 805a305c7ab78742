package tpm

import "errors"

// Sentinel errors. Verify and ParseQuote return them inside a *VerifyError, so compare with
// errors.Is, and use errors.As to read the reason.
var (
	// ErrMalformed reports a quote that cannot be decoded: bad JSON, too large, an unknown
	// field, or TPM structures that do not parse or contradict each other.
	ErrMalformed = errors.New("tpm: malformed quote")
	// ErrBadSignature reports a quote whose signature does not verify with the given
	// attestation key, or whose signed bytes are not a TPM-generated quote.
	ErrBadSignature = errors.New("tpm: quote signature does not verify")
	// ErrNonceMismatch reports a correctly signed quote whose qualifying data is not the
	// expected statement digest.
	ErrNonceMismatch = errors.New("tpm: quote nonce is not the statement digest")
	// ErrPCRMismatch reports a correctly signed quote whose PCR digest does not match the
	// PCR values carried beside it, or whose PCR selection differs from them.
	ErrPCRMismatch = errors.New("tpm: PCR values do not match the quote")
	// ErrKey reports an attestation key that cannot be used to verify a quote: an
	// unsupported key type, or a TPM public area that is not a restricted signing key.
	ErrKey = errors.New("tpm: unusable attestation key")
)

// VerifyError is the error Verify, ParseQuote and ParseAKPublic return when the evidence is
// bad. Err is one of the sentinels above; Reason says what was wrong.
type VerifyError struct {
	// Err is the sentinel: ErrMalformed, ErrBadSignature, ErrNonceMismatch, ErrPCRMismatch
	// or ErrKey.
	Err error
	// Reason names the thing and what was wrong with it.
	Reason string
}

// Error returns the sentinel's text followed by the reason.
func (e *VerifyError) Error() string {
	if e.Reason == "" {
		return e.Err.Error()
	}
	return e.Err.Error() + ": " + e.Reason
}

// Unwrap returns the sentinel.
func (e *VerifyError) Unwrap() error { return e.Err }

func fail(sentinel error, reason string) *VerifyError {
	return &VerifyError{Err: sentinel, Reason: reason}
}
