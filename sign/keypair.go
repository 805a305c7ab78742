package sign

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	_ "crypto/sha512" // SHA-384 and SHA-512 for ECDSA P-384 and P-521
	"crypto/x509"
	"encoding/base64"
	"fmt"

	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	sgsign "github.com/sigstore/sigstore-go/pkg/sign"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
)

// keypair is a sigstore-go sign.Keypair over any crypto.Signer: a key file, a KMS key or an HSM
// key. Everything it returns is computed once in newKeypair, so it is safe for concurrent use
// as long as the crypto.Signer is.
type keypair struct {
	key     crypto.Signer
	details signature.AlgorithmDetails
	hint    []byte
	pubPEM  string
	keyAlg  string
	// signOpts is what key.Sign receives: the hash, or PSS options for RSA-PSS.
	signOpts crypto.SignerOpts
}

var _ sgsign.Keypair = (*keypair)(nil)

// algorithmFor returns the Sigstore algorithm a public key signs with: ECDSA P-256/SHA-256,
// P-384/SHA-384, P-521/SHA-512, pure Ed25519, and RSA 2048/3072/4096 with SHA-256, PKCS#1 v1.5
// unless pss is set.
func algorithmFor(pub crypto.PublicKey, pss bool) (protocommon.PublicKeyDetails, error) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return protocommon.PublicKeyDetails_PKIX_ECDSA_P256_SHA_256, nil
		case elliptic.P384():
			return protocommon.PublicKeyDetails_PKIX_ECDSA_P384_SHA_384, nil
		case elliptic.P521():
			return protocommon.PublicKeyDetails_PKIX_ECDSA_P521_SHA_512, nil
		}
		return 0, fmt.Errorf("%w: ECDSA curve %s", ErrUnsupportedKey, k.Curve.Params().Name)
	case ed25519.PublicKey:
		return protocommon.PublicKeyDetails_PKIX_ED25519, nil
	case *rsa.PublicKey:
		bits := k.N.BitLen()
		var table map[int]protocommon.PublicKeyDetails
		if pss {
			table = map[int]protocommon.PublicKeyDetails{
				2048: protocommon.PublicKeyDetails_PKIX_RSA_PSS_2048_SHA256,
				3072: protocommon.PublicKeyDetails_PKIX_RSA_PSS_3072_SHA256,
				4096: protocommon.PublicKeyDetails_PKIX_RSA_PSS_4096_SHA256,
			}
		} else {
			table = map[int]protocommon.PublicKeyDetails{
				2048: protocommon.PublicKeyDetails_PKIX_RSA_PKCS1V15_2048_SHA256,
				3072: protocommon.PublicKeyDetails_PKIX_RSA_PKCS1V15_3072_SHA256,
				4096: protocommon.PublicKeyDetails_PKIX_RSA_PKCS1V15_4096_SHA256,
			}
		}
		if d, ok := table[bits]; ok {
			return d, nil
		}
		return 0, fmt.Errorf("%w: RSA key of %d bits (2048, 3072 or 4096 supported)", ErrUnsupportedKey, bits)
	case nil:
		return 0, fmt.Errorf("%w: no public key", ErrUnsupportedKey)
	default:
		return 0, fmt.Errorf("%w: public key type %T", ErrUnsupportedKey, pub)
	}
}

// KeyHint returns the key hint provkit writes into key-signed bundles: the standard base64
// encoding of the SHA-256 digest of the public key's PKIX (SubjectPublicKeyInfo) DER encoding,
// as sigstore-go's ephemeral key pairs derive it. The same key always gives the same hint.
// cosign derives its hints differently, so a verifier must never pick a key by hint alone.
func KeyHint(pub crypto.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrUnsupportedKey, err)
	}
	sum := sha256.Sum256(der)
	return base64.StdEncoding.EncodeToString(sum[:]), nil
}

func newKeypair(key crypto.Signer, pss bool) (*keypair, error) {
	if key == nil {
		return nil, fmt.Errorf("%w: nil crypto.Signer", ErrUnsupportedKey)
	}
	pub := key.Public()
	d, err := algorithmFor(pub, pss)
	if err != nil {
		return nil, err
	}
	details, err := signature.GetAlgorithmDetails(d)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnsupportedKey, err)
	}
	hint, err := KeyHint(pub)
	if err != nil {
		return nil, err
	}
	pem, err := cryptoutils.MarshalPublicKeyToPEM(pub)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnsupportedKey, err)
	}
	kp := &keypair{key: key, details: details, hint: []byte(hint), pubPEM: string(pem)}
	hash := details.GetHashType()
	kp.signOpts = hash
	switch details.GetKeyType() {
	case signature.ECDSA:
		kp.keyAlg = "ECDSA"
	case signature.ED25519:
		kp.keyAlg = "ED25519"
	case signature.RSA:
		kp.keyAlg = "RSA"
		if pss {
			kp.signOpts = &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: hash}
		}
	}
	return kp, nil
}

// GetHashAlgorithm returns the hash of the signed digest (unspecified for pure Ed25519).
func (k *keypair) GetHashAlgorithm() protocommon.HashAlgorithm { return k.details.GetProtoHashType() }

// GetSigningAlgorithm returns the Sigstore signing algorithm.
func (k *keypair) GetSigningAlgorithm() protocommon.PublicKeyDetails {
	return k.details.GetSignatureAlgorithm()
}

// GetHint returns the key hint, see KeyHint.
func (k *keypair) GetHint() []byte { return k.hint }

// GetKeyAlgorithm returns "ECDSA", "ED25519" or "RSA", as Fulcio expects.
func (k *keypair) GetKeyAlgorithm() string { return k.keyAlg }

// GetPublicKey returns the public key.
func (k *keypair) GetPublicKey() crypto.PublicKey { return k.key.Public() }

// GetPublicKeyPem returns the PEM-encoded PKIX public key.
func (k *keypair) GetPublicKeyPem() (string, error) { return k.pubPEM, nil }

// contextSigner is a crypto.Signer whose signatures can be cancelled, such as a KMS key whose
// signing runs in another process.
type contextSigner interface {
	SignContext(ctx context.Context, digest []byte, opts crypto.SignerOpts) ([]byte, error)
}

// SignData hashes data with the algorithm's hash (pure Ed25519 signs data itself) and signs it
// with the crypto.Signer, passing ctx on to keys that take one. It returns the signature and
// what was signed.
func (k *keypair) SignData(ctx context.Context, data []byte) ([]byte, []byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	toSign := data
	if h := k.details.GetHashType(); h != crypto.Hash(0) {
		hf := h.New()
		hf.Write(data)
		toSign = hf.Sum(nil)
	}
	var sig []byte
	var err error
	if cs, ok := k.key.(contextSigner); ok {
		sig, err = cs.SignContext(ctx, toSign, k.signOpts)
	} else {
		sig, err = k.key.Sign(rand.Reader, toSign, k.signOpts)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("sign: %s key: %w", k.details.GetSignatureAlgorithm(), err)
	}
	return sig, toSign, nil
}
