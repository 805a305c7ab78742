package kms

import (
	"bytes"
	"context"
	"crypto"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/sigstore/sigstore/pkg/signature"
	sigkms "github.com/sigstore/sigstore/pkg/signature/kms"
	"github.com/sigstore/sigstore/pkg/signature/kms/cliplugin"
	"github.com/sigstore/sigstore/pkg/signature/options"
)

// Signer is a crypto.Signer whose private key stays in a key management service or behind an
// external plugin program. Public returns the public key fetched once by Open; each Sign is one
// request to the service (for a plugin: one run of the plugin program).
//
// A Signer is safe for concurrent use when its provider is; sigstore's built-in providers and
// the plugin client are.
type Signer struct {
	uri        string
	sv         sigkms.SignerVerifier
	hash       crypto.Hash
	pub        crypto.PublicKey
	keyVersion string
}

var _ crypto.Signer = (*Signer)(nil)

// Option configures Open.
type Option func(*config) error

type config struct {
	hash       crypto.Hash
	expected   crypto.PublicKey
	keyVersion string
}

// WithHash sets the hash function of the digests the Signer will sign: crypto.SHA256,
// crypto.SHA384 or crypto.SHA512. Without it, Open uses the hash Sigstore pairs with the key's
// algorithm (SHA-256 for ECDSA P-256 and RSA, SHA-384 for P-384, SHA-512 for P-521).
func WithHash(h crypto.Hash) Option {
	return func(c *config) error {
		switch h {
		case crypto.SHA256, crypto.SHA384, crypto.SHA512:
			c.hash = h
			return nil
		default:
			return fmt.Errorf("%w: %v (want SHA-256, SHA-384 or SHA-512)", ErrUnsupportedHash, h)
		}
	}
}

// WithPublicKey makes Open fail with ErrKeyMismatch unless the key behind the URI has this
// public key. Use it to pin a signer to the key its verifiers trust.
func WithPublicKey(pub crypto.PublicKey) Option {
	return func(c *config) error {
		if _, ok := pub.(interface{ Equal(crypto.PublicKey) bool }); !ok {
			return fmt.Errorf("%w: expected public key of type %T cannot be compared", ErrInvalidOption, pub)
		}
		c.expected = pub
		return nil
	}
}

// WithKeyVersion selects a version of the key, for providers that keep versions (Google Cloud
// KMS, HashiCorp Vault); the provider's default version is used without it.
func WithKeyVersion(version string) Option {
	return func(c *config) error {
		if version == "" {
			return fmt.Errorf("%w: empty key version", ErrInvalidOption)
		}
		c.keyVersion = version
		return nil
	}
}

// Open returns a Signer for the key named by uri, such as "awskms:///arn:aws:kms:...",
// "gcpkms://projects/.../cryptoKeyVersions/1", "azurekms://vault.vault.azure.net/key",
// "hashivault://key" or "name://reference" for an external plugin program.
//
// Built-in providers serve a scheme only when the program blank-imports their package (see the
// package documentation). Any other scheme runs the plugin program sigstore-kms-<scheme>, looked
// up on PATH; Open fails with ErrProviderNotFound when there is none. Open fetches the public key
// once, so a missing key or a broken plugin shows here and not at the first signature.
func Open(ctx context.Context, uri string, opts ...Option) (*Signer, error) {
	var cfg config
	for _, opt := range opts {
		if err := opt(&cfg); err != nil {
			return nil, &Error{Op: "open", URI: uri, Err: err}
		}
	}
	if _, _, err := splitURI(uri); err != nil {
		return nil, &Error{Op: "open", URI: uri, Err: err}
	}
	hash := cfg.hash
	if hash == 0 {
		hash = crypto.SHA256
	}
	s, err := open(ctx, uri, hash, cfg.keyVersion)
	if err != nil {
		return nil, err
	}
	// The default hash depends on the key, which is known only now; keys without one (Ed25519)
	// are rejected whatever the hash.
	want, err := defaultHash(s.pub)
	if err != nil {
		return nil, &Error{Op: "open", URI: uri, Err: err}
	}
	if cfg.hash == 0 && want != hash {
		if s, err = open(ctx, uri, want, cfg.keyVersion); err != nil {
			return nil, err
		}
	}
	if cfg.expected != nil {
		if !cfg.expected.(interface{ Equal(crypto.PublicKey) bool }).Equal(s.pub) {
			return nil, &Error{Op: "open", URI: uri, Err: fmt.Errorf("%w: key is %s", ErrKeyMismatch, describeKey(s.pub))}
		}
	}
	return s, nil
}

