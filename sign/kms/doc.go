// Package kms signs with keys held in a key management service, through the KMS registry of
// github.com/sigstore/sigstore. Open takes a key URI and returns a *Signer, a crypto.Signer that
// never sees the private key; hand it to sign.NewKeySigner to make Sigstore bundles:
//
//	key, err := kms.Open(ctx, "awskms:///arn:aws:kms:eu-west-1:111122223333:key/1234abcd")
//	if err != nil { ... }
//	signer, err := sign.NewKeySigner(key)
//
// # Providers
//
// The cloud providers are not linked in by this package, so a program that does not use them
// does not carry their module graphs. A program opts in to each provider with a blank import of
// sigstore's provider package (each is its own Go module; require the same version as
// github.com/sigstore/sigstore):
//
//	import (
//		_ "github.com/sigstore/sigstore/pkg/signature/kms/aws"        // awskms://
//		_ "github.com/sigstore/sigstore/pkg/signature/kms/azure"      // azurekms://
//		_ "github.com/sigstore/sigstore/pkg/signature/kms/gcp"        // gcpkms://
//		_ "github.com/sigstore/sigstore/pkg/signature/kms/hashivault" // hashivault://
//	)
//
// The providers read their credentials the way their cloud SDKs do (environment, instance
// metadata, configuration files); that is the provider's doing, enabled by the caller's import.
// Without the import, Open fails with ErrProviderNotFound.
//
// # Plugins
//
// A URI whose scheme has no built-in provider, name://reference, runs the external plugin
// program sigstore-kms-name, found on PATH, as defined by sigstore's plugin protocol (package
// github.com/sigstore/sigstore/pkg/signature/kms/cliplugin). The program is run once per call:
// once by Open to fetch the public key, then once per signature, so a plugin signature costs a
// process start: tens of milliseconds, against tens of microseconds for an ECDSA signature in
// process. Failures of the program wrap ErrPlugin.
//
// # Hashes
//
// A Signer signs digests of one hash function, fixed by Open: the one Sigstore pairs with the
// key's algorithm (SHA-256 for ECDSA P-256 and RSA, SHA-384 for P-384, SHA-512 for P-521) or the
// one given with WithHash. sign.NewKeySigner signs with the hash Sigstore pairs with the key, so
// leave WithHash unset for it. Ed25519 keys, which sign whole messages, are not supported.
//
// Sign cannot be cancelled, as crypto.Signer has no context; SignContext takes one, and a
// caller that knows about it can use it instead.
//
// # Errors
//
// Every error is an *Error naming the operation and the URI. It wraps ErrInvalidURI,
// ErrProviderNotFound, ErrPlugin, ErrKeyMismatch, ErrInvalidOption, ErrUnsupportedHash or
// ErrInvalidDigest when
// the failure is one of theirs, and keeps sigstore's own error in the chain.
package kms
