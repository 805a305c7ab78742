package tpm

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	_ "crypto/sha256" // crypto.SHA256.New
	_ "crypto/sha512" // crypto.SHA384.New, crypto.SHA512.New
	"crypto/subtle"
	"encoding/hex"
	"fmt"

	"github.com/google/go-tpm/legacy/tpm2"
	digest "github.com/opencontainers/go-digest"
)

// Verified is what Verify proves about a quote: that the attestation key signed these PCR
// values and this statement digest. Its fields are copies; nothing in it is shared with the
// Quote.
type Verified struct {
	// Statement is the digest the quote's nonce carries.
	Statement digest.Digest
	// Bank is the PCR bank the values are from: BankSHA256.
	Bank string
	// PCRs are the verified register values, in ascending index order.
	PCRs []PCR
	// Clock is the TPM's clock in milliseconds when it made the quote: time the TPM has been
	// powered since its clock was last cleared, not wall-clock time.
	Clock uint64
	// ResetCount and RestartCount count the TPM's resets and restarts; a change between two
	// quotes from one TPM means the platform rebooted or resumed in between.
	ResetCount, RestartCount uint32
	// FirmwareVersion is the TPM vendor's firmware version.
	FirmwareVersion uint64
}

// Verify checks q with the attestation key ak, which must come from somewhere the caller
// trusts (an enrolment record, a checked EK/AK certification), never from q itself. It checks,
// in order, that:
//
//   - q is well formed (ErrMalformed);
//   - q's signature verifies with ak and the signed bytes are a TPM-generated quote
//     (ErrBadSignature; ErrKey if ak is not an RSA or ECDSA public key);
//   - the quote's nonce is statement's raw digest bytes (ErrNonceMismatch);
//   - the quote's PCR digest is the hash of q's PCR values (ErrPCRMismatch).
//
// It returns the verified values and nothing else. Errors are *VerifyError wrapping those
// sentinels. See the package documentation for what a verified quote does and does not prove.
func Verify(q *Quote, ak crypto.PublicKey, statement digest.Digest) (*Verified, error) {
	if q == nil {
		return nil, fail(ErrMalformed, "nil quote")
	}
	want, err := nonceOf(statement)
	if err != nil {
		return nil, err
	}
	v, err := verify(q, ak, want, statement.String())
	if err != nil {
		return nil, err
	}
	v.Statement = statement
	return v, nil
}

// verify is Verify with the expected nonce as bytes; what names it in errors.
func verify(q *Quote, ak crypto.PublicKey, want []byte, what string) (*Verified, error) {
	d, err := q.decode()
	if err != nil {
		return nil, err
	}
	h, err := checkSignature(ak, d.sig, q.Attest)
	if err != nil {
		return nil, err
	}
	att := d.attest
	if subtle.ConstantTimeCompare(att.ExtraData, want) != 1 {
		return nil, fail(ErrNonceMismatch, fmt.Sprintf("quote nonce %s, want statement %s", shortHex(att.ExtraData), what))
	}
	// TPMS_QUOTE_INFO.pcrDigest is the hash, with the signing scheme's hash, of the selected
	// PCR values concatenated in selection order (ascending index).
	ph := h.New()
	for _, p := range q.PCRs {
		ph.Write(p.Digest)
	}
	if got := ph.Sum(nil); subtle.ConstantTimeCompare(got, att.AttestedQuoteInfo.PCRDigest) != 1 {
		return nil, fail(ErrPCRMismatch, fmt.Sprintf("PCRs %s hash to %s, the quote signed %s",
			indices(q.PCRs), shortHex(got), shortHex(att.AttestedQuoteInfo.PCRDigest)))
	}
	v := &Verified{
		Bank:            BankSHA256,
		PCRs:            make([]PCR, len(q.PCRs)),
		Clock:           att.ClockInfo.Clock,
		ResetCount:      att.ClockInfo.ResetCount,
		RestartCount:    att.ClockInfo.RestartCount,
		FirmwareVersion: att.FirmwareVersion,
	}
	for i, p := range q.PCRs {
		v.PCRs[i] = PCR{Index: p.Index, Digest: append([]byte(nil), p.Digest...)}
	}
	return v, nil
}

