package sign_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/sign"
	"github.com/provkit/provkit/sign/internal/signertest"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	"github.com/sigstore/sigstore-go/pkg/root"
	sgverify "github.com/sigstore/sigstore-go/pkg/verify"
)

func TestKeySignerRoundTrip(t *testing.T) {
	ctx := context.Background()
	st := newStatement(t, 256)
	for _, kk := range keyKinds() {
		t.Run(kk.name, func(t *testing.T) {
			key, err := kk.gen()
			if err != nil {
				t.Fatal(err)
			}
			var opts []sign.Option
			if kk.pss {
				opts = append(opts, sign.WithRSAPSS())
			}
			s, err := sign.NewKeySigner(key, opts...)
			if err != nil {
				t.Fatalf("NewKeySigner: %v", err)
			}
			b, err := s.Sign(ctx, st)
			if err != nil {
				t.Fatalf("Sign: %v", err)
			}
			if b.MediaType != provenance.MediaTypeBundleV03 {
				t.Errorf("media type %q", b.MediaType)
			}
			if b.PredicateType != provenance.PredicateSLSAProvenanceV1 {
				t.Errorf("predicate type %q", b.PredicateType)
			}
			sb := mustParseBundle(t, b.Data)
			env := sb.GetDsseEnvelope()
			if env == nil || env.PayloadType != provenance.MediaTypeInToto {
				t.Fatalf("bundle holds no in-toto DSSE envelope: %v", sb.Bundle)
			}
			want, err := provenance.Marshal(st)
			if err != nil {
				t.Fatal(err)
			}
			if string(env.Payload) != string(want) {
				t.Errorf("signed payload differs from provenance.Marshal output")
			}
			hint, err := sign.KeyHint(key.Public())
			if err != nil {
				t.Fatal(err)
			}
			if got := sb.GetVerificationMaterial().GetPublicKey().GetHint(); got != hint {
				t.Errorf("hint %q, want %q", got, hint)
			}
			verifyKeyBundle(t, b, key.Public(), kk.hash, kk.pss)

			other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			tm := keyTrust(publicKeyVerifier(t, other.Public(), crypto.SHA256, false))
			err = verifyWith(t, b, tm, []sgverify.VerifierOption{sgverify.WithNoObserverTimestamps()}, sgverify.WithKey())
			wantSignatureRejected(t, err)
		})
	}
}

func TestSignPayload(t *testing.T) {
	ctx := context.Background()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := sign.NewKeySigner(key)
	if err != nil {
		t.Fatal(err)
	}
	stBytes, err := provenance.Marshal(newStatement(t, 0))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		payloadType string
		payload     []byte
	}{
		{name: "in-toto", payloadType: provenance.MediaTypeInToto, payload: stBytes},
		{name: "other type", payloadType: "application/vnd.example+json", payload: []byte(`{"a":1}`)},
		{name: "in-toto not json", payloadType: provenance.MediaTypeInToto, payload: []byte("not json")},
		{name: "empty payload", payloadType: "text/plain", payload: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := s.SignPayload(ctx, tt.payloadType, tt.payload)
			if err != nil {
				t.Fatalf("SignPayload: %v", err)
			}
			if b.MediaType != provenance.MediaTypeBundleV03 || b.PredicateType != "" {
				t.Errorf("media type %q, predicate type %q", b.MediaType, b.PredicateType)
			}
			env := mustParseBundle(t, b.Data).GetDsseEnvelope()
			if env.GetPayloadType() != tt.payloadType || string(env.GetPayload()) != string(tt.payload) {
				t.Errorf("envelope holds %q %q", env.GetPayloadType(), env.GetPayload())
			}
		})
	}
}

