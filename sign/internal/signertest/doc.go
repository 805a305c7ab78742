// Package signertest is the conformance test every key provkit signs with must pass, whatever
// holds it: a key file, a KMS (sign/kms) or an HSM (sign/pkcs11). It drives the key through
// sign.NewKeySigner and checks each bundle with sigstore-go's own verifier.
package signertest
