package sign

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"strings"

	"github.com/secure-systems-lab/go-securesystemslib/encrypted"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
)

// PEM block types of the private key files provkit reads.
const (
	// PEMTypeSigstoreKey is the encrypted private key cosign v2 and later and provkit write:
	// PKCS#8 DER sealed with scrypt and NaCl secretbox (go-securesystemslib's "encrypted" format).
	PEMTypeSigstoreKey = "ENCRYPTED SIGSTORE PRIVATE KEY"
	// PEMTypeCosignKey is the same format under the name older cosign versions wrote.
	PEMTypeCosignKey = "ENCRYPTED COSIGN PRIVATE KEY"
	// PEMTypePKCS8 is an unencrypted PKCS#8 private key.
	PEMTypePKCS8 = "PRIVATE KEY"
	// PEMTypePKCS8Encrypted is a password-protected PKCS#8 private key, as openssl writes it.
	PEMTypePKCS8Encrypted = "ENCRYPTED PRIVATE KEY"
	// PEMTypeEC is an unencrypted SEC 1 EC private key.
	PEMTypeEC = "EC PRIVATE KEY"
	// PEMTypeRSA is an unencrypted PKCS#1 RSA private key.
	PEMTypeRSA = "RSA PRIVATE KEY"
	// PEMTypePublicKey is a PKIX public key.
	PEMTypePublicKey = "PUBLIC KEY"
)

// MaxKeyFileBytes is the largest key file ParsePrivateKey and LoadPrivateKey read: 64 KiB.
const MaxKeyFileBytes = 64 << 10

// ParsePrivateKey decodes the first PEM block in data as a private key: PKCS#8 ("PRIVATE KEY"),
// SEC 1 ("EC PRIVATE KEY"), PKCS#1 ("RSA PRIVATE KEY"), cosign's encrypted keys ("ENCRYPTED
// SIGSTORE PRIVATE KEY", "ENCRYPTED COSIGN PRIVATE KEY") or encrypted PKCS#8 ("ENCRYPTED PRIVATE
// KEY"). password decrypts the encrypted kinds (nil is the empty password, which cosign allows)
// and is ignored otherwise. Errors are *KeyFileError: a wrong password wraps ErrWrongPassword,
// anything else unreadable ErrInvalidKeyFile, a key with no Sigstore algorithm ErrUnsupportedKey.
func ParsePrivateKey(data, password []byte) (crypto.Signer, error) {
	if len(data) > MaxKeyFileBytes {
		return nil, &KeyFileError{Err: fmt.Errorf("%w: %d bytes, over the %d-byte limit", ErrInvalidKeyFile, len(data), MaxKeyFileBytes)}
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, &KeyFileError{Err: fmt.Errorf("%w: no PEM block", ErrInvalidKeyFile)}
	}
	if len(block.Headers) > 0 {
		// RFC 1423 "Proc-Type: 4,ENCRYPTED" PEM encryption is insecure and deprecated.
		return nil, &KeyFileError{Type: block.Type, Err: fmt.Errorf("%w: PEM headers (legacy PEM encryption) are not supported", ErrInvalidKeyFile)}
	}
	var key any
	var err error
	switch block.Type {
	case PEMTypeSigstoreKey, PEMTypeCosignKey:
		var der []byte
		der, err = decryptSigstoreKey(block.Bytes, password)
		if err != nil {
			return nil, &KeyFileError{Type: block.Type, Err: err}
		}
		key, err = x509.ParsePKCS8PrivateKey(der)
	case PEMTypePKCS8:
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case PEMTypeEC:
		key, err = x509.ParseECPrivateKey(block.Bytes)
	case PEMTypeRSA:
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case PEMTypePKCS8Encrypted:
		if password == nil {
			password = []byte{}
		}
		key, err = cryptoutils.UnmarshalPEMToPrivateKey(pem.EncodeToMemory(block), cryptoutils.StaticPasswordFunc(password))
		if err != nil {
			// The PKCS#8 decryption cannot tell a wrong password from a damaged file; both fail
			// the padding or ASN.1 check after decryption.
			return nil, &KeyFileError{Type: block.Type, Err: fmt.Errorf("%w (%v)", ErrWrongPassword, err)}
		}
	default:
		return nil, &KeyFileError{Type: block.Type, Err: fmt.Errorf("%w: unknown PEM type %q", ErrInvalidKeyFile, block.Type)}
	}
	if err != nil {
		return nil, &KeyFileError{Type: block.Type, Err: fmt.Errorf("%w: %v", ErrInvalidKeyFile, err)}
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, &KeyFileError{Type: block.Type, Err: fmt.Errorf("%w: %T is not a signing key", ErrUnsupportedKey, key)}
	}
	if _, err := algorithmFor(signer.Public(), false); err != nil {
		return nil, &KeyFileError{Type: block.Type, Err: err}
	}
	return signer, nil
}

// sealedKey is the outer shape of go-securesystemslib's encrypted format, checked before
// decryption so that a damaged file is not reported as a wrong password.
type sealedKey struct {
	KDF struct {
		Name string `json:"name"`
	} `json:"kdf"`
	Cipher struct {
		Name  string `json:"name"`
		Nonce []byte `json:"nonce"`
	} `json:"cipher"`
	Ciphertext []byte `json:"ciphertext"`
}