func open(ctx context.Context, uri string, hash crypto.Hash, keyVersion string) (*Signer, error) {
	var rpc []signature.RPCOption
	if keyVersion != "" {
		rpc = append(rpc, options.WithKeyVersion(keyVersion))
	}
	sv, err := sigkms.Get(ctx, uri, hash, rpc...)
	if err != nil {
		return nil, &Error{Op: "open", URI: uri, Err: classify(withContextErr(ctx, err))}
	}
	pubOpts := []signature.PublicKeyOption{options.WithContext(ctx)}
	if keyVersion != "" {
		pubOpts = append(pubOpts, options.WithKeyVersion(keyVersion))
	}
	pub, err := sv.PublicKey(pubOpts...)
	if err != nil {
		return nil, &Error{Op: "public key", URI: uri, Err: classify(withContextErr(ctx, err))}
	}
	if pub == nil {
		return nil, &Error{Op: "public key", URI: uri, Err: errors.New("provider returned no public key")}
	}
	return &Signer{uri: uri, sv: sv, hash: hash, pub: pub, keyVersion: keyVersion}, nil
}

// Public returns the public key that Open fetched.
func (s *Signer) Public() crypto.PublicKey { return s.pub }

// HashFunc returns the hash function of the digests this Signer signs.
func (s *Signer) HashFunc() crypto.Hash { return s.hash }

// Sign signs digest, which must be the result of hashing with s.HashFunc(). The random source
// is unused: the service supplies its own randomness. Sign cannot be cancelled; prefer
// SignContext.
func (s *Signer) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	return s.SignContext(context.Background(), digest, opts)
}

// SignContext is Sign bounded by ctx: cancelling ctx abandons the request (for a plugin, kills
// the plugin process).
func (s *Signer) SignContext(ctx context.Context, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	h := opts.HashFunc()
	if h != s.hash {
		return nil, &Error{Op: "sign", URI: s.uri, Err: fmt.Errorf("%w: digest made with %v, signer opened for %v", ErrUnsupportedHash, h, s.hash)}
	}
	if len(digest) != h.Size() {
		return nil, &Error{Op: "sign", URI: s.uri, Err: fmt.Errorf("%w: %d bytes, %v digests are %d", ErrInvalidDigest, len(digest), h, h.Size())}
	}
	signOpts := []signature.SignOption{
		options.WithDigest(digest),
		options.WithCryptoSignerOpts(opts),
		options.WithContext(ctx),
	}
	if s.keyVersion != "" {
		signOpts = append(signOpts, options.WithKeyVersion(s.keyVersion))
	}
	sig, err := s.sv.SignMessage(bytes.NewReader(nil), signOpts...)
	if err != nil {
		return nil, &Error{Op: "sign", URI: s.uri, Err: classify(withContextErr(ctx, err))}
	}
	if len(sig) == 0 {
		return nil, &Error{Op: "sign", URI: s.uri, Err: errors.New("provider returned an empty signature")}
	}
	return sig, nil
}

// splitURI returns the scheme and reference of a key URI.
func splitURI(uri string) (scheme, ref string, err error) {
	scheme, ref, ok := strings.Cut(uri, "://")
	switch {
	case !ok:
		return "", "", fmt.Errorf("%w: want scheme://reference", ErrInvalidURI)
	case scheme == "":
		return "", "", fmt.Errorf("%w: empty scheme", ErrInvalidURI)
	case strings.ContainsAny(scheme, `/\:`) || strings.ContainsFunc(scheme, isSpaceOrControl):
		return "", "", fmt.Errorf("%w: scheme %q holds a path separator, space or control character", ErrInvalidURI, scheme)
	case ref == "":
		return "", "", fmt.Errorf("%w: empty key reference", ErrInvalidURI)
	}
	return scheme, ref, nil
}

func isSpaceOrControl(r rune) bool { return r <= ' ' || r == 0x7f }

// withContextErr puts ctx's error in err's chain when ctx is done, as a plugin killed by a
// cancelled context reports only that it was killed.
func withContextErr(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
		return fmt.Errorf("%w: %w", ctxErr, err)
	}
	return err
}

// classify wraps err with the sentinel of its kind, keeping err in the chain.
func classify(err error) error {
	var notFound *sigkms.ProviderNotFoundError
	switch {
	case errors.As(err, &notFound):
		return fmt.Errorf("%w (blank-import the provider package, or put a plugin program on PATH): %w", ErrProviderNotFound, err)
	case errors.Is(err, cliplugin.ErrorExecutingPlugin),
		errors.Is(err, cliplugin.ErrorPluginReturnError),
		errors.Is(err, cliplugin.ErrorResponseParse):
		return fmt.Errorf("%w: %w", ErrPlugin, err)
	}
	return err
}

// defaultHash returns the hash Sigstore pairs with the algorithm of pub.
func defaultHash(pub crypto.PublicKey) (crypto.Hash, error) {
	details, err := signature.GetDefaultAlgorithmDetails(pub)
	if err != nil {
		return 0, fmt.Errorf("%w: no Sigstore algorithm for %s: %w", ErrUnsupportedHash, describeKey(pub), err)
	}
	h := details.GetHashType()
	if h == 0 {
		return 0, fmt.Errorf("%w: %s keys sign whole messages, KMS signing needs a digest", ErrUnsupportedHash, describeKey(pub))
	}
	return h, nil
}

func describeKey(pub crypto.PublicKey) string {
	details, err := signature.GetDefaultAlgorithmDetails(pub)
	if err != nil {
		return fmt.Sprintf("%T", pub)
	}
	return details.GetSignatureAlgorithm().String()
}
