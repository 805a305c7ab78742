package verify

import (
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/tuf"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
)

// PublicKey is a trusted signing key with its identifier and optional validity window.
type PublicKey struct {
	// ID names the key; identities and results refer to keys by it. When empty, KeySet uses
	// Fingerprint(Key).
	ID string
	// Key is an ECDSA, RSA or Ed25519 public key.
	Key crypto.PublicKey
	// NotBefore and NotAfter bound the times at which a signature by the key is accepted,
	// judged at the verified signing time. Zero values leave that side open.
	NotBefore, NotAfter time.Time
}

// ParsePublicKeyPEM parses one PEM-encoded public key ("PUBLIC KEY", as cosign and openssl
// write) and returns it with the given id and no validity window.
func ParsePublicKeyPEM(id string, data []byte) (PublicKey, error) {
	k, err := cryptoutils.UnmarshalPEMToPublicKey(data)
	if err != nil {
		return PublicKey{}, fmt.Errorf("%w: public key %q: %v", ErrTrustMaterial, id, cause(err))
	}
	return PublicKey{ID: id, Key: k}, nil
}

// Fingerprint returns the base64 SHA-256 of the key's PKIX encoding: the key hint sigstore-go
// writes into key-signed bundles.
func Fingerprint(k crypto.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(k)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrTrustMaterial, cause(err))
	}
	sum := sha256.Sum256(der)
	return base64.StdEncoding.EncodeToString(sum[:]), nil
}

// KeySet is trust material made of public keys. It implements sigstore-go's
// root.TrustedMaterial, so it can be combined with other material in a
// root.TrustedMaterialCollection. It is immutable and safe for concurrent use.
type KeySet struct {
	root.BaseTrustedMaterial
	keys []trustedKey
}

type trustedKey struct {
	id          string
	fingerprint string
	verifier    *root.ExpiringKey
	notAfter    time.Time
}

var _ root.TrustedMaterial = (*KeySet)(nil)

// TrustedKeys returns a KeySet of keys. Key ids must be unique.
func TrustedKeys(keys ...PublicKey) (*KeySet, error) {
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: no keys", ErrInvalidConfig)
	}
	ks := &KeySet{}
	seen := map[string]bool{}
	for _, k := range keys {
		if k.Key == nil {
			return nil, fmt.Errorf("%w: key %q is nil", ErrInvalidConfig, k.ID)
		}
		fp, err := Fingerprint(k.Key)
		if err != nil {
			return nil, err
		}
		id := k.ID
		if id == "" {
			id = fp
		}
		if seen[id] {
			return nil, fmt.Errorf("%w: duplicate key id %q", ErrInvalidConfig, id)
		}
		seen[id] = true
		if !k.NotBefore.IsZero() && !k.NotAfter.IsZero() && k.NotAfter.Before(k.NotBefore) {
			return nil, fmt.Errorf("%w: key %q: NotAfter before NotBefore", ErrInvalidConfig, id)
		}
		v, err := signature.LoadDefaultVerifier(k.Key)
		if err != nil {
			return nil, fmt.Errorf("%w: key %q: %v", ErrTrustMaterial, id, cause(err))
		}
		ks.keys = append(ks.keys, trustedKey{id: id, fingerprint: fp, verifier: root.NewExpiringKey(v, k.NotBefore, k.NotAfter), notAfter: k.NotAfter})
	}
	return ks, nil
}

// IDs returns the key ids in the order the keys were given.
func (ks *KeySet) IDs() []string {
	out := make([]string, len(ks.keys))
	for i, k := range ks.keys {
		out[i] = k.id
	}
	return out
}

// PublicKeyVerifier returns the key whose id or fingerprint is hint. It implements
// root.TrustedMaterial.
func (ks *KeySet) PublicKeyVerifier(hint string) (root.TimeConstrainedVerifier, error) {
	if k := ks.lookup(hint); k != nil {
		return k.verifier, nil
	}
	return nil, fmt.Errorf("verify: no trusted key %q", hint)
}

func (ks *KeySet) lookup(hint string) *trustedKey {
	for i := range ks.keys {
		if ks.keys[i].id == hint || ks.keys[i].fingerprint == hint {
			return &ks.keys[i]
		}
	}
	return nil
}

// TrustedRootJSON parses a Sigstore trusted_root.json document: the public-good instance's,
// or a private Sigstore deployment's (its Fulcio CAs, Rekor logs, CT logs and timestamp
// authorities). It works offline.
func TrustedRootJSON(data []byte) (*root.TrustedRoot, error) {
	if len(data) > maxTrustedRootBytes {
		return nil, fmt.Errorf("%w: trusted root is %d bytes, over the %d-byte limit", ErrTrustMaterial, len(data), maxTrustedRootBytes)
	}
	tr, err := root.NewTrustedRootFromJSON(data)
	if err != nil {
		return nil, fmt.Errorf("%w: trusted root: %v", ErrTrustMaterial, cause(err))
	}
	return tr, nil
}

// maxTrustedRootBytes caps a trusted_root.json document; the public-good one is about 10 KiB.
const maxTrustedRootBytes = 4 << 20

