package sign_test

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/x509"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/sign"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	prototrustroot "github.com/sigstore/protobuf-specs/gen/pb-go/trustroot/v1"
	"github.com/sigstore/sigstore-go/pkg/root"
	sgverify "github.com/sigstore/sigstore-go/pkg/verify"
)

const testEmail = "builder@provkit.test"

func identityPolicy(t *testing.T, issuer, email string) sgverify.PolicyOption {
	t.Helper()
	id, err := sgverify.NewShortCertificateIdentity(issuer, "", email, "")
	if err != nil {
		t.Fatal(err)
	}
	return sgverify.WithCertificateIdentity(id)
}

// TestKeylessSigner signs with ephemeral keys certified by the local CA for a token from the
// local OIDC issuer, with zero, one and two timestamp authorities, and has sigstore-go verify
// each bundle against the CA, the TSAs and the expected identity.
func TestKeylessSigner(t *testing.T) {
	issuer := newOIDCIssuer(t)
	lca := newLocalCA(t, issuer)
	tsa1, tsa2 := newLocalTSA(t), newLocalTSA(t)
	tokens := sign.TokenFunc(func(context.Context) (string, error) { return issuer.token(t, testEmail, 5*time.Minute), nil })
	tests := []struct {
		name  string
		opts  []sign.Option
		tsas  []*localTSA
		vopts []sgverify.VerifierOption
	}{
		{name: "no timestamp", vopts: []sgverify.VerifierOption{sgverify.WithCurrentTime()}},
		{name: "one TSA", opts: []sign.Option{sign.WithTimestampAuthority(tsa1.URL)}, tsas: []*localTSA{tsa1},
			vopts: []sgverify.VerifierOption{sgverify.WithSignedTimestamps(1)}},
		{name: "two TSAs", opts: []sign.Option{sign.WithTimestampAuthority(tsa1.URL), sign.WithTimestampAuthority(tsa2.URL)}, tsas: []*localTSA{tsa1, tsa2},
			vopts: []sgverify.VerifierOption{sgverify.WithSignedTimestamps(2)}},
		{name: "ed25519 ephemeral key", opts: []sign.Option{sign.WithKeyAlgorithm(protocommon.PublicKeyDetails_PKIX_ED25519), sign.WithTimestampAuthority(tsa1.URL)},
			tsas: []*localTSA{tsa1}, vopts: []sgverify.VerifierOption{sgverify.WithSignedTimestamps(1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tsaAuthorities []root.TimestampingAuthority
			for _, a := range tt.tsas {
				tsaAuthorities = append(tsaAuthorities, a.authority())
			}
			tr := trustedRoot(t, []root.CertificateAuthority{lca.authority()}, tsaAuthorities)
			opts := append([]sign.Option{sign.WithCertificateProvider(lca), sign.WithVerification(tr)}, tt.opts...)
			s, err := sign.NewKeylessSigner(tokens, opts...)
			if err != nil {
				t.Fatalf("NewKeylessSigner: %v", err)
			}
			b1, err := s.Sign(context.Background(), newStatement(t, 64))
			if err != nil {
				t.Fatalf("Sign: %v", err)
			}
			b2, err := s.Sign(context.Background(), newStatement(t, 64))
			if err != nil {
				t.Fatalf("Sign: %v", err)
			}
			if err := verifyWith(t, b1, tr, tt.vopts, identityPolicy(t, issuer.URL, testEmail)); err != nil {
				t.Fatalf("sigstore-go rejected the bundle: %v", err)
			}
			sb := mustParseBundle(t, b1.Data)
			if n := len(sb.GetVerificationMaterial().GetTimestampVerificationData().GetRfc3161Timestamps()); n != len(tt.tsas) {
				t.Errorf("%d timestamps, want %d", n, len(tt.tsas))
			}
			c1 := sb.GetVerificationMaterial().GetCertificate().GetRawBytes()
			c2 := mustParseBundle(t, b2.Data).GetVerificationMaterial().GetCertificate().GetRawBytes()
			cert1, err := x509.ParseCertificate(c1)
			if err != nil {
				t.Fatal(err)
			}
			cert2, err := x509.ParseCertificate(c2)
			if err != nil {
				t.Fatal(err)
			}
			if cert1.PublicKey.(interface{ Equal(crypto.PublicKey) bool }).Equal(cert2.PublicKey) {
				t.Error("two signatures shared one ephemeral key")
			}
			if strings.HasPrefix(tt.name, "ed25519") {
				if _, ok := cert1.PublicKey.(ed25519.PublicKey); !ok {
					t.Errorf("certified key is %T, want Ed25519", cert1.PublicKey)
				}
			}

			err = verifyWith(t, b1, tr, tt.vopts, identityPolicy(t, issuer.URL, "someone-else@provkit.test"))
			var mismatch *sgverify.ErrNoMatchingCertificateIdentity
			if !errors.As(err, &mismatch) {
				t.Fatalf("another identity: got %v, want ErrNoMatchingCertificateIdentity", err)
			}
		})
	}
}

func TestKeylessSignerErrors(t *testing.T) {
	issuer := newOIDCIssuer(t)
	lca := newLocalCA(t, issuer)
	otherCA := newLocalCA(t, issuer)
	tests := []struct {
		name   string
		tokens sign.TokenSource
		opts   []sign.Option
		want   error
	}{
		{name: "no token", tokens: sign.TokenFromEnv(map[string]string{}), opts: []sign.Option{sign.WithCertificateProvider(lca)}, want: sign.ErrNoToken},
		{name: "expired token", tokens: sign.StaticToken(issuer.token(t, testEmail, -time.Minute)), opts: []sign.Option{sign.WithCertificateProvider(lca)}, want: sign.ErrService},
		{name: "token from another issuer", tokens: sign.StaticToken(newOIDCIssuer(t).token(t, testEmail, time.Minute)), opts: []sign.Option{sign.WithCertificateProvider(lca)}, want: sign.ErrService},
		{name: "self-check against the wrong CA", tokens: sign.StaticToken(issuer.token(t, testEmail, time.Minute)),
			opts: []sign.Option{sign.WithCertificateProvider(lca), sign.WithVerification(trustedRoot(t, []root.CertificateAuthority{otherCA.authority()}, nil))},
			want: sign.ErrSelfCheck},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := sign.NewKeylessSigner(tt.tokens, tt.opts...)
			if err != nil {
				t.Fatalf("NewKeylessSigner: %v", err)
			}
			_, err = s.Sign(context.Background(), newStatement(t, 0))
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestNewKeylessSignerRejects(t *testing.T) {
	issuer := newOIDCIssuer(t)
	lca := newLocalCA(t, issuer)
	tokens := sign.StaticToken("x")
	tests := []struct {
		name   string
		tokens sign.TokenSource
		opts   []sign.Option
	}{
		{name: "nil token source", opts: []sign.Option{sign.WithCertificateProvider(lca)}},
		{name: "no certificate authority", tokens: tokens},
		{name: "Fulcio and a provider", tokens: tokens, opts: []sign.Option{sign.WithCertificateProvider(lca), sign.WithFulcio("https://fulcio.example")}},
		{name: "PSS", tokens: tokens, opts: []sign.Option{sign.WithFulcio("https://fulcio.example"), sign.WithRSAPSS()}},
		{name: "Rekor v2 without a TSA", tokens: tokens, opts: []sign.Option{sign.WithFulcio("https://fulcio.example"), sign.WithTransparencyLog("https://log2025-1.rekor.example", 2)}},
		{name: "Ed25519ph", tokens: tokens, opts: []sign.Option{sign.WithFulcio("https://fulcio.example"), sign.WithKeyAlgorithm(protocommon.PublicKeyDetails_PKIX_ED25519_PH)}},
		{name: "signing config and explicit URL", tokens: tokens, opts: []sign.Option{sign.WithSigningConfig(signingConfig(t, "https://fulcio.example", "")), sign.WithTimestampAuthority("https://tsa.example/api/v1/timestamp")}},
		{name: "Rekor v2 from a signing config without a TSA", tokens: tokens, opts: []sign.Option{sign.WithSigningConfig(rekorV2Config(t))}},
		{name: "signing config without Fulcio", tokens: tokens, opts: []sign.Option{sign.WithSigningConfig(signingConfig(t, "", ""))}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var src sign.TokenSource
			if tt.tokens != nil {
				src = tt.tokens
			}
			_, err := sign.NewKeylessSigner(src, tt.opts...)
			if !errors.Is(err, sign.ErrInvalidOption) {
				t.Fatalf("got %v, want ErrInvalidOption", err)
			}
		})
	}
}

// fulcioRefusing is an httptest server at Fulcio's signing-certificate path that records the
// bearer token and refuses, as Fulcio does for a token it cannot verify.
func fulcioRefusing(t *testing.T) (string, *atomic.Value) {
	t.Helper()
	var bearer atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/api/v2/signingCert" {
			http.NotFound(w, r)
			return
		}
		bearer.Store(r.Header.Get("Authorization"))
		http.Error(w, `{"code":16,"message":"There was an error processing the identity token"}`, http.StatusUnauthorized)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, &bearer
}

// signingConfig returns a Sigstore signing configuration with the given Fulcio and TSA URLs
// (either may be empty), valid from an hour ago.
func signingConfig(t *testing.T, fulcioURL, tsaURL string) *root.SigningConfig {
	t.Helper()
	start := time.Now().Add(-time.Hour)
	var fulcio, tsas []root.Service
	if fulcioURL != "" {
		fulcio = []root.Service{{URL: fulcioURL, MajorAPIVersion: 1, ValidityPeriodStart: start, Operator: "provkit-test"}}
	}
	if tsaURL != "" {
		tsas = []root.Service{{URL: tsaURL, MajorAPIVersion: 1, ValidityPeriodStart: start, Operator: "provkit-test"}}
	}
	sc, err := root.NewSigningConfig(root.SigningConfigMediaType02, fulcio, nil, nil,
		root.ServiceConfiguration{Selector: prototrustroot.ServiceSelector_ANY},
		tsas, root.ServiceConfiguration{Selector: prototrustroot.ServiceSelector_ALL})
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// TestKeylessFulcioClient drives sigstore-go's Fulcio client, chosen explicitly and from a
// signing configuration, against a server that refuses: the token reaches it as a bearer
// token, and the refusal comes back as a *sign.ServiceError naming Fulcio and its URL.
func TestKeylessFulcioClient(t *testing.T) {
	issuer := newOIDCIssuer(t)
	fulcioURL, bearer := fulcioRefusing(t)
	token := issuer.token(t, testEmail, time.Minute)
	tests := []struct {
		name string
		opt  sign.Option
	}{
		{name: "explicit", opt: sign.WithFulcio(fulcioURL)},
		{name: "signing config", opt: sign.WithSigningConfig(signingConfig(t, fulcioURL, ""))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := sign.NewKeylessSigner(sign.StaticToken(token), tt.opt, sign.WithTimeout(10*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.Sign(context.Background(), newStatement(t, 0))
			var se *sign.ServiceError
			if !errors.As(err, &se) || se.Service != "fulcio" || se.URL != fulcioURL || !errors.Is(err, sign.ErrService) {
				t.Fatalf("got %v, want a fulcio *ServiceError", err)
			}
			if got := bearer.Load(); got != "Bearer "+token {
				t.Fatalf("Fulcio saw Authorization %q", got)
			}
		})
	}
}

// TestKeySignerWithTimestamps adds RFC 3161 timestamps to key-signed bundles, from explicit
// URLs and from a signing configuration, and checks them with sigstore-go's verifier.
func TestKeySignerWithTimestamps(t *testing.T) {
	tsa := newLocalTSA(t)
	key, err := cachedRSAKey(2048)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		opt  sign.Option
	}{
		{name: "explicit", opt: sign.WithTimestampAuthority(tsa.URL)},
		{name: "signing config", opt: sign.WithSigningConfig(signingConfig(t, "https://fulcio.ignored.example", tsa.URL))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := sign.NewKeySigner(key, tt.opt)
			if err != nil {
				t.Fatal(err)
			}
			b, err := s.Sign(context.Background(), newStatement(t, 0))
			if err != nil {
				t.Fatalf("Sign: %v", err)
			}
			v := publicKeyVerifier(t, key.Public(), crypto.SHA256, false)
			keyOnly := keyTrust(v)
			tm := &keyAndTSA{TrustedMaterial: keyOnly, tsa: tsa.authority()}
			if err := verifyWith(t, b, tm, []sgverify.VerifierOption{sgverify.WithSignedTimestamps(1)}, sgverify.WithKey()); err != nil {
				t.Fatalf("sigstore-go rejected the timestamped bundle: %v", err)
			}
		})
	}
	for _, tc := range []struct {
		name    string
		status  []int // answers in order; the last repeats
		retries uint
		calls   int32
		ok      bool
	}{
		{name: "TSA refuses", status: []int{http.StatusForbidden}, retries: 2, calls: 1},
		{name: "TSA fails", status: []int{http.StatusServiceUnavailable}, calls: 1},
		{name: "TSA recovers on retry", status: []int{http.StatusServiceUnavailable, 0}, retries: 1, calls: 2, ok: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n := int(calls.Add(1)) - 1
				status := tc.status[min(n, len(tc.status)-1)]
				if status == 0 {
					r.URL.Path = "/api/v1/timestamp"
					tsa.handler.ServeHTTP(w, r)
					return
				}
				http.Error(w, "no", status)
			}))
			defer srv.Close()
			s, err := sign.NewKeySigner(key, sign.WithTimestampAuthority(srv.URL), sign.WithRetries(tc.retries))
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.SignPayload(context.Background(), provenance.MediaTypeInToto, []byte("{}"))
			if got := calls.Load(); got != tc.calls {
				t.Errorf("%d requests, want %d", got, tc.calls)
			}
			if tc.ok {
				if err != nil {
					t.Fatalf("Sign: %v", err)
				}
				return
			}
			var se *sign.ServiceError
			if !errors.As(err, &se) || se.Service != "tsa" || se.URL != srv.URL || !errors.Is(err, sign.ErrService) {
				t.Fatalf("got %v, want a tsa *ServiceError", err)
			}
		})
	}
}