func TestSignErrors(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := sign.NewKeySigner(key)
	if err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		call func() error
		want error
	}{
		{name: "nil statement", want: provenance.ErrInvalidStatement, call: func() error {
			_, err := s.Sign(context.Background(), nil)
			return err
		}},
		{name: "statement without subject", want: provenance.ErrNoSubjects, call: func() error {
			st := newStatement(t, 0)
			st.Subject = nil
			_, err := s.Sign(context.Background(), st)
			return err
		}},
		{name: "empty payload type", want: sign.ErrInvalidPayload, call: func() error {
			_, err := s.SignPayload(context.Background(), "", []byte("x"))
			return err
		}},
		{name: "payload over the cap", want: provenance.ErrTooLarge, call: func() error {
			_, err := s.SignPayload(context.Background(), "text/plain", make([]byte, provenance.MaxStatementBytes+1))
			return err
		}},
		{name: "cancelled context", want: context.Canceled, call: func() error {
			_, err := s.Sign(cancelled, newStatement(t, 0))
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
	t.Run("size error names the limit", func(t *testing.T) {
		_, err := s.SignPayload(context.Background(), "text/plain", make([]byte, provenance.MaxStatementBytes+1))
		var se *provenance.SizeError
		if !errors.As(err, &se) || se.Limit != provenance.MaxStatementBytes || se.Size != provenance.MaxStatementBytes+1 {
			t.Fatalf("got %#v", err)
		}
	})
}

// unsupportedSigner is a crypto.Signer whose key no Sigstore algorithm covers.
type unsupportedSigner struct{ pub crypto.PublicKey }

func (u unsupportedSigner) Public() crypto.PublicKey { return u.pub }
func (u unsupportedSigner) Sign(_ io.Reader, _ []byte, _ crypto.SignerOpts) ([]byte, error) {
	return nil, errors.New("never called")
}

func TestNewKeySignerRejects(t *testing.T) {
	p224, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p256, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsa1024, err := cachedRSAKey(1024)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		key  crypto.Signer
		opts []sign.Option
		want error
	}{
		{name: "nil key", key: nil, want: sign.ErrUnsupportedKey},
		{name: "P-224", key: p224, want: sign.ErrUnsupportedKey},
		{name: "RSA 1024", key: rsa1024, want: sign.ErrUnsupportedKey},
		{name: "unknown key type", key: unsupportedSigner{pub: "not a key"}, want: sign.ErrUnsupportedKey},
		{name: "PSS on ECDSA", key: p256, opts: []sign.Option{sign.WithRSAPSS()}, want: sign.ErrInvalidOption},
		{name: "Fulcio", key: p256, opts: []sign.Option{sign.WithFulcio("https://fulcio.example")}, want: sign.ErrInvalidOption},
		{name: "key algorithm", key: p256, opts: []sign.Option{sign.WithKeyAlgorithm(protocommon.PublicKeyDetails_PKIX_ED25519)}, want: sign.ErrInvalidOption},
		{name: "nil option", key: p256, opts: []sign.Option{nil}, want: sign.ErrInvalidOption},
		{name: "relative TSA URL", key: p256, opts: []sign.Option{sign.WithTimestampAuthority("/api/v1/timestamp")}, want: sign.ErrInvalidOption},
		{name: "Rekor v3", key: p256, opts: []sign.Option{sign.WithTransparencyLog("https://rekor.example", 3)}, want: sign.ErrInvalidOption},
		{name: "zero timeout", key: p256, opts: []sign.Option{sign.WithTimeout(0)}, want: sign.ErrInvalidOption},
		{name: "nil signing config", key: p256, opts: []sign.Option{sign.WithSigningConfig(nil)}, want: sign.ErrInvalidOption},
		{name: "nil logger", key: p256, opts: []sign.Option{sign.WithLogger(nil)}, want: sign.ErrInvalidOption},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := sign.NewKeySigner(tt.key, tt.opts...)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestKeyHint(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	h1, err := sign.KeyHint(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	h2, err := sign.KeyHint(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.StdEncoding.DecodeString(h1)
	if err != nil || len(raw) != 32 {
		t.Fatalf("hint %q is not base64 of a SHA-256 digest", h1)
	}
	if h1 != h2 {
		t.Errorf("hint not stable: %q vs %q", h1, h2)
	}
	if _, err := sign.KeyHint("nope"); !errors.Is(err, sign.ErrUnsupportedKey) {
		t.Errorf("got %v", err)
	}
}

// TestConcurrentSign signs 1,000 statements from 16 goroutines with one signer; every bundle
// verifies and carries its own statement.
func TestConcurrentSign(t *testing.T) {
	const total, workers = 1000, 16
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := sign.NewKeySigner(key)
	if err != nil {
		t.Fatal(err)
	}
	bundles := make([]provenance.Bundle, total)
	errs := make([]error, total)
	var wg sync.WaitGroup
	next := make(chan int)
	for range workers {
		wg.Go(func() {
			for i := range next {
				st := newStatement(t, i)
				bundles[i], errs[i] = s.Sign(context.Background(), st)
			}
		})
	}
	for i := range total {
		next <- i
	}
	close(next)
	wg.Wait()
	tm := keyTrust(publicKeyVerifier(t, key.Public(), crypto.SHA256, false))
	for i := range total {
		if errs[i] != nil {
			t.Fatalf("statement %d: %v", i, errs[i])
		}
		if err := verifyWith(t, bundles[i], tm, []sgverify.VerifierOption{sgverify.WithNoObserverTimestamps()}, sgverify.WithKey()); err != nil {
			t.Fatalf("statement %d: %v", i, err)
		}
		want, err := provenance.Marshal(newStatement(t, i))
		if err != nil {
			t.Fatal(err)
		}
		if got := mustParseBundle(t, bundles[i].Data).GetDsseEnvelope().GetPayload(); string(got) != string(want) {
			t.Fatalf("bundle %d holds another statement", i)
		}
	}
}

// TestKeySignerConformance runs the shared conformance test, which sign/kms and sign/pkcs11
// run on their keys too, on an in-memory key of every kind.
func TestKeySignerConformance(t *testing.T) {
	for _, kk := range keyKinds() {
		t.Run(kk.name, func(t *testing.T) {
			key, err := kk.gen()
			if err != nil {
				t.Fatal(err)
			}
			signertest.KeySigner(t, key, kk.pss)
		})
	}
}

func TestKeySignerSelfCheck(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	other, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		trusted crypto.PublicKey
		want    error
	}{
		{name: "own key", trusted: key.Public()},
		{name: "another key", trusted: other.Public(), want: sign.ErrSelfCheck},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := sign.NewKeySigner(key, sign.WithVerification(keyTrust(publicKeyVerifier(t, tt.trusted, crypto.SHA384, false))))
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.Sign(context.Background(), newStatement(t, 0))
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

// TestKeylessConcurrentSign signs from 8 goroutines with one keyless signer: each signature
// gets its own ephemeral key and certificate, and all verify.
func TestKeylessConcurrentSign(t *testing.T) {
	const total, workers = 48, 8
	issuer := newOIDCIssuer(t)
	lca := newLocalCA(t, issuer)
	tsa := newLocalTSA(t)
	tr := trustedRoot(t, []root.CertificateAuthority{lca.authority()}, []root.TimestampingAuthority{tsa.authority()})
	token := issuer.token(t, testEmail, 5*time.Minute)
	s, err := sign.NewKeylessSigner(sign.StaticToken(token), sign.WithCertificateProvider(lca), sign.WithTimestampAuthority(tsa.URL))
	if err != nil {
		t.Fatal(err)
	}
	bundles := make([]provenance.Bundle, total)
	errs := make([]error, total)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < total; i += workers {
				bundles[i], errs[i] = s.Sign(context.Background(), newStatement(t, i))
			}
		})
	}
	wg.Wait()
	certs := map[string]bool{}
	for i := range total {
		if errs[i] != nil {
			t.Fatalf("statement %d: %v", i, errs[i])
		}
		if err := verifyWith(t, bundles[i], tr, []sgverify.VerifierOption{sgverify.WithSignedTimestamps(1)}, identityPolicy(t, issuer.URL, testEmail)); err != nil {
			t.Fatalf("statement %d: %v", i, err)
		}
		certs[string(mustParseBundle(t, bundles[i].Data).GetVerificationMaterial().GetCertificate().GetRawBytes())] = true
	}
	if len(certs) != total {
		t.Fatalf("%d certificates for %d signatures", len(certs), total)
	}
}
