package sign

import (
	"context"
	"crypto"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	rekortiles "github.com/sigstore/rekor-tiles/v2/pkg/client"
	rekorwrite "github.com/sigstore/rekor-tiles/v2/pkg/client/write"
	rekorclient "github.com/sigstore/rekor/pkg/client"
	rekorgen "github.com/sigstore/rekor/pkg/generated/client"
	sgutil "github.com/sigstore/sigstore-go/pkg/util"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/provkit/provkit/provenance"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	sgbundle "github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	sgsign "github.com/sigstore/sigstore-go/pkg/sign"
	sgverify "github.com/sigstore/sigstore-go/pkg/verify"
	"google.golang.org/protobuf/encoding/protojson"
)

// Signer turns provenance into signed Sigstore bundles. Implementations are safe for
// concurrent use.
type Signer interface {
	// Sign signs st (validated, marshalled with provenance.Marshal) as a DSSE envelope of
	// payload type application/vnd.in-toto+json inside a Sigstore bundle v0.3. The returned
	// Bundle's PredicateType is st's.
	Sign(ctx context.Context, st *intoto.Statement) (provenance.Bundle, error)
	// SignPayload signs any payload with its payload type as a DSSE envelope inside a Sigstore
	// bundle v0.3, byte for byte as given. Payloads over provenance.MaxStatementBytes fail with a
	// *provenance.SizeError before anything is signed or sent. The payload is not parsed, so the
	// returned Bundle's PredicateType is empty.
	SignPayload(ctx context.Context, payloadType string, payload []byte) (provenance.Bundle, error)
}

// bundleSigner is the one Signer implementation: a fixed key (key signer) or an ephemeral key per
// signature certified for an OIDC identity (keyless signer), plus the services that add
// timestamps and log entries. All fields are set by the constructor and only read afterwards.
type bundleSigner struct {
	keypair      *keypair    // nil for keyless signers
	tokens       TokenSource // nil for key signers
	keyAlgorithm protocommon.PublicKeyDetails
	certProvider sgsign.CertificateProvider
	tsas         []*sgsign.TimestampAuthority
	tlogs        []sgsign.Transparency
	trusted      root.TrustedMaterial
	logger       *slog.Logger
}

var _ Signer = (*bundleSigner)(nil)

// NewKeySigner returns a Signer that signs with key: any crypto.Signer, from a key file
// (ParsePrivateKey), a KMS or an HSM. ECDSA keys on P-256, P-384 and P-521 sign SHA-256,
// SHA-384 and SHA-512 digests respectively; Ed25519 keys sign the message itself (pure
// Ed25519); RSA keys of 2048, 3072 or 4096 bits sign SHA-256 digests with PKCS#1 v1.5, or PSS
// with WithRSAPSS. Other keys fail with an error wrapping ErrUnsupportedKey.
//
// The bundle names the key by its hint (see KeyHint). With no other option, signing is offline;
// WithTimestampAuthority, WithTransparencyLog or WithSigningConfig add timestamps and log entries.
// The Signer is safe for concurrent use if key is.
func NewKeySigner(key crypto.Signer, opts ...Option) (Signer, error) {
	o, err := buildOptions(opts)
	if err != nil {
		return nil, err
	}
	if o.fulcioURL != "" {
		return nil, fmt.Errorf("%w: a key signer does not use Fulcio", ErrInvalidOption)
	}
	if o.keyAlgorithm != protocommon.PublicKeyDetails_PUBLIC_KEY_DETAILS_UNSPECIFIED {
		return nil, fmt.Errorf("%w: a key signer's algorithm is its key's", ErrInvalidOption)
	}
	if _, isRSA := publicKey(key).(*rsa.PublicKey); o.rsaPSS && key != nil && !isRSA {
		return nil, fmt.Errorf("%w: PSS applies to RSA keys only, not %T", ErrInvalidOption, key.Public())
	}
	kp, err := newKeypair(key, o.rsaPSS)
	if err != nil {
		return nil, err
	}
	s, err := newBundleSigner(o, false)
	if err != nil {
		return nil, err
	}
	s.keypair = kp
	return s, nil
}