// keyAndTSA is trusted material holding a public key and a timestamp authority.
type keyAndTSA struct {
	root.TrustedMaterial
	tsa root.TimestampingAuthority
}

func (k *keyAndTSA) TimestampingAuthorities() []root.TimestampingAuthority {
	return []root.TimestampingAuthority{k.tsa}
}

// TestTransparencyLogRefusal drives sigstore-go's Rekor v1 and v2 clients against a server
// that refuses every entry, as a log does for a request it cannot accept: the refusal comes
// back as a *sign.ServiceError naming Rekor and its URL, and the entry was really sent there.
// Accepted entries are tested against the real Rekor v2 server in rekor_test.go; no Rekor v1
// server runs here.
func TestTransparencyLogRefusal(t *testing.T) {
	key, err := cachedRSAKey(2048)
	if err != nil {
		t.Fatal(err)
	}
	tsa := newLocalTSA(t)
	tests := []struct {
		name    string
		version uint32
		path    string
	}{
		{name: "v1", version: 1, path: "/api/v1/log/entries"},
		{name: "v2", version: 2, path: "/api/v2/log/entries"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var posted atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodPost && r.URL.Path == tt.path {
					posted.Add(1)
				}
				w.Header().Set("Content-Type", "application/json")
				http.Error(w, `{"code":400,"message":"entry refused"}`, http.StatusBadRequest)
			}))
			defer srv.Close()
			s, err := sign.NewKeySigner(key, sign.WithTimestampAuthority(tsa.URL), sign.WithTransparencyLog(srv.URL, tt.version))
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.Sign(context.Background(), newStatement(t, 0))
			var se *sign.ServiceError
			if !errors.As(err, &se) || se.Service != "rekor" || se.URL != srv.URL {
				t.Fatalf("got %v, want a rekor *ServiceError", err)
			}
			if posted.Load() == 0 {
				t.Fatalf("no entry was posted to %s", tt.path)
			}
		})
	}
}

// rekorV2Config is a signing configuration with a Fulcio and a Rekor v2 log but no timestamp
// authority.
func rekorV2Config(t *testing.T) *root.SigningConfig {
	t.Helper()
	start := time.Now().Add(-time.Hour)
	sc, err := root.NewSigningConfig(root.SigningConfigMediaType02,
		[]root.Service{{URL: "https://fulcio.example", MajorAPIVersion: 1, ValidityPeriodStart: start, Operator: "provkit-test"}}, nil,
		[]root.Service{{URL: "https://log2025-1.rekor.example", MajorAPIVersion: 2, ValidityPeriodStart: start, Operator: "provkit-test"}},
		root.ServiceConfiguration{Selector: prototrustroot.ServiceSelector_ANY},
		nil, root.ServiceConfiguration{Selector: prototrustroot.ServiceSelector_ALL})
	if err != nil {
		t.Fatal(err)
	}
	return sc
}
