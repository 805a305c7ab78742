package sign

import (
	"errors"
	"fmt"
)

// Sentinel errors. Compare with errors.Is; the typed errors below wrap them.
var (
	// ErrUnsupportedKey means a key's type or size has no Sigstore signing algorithm: ECDSA on
	// P-256, P-384 or P-521, Ed25519, and RSA of 2048, 3072 or 4096 bits are supported.
	ErrUnsupportedKey = errors.New("sign: unsupported key")
	// ErrInvalidKeyFile means bytes do not hold a private key provkit can read.
	ErrInvalidKeyFile = errors.New("sign: invalid key file")
	// ErrWrongPassword means an encrypted private key did not decrypt with the password given.
	ErrWrongPassword = errors.New("sign: wrong password for encrypted private key")
	// ErrInvalidOption means an option's value is invalid or contradicts another option.
	ErrInvalidOption = errors.New("sign: invalid option")
	// ErrNoToken means a token source found no OIDC identity token.
	ErrNoToken = errors.New("sign: no identity token")
	// ErrInvalidPayload means a payload cannot be signed as given, e.g. it has no payload type.
	ErrInvalidPayload = errors.New("sign: invalid payload")
	// ErrInvalidBundle means bytes do not hold a Sigstore bundle with a DSSE envelope.
	ErrInvalidBundle = errors.New("sign: invalid bundle")
	// ErrSelfCheck means a new bundle failed the check requested with WithVerification; it is
	// not returned.
	ErrSelfCheck = errors.New("sign: new bundle failed verification")
	// ErrService means Fulcio, a private certificate authority, a Rekor log, a timestamp
	// authority or a token endpoint could not be reached or refused the request.
	ErrService = errors.New("sign: service failed")
)

// KeyFileError reports a key file that could not be used.
type KeyFileError struct {
	// Type is the PEM block type, e.g. "ENCRYPTED SIGSTORE PRIVATE KEY", or "" when no PEM block
	// was found.
	Type string
	// Err is the cause: ErrWrongPassword, or an error wrapping ErrInvalidKeyFile or ErrUnsupportedKey.
	Err error
}

// Error implements error.
func (e *KeyFileError) Error() string {
	if e.Type == "" {
		return fmt.Sprintf("sign: key file: %v", e.Err)
	}
	return fmt.Sprintf("sign: key file (%s): %v", e.Type, e.Err)
}

// Unwrap returns the cause.
func (e *KeyFileError) Unwrap() error { return e.Err }

// ServiceError reports a failed call to a Sigstore service or token endpoint.
type ServiceError struct {
	// Service names the service: "fulcio", "certificate provider", "rekor", "tsa" or "github-actions".
	Service string
	// URL is the endpoint called, when known.
	URL string
	// Err is the cause.
	Err error
}

// Error implements error.
func (e *ServiceError) Error() string {
	if e.URL == "" {
		return fmt.Sprintf("sign: %s: %v", e.Service, e.Err)
	}
	return fmt.Sprintf("sign: %s %s: %v", e.Service, e.URL, e.Err)
}

// Unwrap returns ErrService and the cause, so errors.Is matches either (e.g. context.Canceled).
func (e *ServiceError) Unwrap() []error { return []error{ErrService, e.Err} }

// TokenError reports a token source that produced no usable token.
type TokenError struct {
	// Source names the source: "string", "file", "env" or "github-actions".
	Source string
	// Err is the cause; it wraps ErrNoToken when no token was found.
	Err error
}

// Error implements error.
func (e *TokenError) Error() string { return fmt.Sprintf("sign: %s token: %v", e.Source, e.Err) }

// Unwrap returns the cause.
func (e *TokenError) Unwrap() error { return e.Err }