func decryptSigstoreKey(sealed, password []byte) ([]byte, error) {
	var outer sealedKey
	if err := json.Unmarshal(sealed, &outer); err != nil {
		return nil, fmt.Errorf("%w: encrypted key: %v", ErrInvalidKeyFile, err)
	}
	if outer.KDF.Name != "scrypt" || outer.Cipher.Name != "nacl/secretbox" || len(outer.Cipher.Nonce) != 24 || len(outer.Ciphertext) == 0 {
		return nil, fmt.Errorf("%w: encrypted key: kdf %q, cipher %q, %d-byte nonce, %d-byte ciphertext (want scrypt, nacl/secretbox, 24, >0)",
			ErrInvalidKeyFile, outer.KDF.Name, outer.Cipher.Name, len(outer.Cipher.Nonce), len(outer.Ciphertext))
	}
	if password == nil {
		password = []byte{}
	}
	der, err := encrypted.Decrypt(sealed, password)
	if err != nil {
		// go-securesystemslib reports a failed secretbox open as "decryption failed"; every other
		// error is about the file's parameters.
		if strings.Contains(err.Error(), "decryption failed") {
			return nil, ErrWrongPassword
		}
		return nil, fmt.Errorf("%w: encrypted key: %v", ErrInvalidKeyFile, err)
	}
	return der, nil
}

// LoadPrivateKey reads the key file at path, as the caller names it, and parses it with
// ParsePrivateKey.
func LoadPrivateKey(path string, password []byte) (crypto.Signer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &KeyFileError{Err: err}
	}
	defer f.Close()
	data, err := limitedRead(f, "key file", MaxKeyFileBytes)
	if err != nil {
		return nil, &KeyFileError{Err: fmt.Errorf("%w: %s: %w", ErrInvalidKeyFile, path, err)}
	}
	return ParsePrivateKey(data, password)
}

// KeyPair is a new signing key and its PEM files.
type KeyPair struct {
	// Signer is the private key, ready for NewKeySigner.
	Signer crypto.Signer
	// PrivatePEM is the private key encrypted with the password, as an "ENCRYPTED SIGSTORE
	// PRIVATE KEY" PEM block: the format of cosign.key, which cosign reads.
	PrivatePEM []byte
	// PublicPEM is the PKIX public key as a "PUBLIC KEY" PEM block, like cosign.pub.
	PublicPEM []byte
}

// GenerateKeyPair makes a key for alg (unspecified means ECDSA P-256, cosign's default; the RSA
// PSS and PKCS#1 v1.5 kinds of a size make the same RSA key) and encodes it as cosign's
// generate-key-pair does, so cosign can sign with it given the same password. nil is the empty
// password.
func GenerateKeyPair(alg protocommon.PublicKeyDetails, password []byte) (*KeyPair, error) {
	key, err := generateKey(alg)
	if err != nil {
		return nil, err
	}
	priv, err := MarshalEncryptedPrivateKey(key, password)
	if err != nil {
		return nil, err
	}
	pub, err := MarshalPublicKey(key.Public())
	if err != nil {
		return nil, err
	}
	return &KeyPair{Signer: key, PrivatePEM: priv, PublicPEM: pub}, nil
}

func generateKey(alg protocommon.PublicKeyDetails) (crypto.Signer, error) {
	if alg == protocommon.PublicKeyDetails_PUBLIC_KEY_DETAILS_UNSPECIFIED {
		alg = protocommon.PublicKeyDetails_PKIX_ECDSA_P256_SHA_256
	}
	details, err := signature.GetAlgorithmDetails(alg)
	if err != nil {
		return nil, fmt.Errorf("%w: algorithm %v: %v", ErrUnsupportedKey, alg, err)
	}
	switch details.GetKeyType() {
	case signature.ECDSA:
		curve, err := details.GetECDSACurve()
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrUnsupportedKey, err)
		}
		return ecdsa.GenerateKey(*curve, rand.Reader)
	case signature.RSA:
		bits, err := details.GetRSAKeySize()
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrUnsupportedKey, err)
		}
		return rsa.GenerateKey(rand.Reader, int(bits))
	case signature.ED25519:
		_, key, err := ed25519.GenerateKey(rand.Reader)
		return key, err
	}
	return nil, fmt.Errorf("%w: algorithm %v", ErrUnsupportedKey, alg)
}

// MarshalEncryptedPrivateKey encodes key as PKCS#8, encrypts it with password (scrypt and NaCl
// secretbox, through go-securesystemslib as cosign does; nil is the empty password) and returns
// it as an "ENCRYPTED SIGSTORE PRIVATE KEY" PEM block.
func MarshalEncryptedPrivateKey(key crypto.Signer, password []byte) ([]byte, error) {
	if key == nil {
		return nil, fmt.Errorf("%w: nil key", ErrUnsupportedKey)
	}
	if _, err := algorithmFor(key.Public(), false); err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnsupportedKey, err)
	}
	if password == nil {
		password = []byte{}
	}
	sealed, err := encrypted.Encrypt(der, password)
	if err != nil {
		return nil, fmt.Errorf("sign: encrypt private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: PEMTypeSigstoreKey, Bytes: sealed}), nil
}

// MarshalPublicKey returns pub as a PKIX "PUBLIC KEY" PEM block.
func MarshalPublicKey(pub crypto.PublicKey) ([]byte, error) {
	out, err := cryptoutils.MarshalPublicKeyToPEM(pub)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnsupportedKey, err)
	}
	return out, nil
}
