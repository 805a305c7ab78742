// Package sign turns provenance into signed Sigstore bundles.
//
// A Signer signs an in-toto Statement (or any payload with its payload type) as a DSSE envelope
// inside a Sigstore bundle v0.3 (application/vnd.dev.sigstore.bundle.v0.3+json), the format
// cosign, sigstore-go and GitHub's artifact attestations read. There are two kinds:
//
//   - NewKeySigner signs with any crypto.Signer: a key file (ParsePrivateKey, LoadPrivateKey,
//     including cosign's encrypted keys), a KMS key (package sign/kms) or an HSM key (package
//     sign/pkcs11). The bundle names the public key by a hint, see KeyHint.
//   - NewKeylessSigner makes an ephemeral key per signature and has Fulcio certify it for the
//     identity in an OIDC token from a TokenSource (a string, a file, SIGSTORE_ID_TOKEN from an
//     environment map, or GitHub Actions' ID-token endpoint).
//
// Either kind can add RFC 3161 timestamps from timestamp authorities and entries in Rekor
// transparency logs (API v1 or v2), given explicitly or by a Sigstore signing configuration.
//
// Everything Sigstore-specific is sigstore-go's: its sign.Bundle builds the DSSE pre-authentication
// encoding, the bundle and the service calls; this package adapts any crypto.Signer to its
// sign.Keypair, chooses the hash each key needs, checks sizes and options, and returns
// provenance.Bundle values. Key files are decrypted with go-securesystemslib's encrypted
// package, as cosign does.
//
// # Sizes
//
// Payloads larger than provenance.MaxStatementBytes (48 MiB) are refused with a
// *provenance.SizeError before anything is signed or sent. The DSSE payload is base64-encoded
// in the bundle, so the largest bundle is about 64 MiB (provenance.MaxBundleBytes), which
// registries may still refuse: store very large SBOMs as artifacts and attest their digests.
//
// # Concurrency
//
// Signers are safe for concurrent use, provided the crypto.Signer or TokenSource given to them
// is. Nothing in this package reads the process environment, the home directory or
// configuration files on its own.
package sign