// checkSignature verifies sig over attest with ak and returns the signature's hash, which
// also hashes the PCR digest.
func checkSignature(ak crypto.PublicKey, sig *tpm2.Signature, attest []byte) (crypto.Hash, error) {
	var alg tpm2.Algorithm
	switch {
	case sig.RSA != nil:
		alg = sig.RSA.HashAlg
	case sig.ECC != nil:
		alg = sig.ECC.HashAlg
	default:
		return 0, fail(ErrBadSignature, fmt.Sprintf("signature scheme %v is not RSASSA, RSAPSS or ECDSA", sig.Alg))
	}
	var h crypto.Hash
	switch alg {
	case tpm2.AlgSHA256:
		h = crypto.SHA256
	case tpm2.AlgSHA384:
		h = crypto.SHA384
	case tpm2.AlgSHA512:
		h = crypto.SHA512
	default:
		return 0, fail(ErrBadSignature, fmt.Sprintf("signature hash %v: want sha256, sha384 or sha512", alg))
	}
	hh := h.New()
	hh.Write(attest)
	sum := hh.Sum(nil)
	switch pub := ak.(type) {
	case *rsa.PublicKey:
		if sig.RSA == nil {
			return 0, fail(ErrBadSignature, "an ECDSA signature, but the attestation key is RSA")
		}
		var err error
		if sig.Alg == tpm2.AlgRSAPSS {
			err = rsa.VerifyPSS(pub, h, sum, sig.RSA.Signature, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto, Hash: h})
		} else {
			err = rsa.VerifyPKCS1v15(pub, h, sum, sig.RSA.Signature)
		}
		if err != nil {
			return 0, fail(ErrBadSignature, "RSA signature over the quote does not verify with the attestation key")
		}
	case *ecdsa.PublicKey:
		if sig.ECC == nil {
			return 0, fail(ErrBadSignature, "an RSA signature, but the attestation key is ECDSA")
		}
		if sig.ECC.R == nil || sig.ECC.S == nil || !ecdsa.Verify(pub, sum, sig.ECC.R, sig.ECC.S) {
			return 0, fail(ErrBadSignature, "ECDSA signature over the quote does not verify with the attestation key")
		}
	default:
		return 0, fail(ErrKey, fmt.Sprintf("attestation key of type %T: want *rsa.PublicKey or *ecdsa.PublicKey", ak))
	}
	return h, nil
}

// ParseAKPublic decodes an attestation key's TPMT_PUBLIC area (Quote.AKPublic, or the bytes
// recorded when the key was enrolled) into a public key for Verify. It requires a restricted
// signing key: only such a key refuses to sign data that imitates a TPM-generated quote, so
// a quote signed by any other key proves nothing. Errors wrap ErrKey.
//
// Decoding the bytes a quote carries does not make the key trustworthy; see the package
// documentation.
func ParseAKPublic(tpmtPublic []byte) (crypto.PublicKey, error) {
	pub, err := tpm2.DecodePublic(tpmtPublic)
	if err != nil {
		return nil, fail(ErrKey, "TPMT_PUBLIC: "+err.Error())
	}
	const want = tpm2.FlagSign | tpm2.FlagRestricted
	if pub.Attributes&want != want || pub.Attributes&tpm2.FlagDecrypt != 0 {
		return nil, fail(ErrKey, fmt.Sprintf("attributes 0x%08x are not a restricted signing key's", uint32(pub.Attributes)))
	}
	switch {
	case pub.Type == tpm2.AlgRSA && pub.RSAParameters != nil:
	case pub.Type == tpm2.AlgECC && pub.ECCParameters != nil:
	default:
		return nil, fail(ErrKey, fmt.Sprintf("key type %v: want RSA or ECC", pub.Type))
	}
	if pub.Type == tpm2.AlgRSA {
		// TPM 2.0 RSA keys are 2048, 3072 or 4096 bits. A larger modulus from hostile bytes
		// would make each signature check cost seconds.
		if n := pub.RSAParameters.KeyBits; n < 2048 || n > 4096 {
			return nil, fail(ErrKey, fmt.Sprintf("RSA key of %d bits: want 2048 to 4096", n))
		}
		if n := len(pub.RSAParameters.ModulusRaw); n < 256 || n > 512 {
			return nil, fail(ErrKey, fmt.Sprintf("RSA modulus of %d bytes: want 256 to 512", n))
		}
	}
	k, err := pub.Key()
	if err != nil {
		return nil, fail(ErrKey, err.Error())
	}
	return k, nil
}

// nonceOf returns the raw bytes of a statement digest, the quote's qualifying data.
func nonceOf(statement digest.Digest) ([]byte, error) {
	if err := statement.Validate(); err != nil {
		return nil, fmt.Errorf("tpm: statement digest %q: %w", statement, err)
	}
	b, err := hex.DecodeString(statement.Encoded())
	if err != nil || len(b) > maxNonce {
		return nil, fmt.Errorf("tpm: statement digest %q does not fit a TPM nonce", statement)
	}
	return b, nil
}

func shortHex(b []byte) string {
	s := hex.EncodeToString(b)
	if len(s) > 16 {
		return s[:16] + ".."
	}
	return s
}

func indices(pcrs []PCR) string {
	s := "["
	for i, p := range pcrs {
		if i > 0 {
			s += " "
		}
		s += fmt.Sprint(p.Index)
	}
	return s + "]"
}