// NewKeylessSigner returns a Signer that makes a new ephemeral key for each signature, has it
// certified for the identity in an OIDC token from tokens (by Fulcio, or by the authority of
// WithCertificateProvider), and puts the certificate in the bundle. The token is fetched anew
// for every signature, so short-lived tokens are fine. Give the services with WithSigningConfig
// or with WithFulcio, WithTransparencyLog and WithTimestampAuthority; public-good Sigstore
// needs a Rekor log or a timestamp authority so that verifiers can check the short-lived
// certificate was valid at signing time. The Signer is safe for concurrent use if tokens is.
func NewKeylessSigner(tokens TokenSource, opts ...Option) (Signer, error) {
	if tokens == nil {
		return nil, fmt.Errorf("%w: nil token source", ErrInvalidOption)
	}
	o, err := buildOptions(opts)
	if err != nil {
		return nil, err
	}
	if o.rsaPSS {
		return nil, fmt.Errorf("%w: PSS applies to key signers with RSA keys", ErrInvalidOption)
	}
	s, err := newBundleSigner(o, true)
	if err != nil {
		return nil, err
	}
	if s.certProvider == nil {
		return nil, fmt.Errorf("%w: a keyless signer needs Fulcio (WithFulcio or WithSigningConfig) or WithCertificateProvider", ErrInvalidOption)
	}
	for _, l := range s.tlogs {
		if l.(*namedLog).version == 2 && len(s.tsas) == 0 {
			return nil, fmt.Errorf("%w: Rekor v2 (%s) records no signing time: add a timestamp authority", ErrInvalidOption, l.(*namedLog).url)
		}
	}
	s.tokens = tokens
	s.keyAlgorithm = o.keyAlgorithm
	return s, nil
}

func publicKey(key crypto.Signer) crypto.PublicKey {
	if key == nil {
		return nil
	}
	return key.Public()
}

