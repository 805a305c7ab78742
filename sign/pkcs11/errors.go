//go:build cgo

package pkcs11

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Compare with errors.Is; they reach the caller inside an *Error.
var (
	// ErrInvalidConfig means a Config that cannot select one token and one key.
	ErrInvalidConfig = errors.New("pkcs11: invalid configuration")
	// ErrInvalidURI means a string that ParseURI cannot read as a supported PKCS#11 URI.
	ErrInvalidURI = errors.New("pkcs11: invalid PKCS#11 URI")
	// ErrModule means the PKCS#11 module could not be loaded or initialised.
	ErrModule = errors.New("pkcs11: module cannot be loaded")
	// ErrTokenNotFound means no slot holds a token with the configured label or slot number.
	ErrTokenNotFound = errors.New("pkcs11: token not found")
	// ErrIncorrectPIN means the token refused the PIN.
	ErrIncorrectPIN = errors.New("pkcs11: incorrect PIN")
	// ErrPINLocked means the token locked the PIN after too many failed log-ins.
	ErrPINLocked = errors.New("pkcs11: PIN locked")
	// ErrKeyNotFound means the token holds no key pair with the configured label and id.
	ErrKeyNotFound = errors.New("pkcs11: key not found")
	// ErrAmbiguousKey means more than one key pair matches the configured label and id.
	ErrAmbiguousKey = errors.New("pkcs11: more than one key matches")
	// ErrUnsupportedKey means the key pair is neither ECDSA nor RSA.
	ErrUnsupportedKey = errors.New("pkcs11: unsupported key type")
	// ErrClosed means the Key was used after Close.
	ErrClosed = errors.New("pkcs11: key closed")
)

// Error reports a failed operation on a PKCS#11 token. It never holds the PIN.
type Error struct {
	// Op is what was being done: "open" or "sign".
	Op string
	// Module is the path of the PKCS#11 module.
	Module string
	// Token names the token: `label "x"` or "slot N".
	Token string
	// Key names the key: `label "x"`, "id 0a0b" or both.
	Key string
	// Err is the cause.
	Err error
}

// Error implements error.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("pkcs11: ")
	b.WriteString(e.Op)
	if e.Key != "" {
		b.WriteString(" key ")
		b.WriteString(e.Key)
	}
	if e.Token != "" {
		b.WriteString(" on token ")
		b.WriteString(e.Token)
	}
	if e.Module != "" {
		fmt.Fprintf(&b, " (%s)", e.Module)
	}
	b.WriteString(": ")
	b.WriteString(strings.TrimPrefix(e.Err.Error(), "pkcs11: "))
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }
