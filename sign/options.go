package sign

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/provkit/provkit/provenance"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	"github.com/sigstore/sigstore-go/pkg/root"
	sgsign "github.com/sigstore/sigstore-go/pkg/sign"
	"github.com/sigstore/sigstore/pkg/signature"
)

// Option configures a Signer. Options are checked when the Signer is made: an invalid or
// contradictory option makes NewKeySigner or NewKeylessSigner fail with an error wrapping
// ErrInvalidOption.
type Option func(*options) error

type rekorEndpoint struct {
	url     string
	version uint32
}

type options struct {
	rsaPSS        bool
	fulcioURL     string
	tsaURLs       []string
	rekors        []rekorEndpoint
	signingConfig *root.SigningConfig
	certProvider  sgsign.CertificateProvider
	transport     http.RoundTripper
	timeout       time.Duration
	retries       uint
	trusted       root.TrustedMaterial
	logger        *slog.Logger
	keyAlgorithm  protocommon.PublicKeyDetails
	clock         provenance.Clock
}

func checkURL(what, raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%w: %s URL %q: %v", ErrInvalidOption, what, raw, err)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%w: %s URL %q is not an absolute http(s) URL", ErrInvalidOption, what, raw)
	}
	return nil
}

// WithRSAPSS makes a key signer sign with RSASSA-PSS (salt as long as the hash) instead of
// PKCS#1 v1.5. It applies to RSA keys only; with any other key the constructor fails.
func WithRSAPSS() Option {
	return func(o *options) error { o.rsaPSS = true; return nil }
}

// WithFulcio sets the Fulcio certificate authority a keyless signer asks for certificates,
// e.g. "https://fulcio.sigstore.dev". Key signers reject it.
func WithFulcio(baseURL string) Option {
	return func(o *options) error {
		if err := checkURL("fulcio", baseURL); err != nil {
			return err
		}
		o.fulcioURL = baseURL
		return nil
	}
}

// WithTimestampAuthority adds an RFC 3161 timestamp authority, by the full URL of its
// timestamping endpoint, e.g. "https://timestamp.sigstore.dev/api/v1/timestamp". Each bundle
// gets one signed timestamp per authority, in the order added.
func WithTimestampAuthority(endpoint string) Option {
	return func(o *options) error {
		if err := checkURL("timestamp authority", endpoint); err != nil {
			return err
		}
		o.tsaURLs = append(o.tsaURLs, endpoint)
		return nil
	}
}

// WithTransparencyLog adds a Rekor transparency log by base URL and major API version (1 or 2,
// the versions sigstore-go supports). Each bundle gets one entry per log. Rekor v2 records no
// signing time, so a keyless signer that uses it needs a timestamp authority too.
func WithTransparencyLog(baseURL string, apiVersion uint32) Option {
	return func(o *options) error {
		if err := checkURL("rekor", baseURL); err != nil {
			return err
		}
		if apiVersion != 1 && apiVersion != 2 {
			return fmt.Errorf("%w: rekor API version %d (1 or 2 supported)", ErrInvalidOption, apiVersion)
		}
		o.rekors = append(o.rekors, rekorEndpoint{url: baseURL, version: apiVersion})
		return nil
	}
}

// WithSigningConfig takes the services from a Sigstore signing configuration (the
// signing_config.json of a trusted root, see root.NewSigningConfigFromJSON): its Fulcio (for
// keyless signers), Rekor logs and timestamp authorities, chosen by API version, validity at the
// signer's clock and the configuration's selectors, when the signer is made. It cannot be
// combined with WithFulcio, WithTimestampAuthority or WithTransparencyLog.
func WithSigningConfig(sc *root.SigningConfig) Option {
	return func(o *options) error {
		if sc == nil {
			return fmt.Errorf("%w: nil signing config", ErrInvalidOption)
		}
		o.signingConfig = sc
		return nil
	}
}

// WithCertificateProvider has a private certificate authority, instead of Fulcio, certify the
// signing key; the bundle then carries that certificate. A keyless signer passes the OIDC token
// in sign.CertificateProviderOptions.IDToken. A key signer may use one too (a long-lived key
// with a certificate from a private PKI). It cannot be combined with WithFulcio.
func WithCertificateProvider(p sgsign.CertificateProvider) Option {
	return func(o *options) error {
		if p == nil {
			return fmt.Errorf("%w: nil certificate provider", ErrInvalidOption)
		}
		o.certProvider = p
		return nil
	}
}

// WithHTTPTransport sets the transport for calls to Fulcio and timestamp authorities (for
// private CAs, proxies or tests). The default is http.DefaultTransport. Rekor clients use their
// own transport.
func WithHTTPTransport(rt http.RoundTripper) Option {
	return func(o *options) error {
		if rt == nil {
			return fmt.Errorf("%w: nil transport", ErrInvalidOption)
		}
		o.transport = rt
		return nil
	}
}

// WithTimeout bounds each network request to a service; the default is 30 seconds. The
// context passed to Sign bounds the whole call.
func WithTimeout(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return fmt.Errorf("%w: timeout %v is not positive", ErrInvalidOption, d)
		}
		o.timeout = d
		return nil
	}
}

// WithRetries sets how often a request that failed with a 5xx or 429 status is retried, with
// exponential back-off; the default is 0.
func WithRetries(n uint) Option {
	return func(o *options) error { o.retries = n; return nil }
}

// WithVerification has every bundle checked by sigstore-go's verifier against trusted before
// it is returned, requiring the timestamps and log entries the signer requested (the identity is
// not checked). A bundle that fails is not returned: Sign fails with an error wrapping
// ErrSelfCheck and sigstore-go's reason.
func WithVerification(trusted root.TrustedMaterial) Option {
	return func(o *options) error {
		if trusted == nil {
			return fmt.Errorf("%w: nil trusted material", ErrInvalidOption)
		}
		o.trusted = trusted
		return nil
	}
}

// WithLogger sets a logger for debug records of each signature. The default discards them.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error {
		if l == nil {
			return fmt.Errorf("%w: nil logger", ErrInvalidOption)
		}
		o.logger = l
		return nil
	}
}

// WithKeyAlgorithm sets the algorithm of a keyless signer's ephemeral keys; the default is
// ECDSA P-256 with SHA-256. Ed25519ph is rejected, as Fulcio does. Key signers reject it: their
// key decides.
func WithKeyAlgorithm(alg protocommon.PublicKeyDetails) Option {
	return func(o *options) error {
		if alg == protocommon.PublicKeyDetails_PKIX_ED25519_PH {
			return fmt.Errorf("%w: Ed25519ph keys cannot be certified by Fulcio", ErrInvalidOption)
		}
		if _, err := signature.GetAlgorithmDetails(alg); err != nil {
			return fmt.Errorf("%w: key algorithm %v: %v", ErrInvalidOption, alg, err)
		}
		o.keyAlgorithm = alg
		return nil
	}
}

// WithClock sets the clock used to pick services valid now from a signing configuration. The
// default is provenance.SystemClock.
func WithClock(c provenance.Clock) Option {
	return func(o *options) error {
		if c == nil {
			return fmt.Errorf("%w: nil clock", ErrInvalidOption)
		}
		o.clock = c
		return nil
	}
}