func buildOptions(opts []Option) (*options, error) {
	o := &options{clock: provenance.SystemClock()}
	for _, opt := range opts {
		if opt == nil {
			return nil, fmt.Errorf("%w: nil option", ErrInvalidOption)
		}
		if err := opt(o); err != nil {
			return nil, err
		}
	}
	if o.signingConfig != nil && (o.fulcioURL != "" || len(o.tsaURLs) > 0 || len(o.rekors) > 0) {
		return nil, fmt.Errorf("%w: WithSigningConfig cannot be combined with explicit service URLs", ErrInvalidOption)
	}
	if o.certProvider != nil && o.fulcioURL != "" {
		return nil, fmt.Errorf("%w: WithCertificateProvider cannot be combined with WithFulcio", ErrInvalidOption)
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	return o, nil
}

// newBundleSigner resolves the services: from the signing configuration when there is one,
// else the explicit URLs.
func newBundleSigner(o *options, keyless bool) (*bundleSigner, error) {
	fulcioURL, tsaURLs, rekors := o.fulcioURL, o.tsaURLs, o.rekors
	if sc := o.signingConfig; sc != nil {
		now := o.clock()
		if keyless && o.certProvider == nil {
			svc, err := root.SelectService(sc.FulcioCertificateAuthorityURLs(), sgsign.FulcioAPIVersions, now)
			if err != nil {
				return nil, fmt.Errorf("%w: signing config: fulcio: %v", ErrInvalidOption, err)
			}
			fulcioURL = svc.URL
		}
		if len(sc.RekorLogURLs()) > 0 {
			svcs, err := root.SelectServices(sc.RekorLogURLs(), sc.RekorLogURLsConfig(), sgsign.RekorAPIVersions, now)
			if err != nil {
				return nil, fmt.Errorf("%w: signing config: rekor: %v", ErrInvalidOption, err)
			}
			for _, svc := range svcs {
				rekors = append(rekors, rekorEndpoint{url: svc.URL, version: svc.MajorAPIVersion})
			}
		}
		if len(sc.TimestampAuthorityURLs()) > 0 {
			svcs, err := root.SelectServices(sc.TimestampAuthorityURLs(), sc.TimestampAuthorityURLsConfig(), sgsign.TimestampAuthorityAPIVersions, now)
			if err != nil {
				return nil, fmt.Errorf("%w: signing config: timestamp authority: %v", ErrInvalidOption, err)
			}
			for _, svc := range svcs {
				tsaURLs = append(tsaURLs, svc.URL)
			}
		}
	}
	s := &bundleSigner{trusted: o.trusted, logger: o.logger}
	switch {
	case o.certProvider != nil:
		s.certProvider = &namedProvider{service: "certificate provider", p: o.certProvider}
	case fulcioURL != "":
		s.certProvider = &namedProvider{service: "fulcio", url: fulcioURL, p: sgsign.NewFulcio(&sgsign.FulcioOptions{
			BaseURL: fulcioURL, Timeout: o.timeout, Retries: o.retries, Transport: o.transport,
		})}
	}
	base := o.transport
	if base == nil {
		base = http.DefaultTransport
	}
	for _, u := range tsaURLs {
		s.tsas = append(s.tsas, sgsign.NewTimestampAuthority(&sgsign.TimestampAuthorityOptions{
			URL: u, Timeout: o.timeout, Transport: &tsaTransport{url: u, base: base, retries: o.retries},
		}))
	}
	for _, r := range rekors {
		opts := &sgsign.RekorOptions{BaseURL: r.url, Timeout: o.timeout, Retries: o.retries, Version: r.version}
		// sigstore-go makes a missing client on first use, unsynchronised; made here, the
		// signer is safe for concurrent use.
		var err error
		if r.version == 2 {
			opts.ClientV2, err = rekorwrite.NewWriter(r.url, rekortiles.WithUserAgent(sgutil.ConstructUserAgent()), rekortiles.WithTimeout(o.timeout))
		} else {
			var c *rekorgen.Rekor
			c, err = rekorclient.GetRekorClient(r.url, rekorclient.WithUserAgent(sgutil.ConstructUserAgent()), rekorclient.WithRetryCount(o.retries))
			if c != nil {
				opts.Client = c.Entries
			}
		}
		if err != nil {
			return nil, fmt.Errorf("%w: transparency log %s: %v", ErrInvalidOption, r.url, err)
		}
		s.tlogs = append(s.tlogs, &namedLog{url: r.url, version: r.version, t: sgsign.NewRekor(opts)})
	}
	return s, nil
}

// Sign implements Signer.
func (s *bundleSigner) Sign(ctx context.Context, st *intoto.Statement) (provenance.Bundle, error) {
	payload, err := provenance.Marshal(st)
	if err != nil {
		return provenance.Bundle{}, err
	}
	if len(payload) > provenance.MaxStatementBytes {
		return provenance.Bundle{}, &provenance.SizeError{What: "statement", Limit: provenance.MaxStatementBytes, Size: int64(len(payload))}
	}
	return s.sign(ctx, provenance.MediaTypeInToto, payload, st.GetPredicateType())
}

// SignPayload implements Signer. The returned Bundle's PredicateType is empty: the payload is
// signed as given and not parsed (parsing would cost as much as an Ed25519 signature for a
// 4 KiB statement). A caller that signs a marshalled statement sets PredicateType on the
// returned value, or calls Sign.
func (s *bundleSigner) SignPayload(ctx context.Context, payloadType string, payload []byte) (provenance.Bundle, error) {
	if payloadType == "" {
		return provenance.Bundle{}, fmt.Errorf("%w: empty payload type", ErrInvalidPayload)
	}
	if len(payload) > provenance.MaxStatementBytes {
		return provenance.Bundle{}, &provenance.SizeError{What: "payload", Limit: provenance.MaxStatementBytes, Size: int64(len(payload))}
	}
	return s.sign(ctx, payloadType, payload, "")
}

func (s *bundleSigner) sign(ctx context.Context, payloadType string, payload []byte, predicateType string) (provenance.Bundle, error) {
	if err := ctx.Err(); err != nil {
		return provenance.Bundle{}, err
	}
	var kp sgsign.Keypair = s.keypair
	bopts := sgsign.BundleOptions{
		CertificateProvider:  s.certProvider,
		TimestampAuthorities: s.tsas,
		TransparencyLogs:     s.tlogs,
		Context:              ctx, // per call, as sigstore-go's API takes it; never kept
	}
	if s.tokens != nil {
		token, err := s.tokens.Token(ctx)
		if err != nil {
			return provenance.Bundle{}, err
		}
		eph, err := sgsign.NewEphemeralKeypair(&sgsign.EphemeralKeypairOptions{Algorithm: s.keyAlgorithm})
		if err != nil {
			return provenance.Bundle{}, fmt.Errorf("sign: ephemeral key: %w", err)
		}
		kp = eph
		bopts.CertificateProviderOptions = &sgsign.CertificateProviderOptions{IDToken: token}
	} else if s.certProvider != nil {
		bopts.CertificateProviderOptions = &sgsign.CertificateProviderOptions{}
	}
	pb, err := sgsign.Bundle(&sgsign.DSSEData{Data: payload, PayloadType: payloadType}, kp, bopts)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
			return provenance.Bundle{}, fmt.Errorf("sign: %w (%v)", ctxErr, err)
		}
		return provenance.Bundle{}, fmt.Errorf("sign: bundle: %w", err)
	}
	if s.trusted != nil {
		if err := s.selfCheck(pb); err != nil {
			return provenance.Bundle{}, err
		}
	}
	data, err := marshalBundle(pb)
	if err != nil {
		return provenance.Bundle{}, err
	}
	s.logger.DebugContext(ctx, "signed", "payloadType", payloadType, "payloadBytes", len(payload),
		"bundleBytes", len(data), "timestamps", len(s.tsas), "tlogEntries", len(s.tlogs), "keyless", s.tokens != nil)
	return provenance.Bundle{MediaType: provenance.MediaTypeBundleV03, Data: data, PredicateType: predicateType}, nil
}

