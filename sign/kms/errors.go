package kms

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Compare with errors.Is; Open and Signer.SignContext return them wrapped in an
// *Error that names the operation and the key URI.
var (
	// ErrInvalidURI means a key URI is not of the form scheme://reference.
	ErrInvalidURI = errors.New("kms: invalid key URI")
	// ErrProviderNotFound means no provider serves the URI's scheme: the caller did not
	// blank-import the provider package, and no plugin program sigstore-kms-<scheme> is on PATH.
	ErrProviderNotFound = errors.New("kms: no provider for key URI")
	// ErrPlugin means an external plugin program could not be run, answered with an error, or
	// answered with something that is not a protocol response.
	ErrPlugin = errors.New("kms: plugin failed")
	// ErrKeyMismatch means the key behind the URI is not the public key the caller expected.
	ErrKeyMismatch = errors.New("kms: key does not match the expected public key")
	// ErrInvalidOption means an Option given to Open with an unusable value.
	ErrInvalidOption = errors.New("kms: invalid option")
	// ErrUnsupportedHash means a hash function that the signer was not opened for, or one that
	// KMS signing does not support.
	ErrUnsupportedHash = errors.New("kms: unsupported hash function")
	// ErrInvalidDigest means the digest passed to Sign has the wrong length for its hash.
	ErrInvalidDigest = errors.New("kms: invalid digest")
)

// Error reports a failed KMS operation on one key.
type Error struct {
	// Op is what was being done: "open", "public key" or "sign".
	Op string
	// URI is the key URI as the caller gave it.
	URI string
	// Err is the cause; it wraps one of the Err* sentinels when the failure is one of theirs,
	// and the provider's own error otherwise.
	Err error
}

// Error implements error.
func (e *Error) Error() string {
	return fmt.Sprintf("kms: %s %s: %s", e.Op, e.URI, strings.TrimPrefix(e.Err.Error(), "kms: "))
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }
