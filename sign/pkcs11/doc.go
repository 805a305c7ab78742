// Package pkcs11 signs with a private key held in a hardware security module or token, through
// PKCS#11 (github.com/ThalesGroup/crypto11). Open logs in to a token and finds a key pair; the
// returned *Key is a crypto.Signer for sign.NewKeySigner and an io.Closer that logs out and
// unloads the module:
//
//	key, err := pkcs11.Open(ctx, pkcs11.Config{
//		Module:     "/usr/lib/softhsm/libsofthsm2.so",
//		TokenLabel: "release",
//		PIN:        pin, // from wherever the caller keeps secrets
//		KeyLabel:   "provenance",
//	})
//	if err != nil { ... }
//	defer key.Close()
//	signer, err := sign.NewKeySigner(key)
//
// ParseURI reads the same settings from a PKCS#11 URI (RFC 7512), the form cosign takes:
//
//	pkcs11:token=release;object=provenance?module-path=/usr/lib/softhsm/libsofthsm2.so
//
// ECDSA (P-256, P-384, P-521) and RSA (PKCS#1 v1.5 and PSS) keys are supported; the private key
// never leaves the token. The package reads no environment variables and no configuration
// files: the PIN and the module path come from the caller. (A PKCS#11 module may read its own
// configuration, as SoftHSM reads SOFTHSM2_CONF.)
//
// PKCS#11 modules are C libraries, so this package needs cgo; it is its own package so that
// nothing else in provkit does. Built without cgo, the package is empty.
//
// # Errors
//
// Every error of Open, Sign and Close is an *Error that names the operation, module, token and
// key, and wraps one of ErrInvalidConfig, ErrModule, ErrTokenNotFound, ErrIncorrectPIN,
// ErrPINLocked, ErrKeyNotFound, ErrAmbiguousKey, ErrUnsupportedKey or ErrClosed when the
// failure is one of theirs. The module's own return value, a github.com/miekg/pkcs11 Error such
// as CKR_PIN_INCORRECT, stays in the chain for errors.As. ParseURI's errors wrap ErrInvalidURI.
package pkcs11