// LoadTrustedRoot reads and parses a trusted_root.json file; see TrustedRootJSON.
func LoadTrustedRoot(path string) (*root.TrustedRoot, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrTrustMaterial, cause(err))
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrTrustMaterial, cause(err))
	}
	if st.Size() > maxTrustedRootBytes {
		return nil, fmt.Errorf("%w: %s is %d bytes, over the %d-byte limit", ErrTrustMaterial, path, st.Size(), maxTrustedRootBytes)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrTrustMaterial, cause(err))
	}
	return TrustedRootJSON(data)
}

// TUFOptions configures TrustedRootTUF.
type TUFOptions struct {
	// CacheDir holds the TUF metadata and targets between runs. Required: this package never
	// picks a directory in the user's home on its own.
	CacheDir string
	// Offline uses only what CacheDir already holds and never touches the network. The cached
	// metadata must still be unexpired, as TUF requires; refresh the cache online in time.
	Offline bool
	// MirrorURL is the TUF repository; empty means Sigstore's public-good mirror.
	MirrorURL string
	// Root is the initial TUF root.json trust anchor; empty means the one sigstore-go embeds for
	// the public-good mirror. A private instance must give its own.
	Root []byte
}

// TrustedRootTUF returns the trusted root distributed by a Sigstore TUF repository, using
// sigstore-go's TUF client. Online, the cache is refreshed as TUF requires; offline, only the
// cache is read and an empty cache fails with an error wrapping ErrTrustMaterial.
func TrustedRootTUF(ctx context.Context, o TUFOptions) (*root.TrustedRoot, error) {
	if o.CacheDir == "" {
		return nil, fmt.Errorf("%w: TUFOptions.CacheDir is required", ErrInvalidConfig)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	opts := tuf.DefaultOptions().WithCachePath(o.CacheDir).WithContext(ctx)
	if o.MirrorURL != "" {
		opts = opts.WithRepositoryBaseURL(o.MirrorURL)
	}
	if o.Root != nil {
		opts = opts.WithRoot(o.Root)
	}
	if o.Offline {
		opts = opts.WithForceCache().WithFetcher(offlineFetcher{})
		opts.CacheValidity = tuf.MaxCache
	}
	c, err := tuf.New(opts)
	if err != nil {
		return nil, fmt.Errorf("%w: TUF client: %v", ErrTrustMaterial, cause(err))
	}
	data, err := c.GetTarget("trusted_root.json")
	if err != nil {
		return nil, fmt.Errorf("%w: TUF target trusted_root.json: %v", ErrTrustMaterial, cause(err))
	}
	return TrustedRootJSON(data)
}

// errOffline is what the offline fetcher answers every request with.
var errOffline = errors.New("offline: network access disabled")

// CertificateAuthorities returns trust material for a private PKI: signing certificates must
// chain to one of roots, possibly through intermediates (which bundles may also carry), with
// the code-signing extended key usage, at the verified signing time. Use it with a timestamp
// authority or transparency log that dates signatures, combined in a
// root.TrustedMaterialCollection.
func CertificateAuthorities(roots, intermediates []*x509.Certificate) (root.TrustedMaterial, error) {
	if len(roots) == 0 {
		return nil, fmt.Errorf("%w: no root certificates", ErrInvalidConfig)
	}
	m := &caMaterial{}
	for _, r := range roots {
		if r == nil {
			return nil, fmt.Errorf("%w: nil root certificate", ErrInvalidConfig)
		}
		m.cas = append(m.cas, &root.FulcioCertificateAuthority{Root: r, Intermediates: intermediates})
	}
	return m, nil
}

// ParseCertificatesPEM parses PEM-encoded X.509 certificates, as for CertificateAuthorities.
func ParseCertificatesPEM(data []byte) ([]*x509.Certificate, error) {
	certs, err := cryptoutils.UnmarshalCertificatesFromPEM(data)
	if err != nil {
		return nil, fmt.Errorf("%w: certificates: %v", ErrTrustMaterial, cause(err))
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("%w: no certificates in PEM data", ErrTrustMaterial)
	}
	return certs, nil
}

type caMaterial struct {
	root.BaseTrustedMaterial
	cas []root.CertificateAuthority
}

func (m *caMaterial) FulcioCertificateAuthorities() []root.CertificateAuthority { return m.cas }

// TimestampAuthority returns trust material holding one RFC 3161 timestamp authority, from its
// certificate chain ordered leaf first and root last (as a timestamp-authority server's
// /certchain endpoint returns it). uri names the authority in results and may be empty.
// Combine it with keys or CAs in a root.TrustedMaterialCollection.
func TimestampAuthority(chain []*x509.Certificate, uri string) (root.TrustedMaterial, error) {
	if len(chain) == 0 {
		return nil, fmt.Errorf("%w: empty timestamp authority chain", ErrInvalidConfig)
	}
	for _, c := range chain {
		if c == nil {
			return nil, fmt.Errorf("%w: nil certificate in timestamp authority chain", ErrInvalidConfig)
		}
	}
	tsa := &root.SigstoreTimestampingAuthority{Root: chain[len(chain)-1], URI: uri}
	if len(chain) > 1 {
		tsa.Leaf = chain[0]
		tsa.Intermediates = chain[1 : len(chain)-1]
	}
	return &tsaMaterial{tsas: []root.TimestampingAuthority{tsa}}, nil
}

type tsaMaterial struct {
	root.BaseTrustedMaterial
	tsas []root.TimestampingAuthority
}

func (m *tsaMaterial) TimestampingAuthorities() []root.TimestampingAuthority { return m.tsas }