// selfCheck verifies a new bundle with sigstore-go's verifier against the trusted material of
// WithVerification, requiring every timestamp and log entry the signer asked for. The identity is
// not checked: the signer cannot know which one its caller expects.
func (s *bundleSigner) selfCheck(pb *protobundle.Bundle) error {
	hasCert := s.certProvider != nil
	var vopts []sgverify.VerifierOption
	switch {
	case len(s.tsas) > 0:
		vopts = append(vopts, sgverify.WithSignedTimestamps(len(s.tsas)))
	case len(s.tlogs) > 0 && hasCert:
		vopts = append(vopts, sgverify.WithIntegratedTimestamps(len(s.tlogs)))
	case hasCert:
		vopts = append(vopts, sgverify.WithCurrentTime())
	default:
		vopts = append(vopts, sgverify.WithNoObserverTimestamps())
	}
	if len(s.tlogs) > 0 {
		vopts = append(vopts, sgverify.WithTransparencyLog(len(s.tlogs)))
	}
	v, err := sgverify.NewVerifier(s.trusted, vopts...)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrSelfCheck, err)
	}
	b, err := sgbundle.NewBundle(pb)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrSelfCheck, err)
	}
	if _, err := v.Verify(b, sgverify.NewPolicy(sgverify.WithoutArtifactUnsafe(), sgverify.WithoutIdentitiesUnsafe())); err != nil {
		return fmt.Errorf("%w: %w", ErrSelfCheck, err)
	}
	return nil
}

func marshalBundle(pb *protobundle.Bundle) ([]byte, error) {
	data, err := protojson.Marshal(pb)
	if err != nil {
		return nil, fmt.Errorf("sign: encode bundle: %w", err)
	}
	return data, nil
}

// namedProvider tags a certificate provider's errors with the service's name and URL.
type namedProvider struct {
	service, url string
	p            sgsign.CertificateProvider
}

func (n *namedProvider) GetCertificate(ctx context.Context, kp sgsign.Keypair, o *sgsign.CertificateProviderOptions) ([]byte, error) {
	cert, err := n.p.GetCertificate(ctx, kp, o)
	if err != nil {
		return nil, &ServiceError{Service: n.service, URL: n.url, Err: err}
	}
	return cert, nil
}

// namedLog tags a transparency log's errors with its URL.
type namedLog struct {
	url     string
	version uint32
	t       sgsign.Transparency
}

func (n *namedLog) GetTransparencyLogEntry(ctx context.Context, keyOrCertPEM []byte, b *protobundle.Bundle) error {
	if err := n.t.GetTransparencyLogEntry(ctx, keyOrCertPEM, b); err != nil {
		return &ServiceError{Service: "rekor", URL: n.url, Err: err}
	}
	return nil
}

// limitedRead reads at most limit bytes from r, failing with a *provenance.SizeError beyond.
func limitedRead(r io.Reader, what string, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, &provenance.SizeError{What: what, Limit: limit, Size: -1}
	}
	return data, nil
}
