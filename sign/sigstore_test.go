package sign_test

// A local Sigstore for keyless tests, everything in-process on loopback:
//
//   - an OIDC issuer (discovery document and JWKS over httptest) that signs ID tokens with
//     go-jose, as a CI platform's issuer does;
//   - a certificate authority built with sigstore-go's testing/ca (root and Fulcio-style
//     intermediate) behind a sign.CertificateProvider that does what Fulcio does for a request:
//     verify the token against the issuer with go-oidc, check the proof of possession, and issue
//     a short-lived code-signing certificate for the token's email with the issuer extension;
//   - an RFC 3161 timestamp authority serving HTTP with github.com/digitorus/timestamp, the
//     library sigstore's timestamp-server is built on, with a certificate chain from testing/ca.
//
// What runs for real: the sigstore timestamp-server (tsa_test.go, PROVKIT_TEST_TSA_URL, started
// by `make test`), the Fulcio server v1.8.8 with its ephemeral CA and no CT log (fulcio_test.go,
// PROVKIT_TEST_FULCIO) and the Rekor v2 server of rekor-tiles v2.3.0 over POSIX storage
// (rekor_test.go, PROVKIT_TEST_REKOR_V2); each skips when its program is not configured. Rekor
// v1 (Trillian and MySQL behind it) does not run here: only its client's request and refusal
// path is tested, in TestTransparencyLogRefusal. Fulcio's CT log does not run either, so no
// bundle carries an SCT.

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/digitorus/timestamp"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/sigstore/sigstore-go/pkg/root"
	sgsign "github.com/sigstore/sigstore-go/pkg/sign"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"
	"github.com/sigstore/sigstore/pkg/signature"
)

// oidcIssuer is an OpenID Connect issuer serving discovery and JWKS, signing tokens with ES256.
type oidcIssuer struct {
	URL    string
	signer jose.Signer
}

func newOIDCIssuer(t *testing.T) *oidcIssuer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "test-key"))
	if err != nil {
		t.Fatal(err)
	}
	iss := &oidcIssuer{signer: signer}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer":                                iss.URL,
			"jwks_uri":                              iss.URL + "/jwks",
			"id_token_signing_alg_values_supported": []string{"ES256"},
			"response_types_supported":              []string{"id_token"},
			"subject_types_supported":               []string{"public"},
		})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{
			Key: &key.PublicKey, KeyID: "test-key", Algorithm: "ES256", Use: "sig",
		}}})
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	iss.URL = srv.URL
	return iss
}

// token returns an ID token for email with audience sigstore, valid from now for ttl.
func (i *oidcIssuer) token(t *testing.T, email string, ttl time.Duration) string {
	t.Helper()
	now := time.Now()
	raw, err := jwt.Signed(i.signer).Claims(map[string]any{
		"iss":            i.URL,
		"sub":            "subject-" + email,
		"aud":            "sigstore",
		"iat":            now.Unix(),
		"nbf":            now.Add(-time.Minute).Unix(),
		"exp":            now.Add(ttl).Unix(),
		"email":          email,
		"email_verified": true,
	}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// localCA certifies keys for verified OIDC identities, as Fulcio does.
type localCA struct {
	root, intermediate *x509.Certificate
	intermediateKey    crypto.Signer
	issuer             *oidcIssuer
}

var _ sgsign.CertificateProvider = (*localCA)(nil)

func newLocalCA(t *testing.T, issuer *oidcIssuer) *localCA {
	t.Helper()
	rootCert, rootKey, err := ca.GenerateRootCa()
	if err != nil {
		t.Fatal(err)
	}
	inter, interKey, err := ca.GenerateFulcioIntermediate(rootCert, rootKey)
	if err != nil {
		t.Fatal(err)
	}
	return &localCA{root: rootCert, intermediate: inter, intermediateKey: interKey, issuer: issuer}
}

// publicOnly gives ca.GenerateLeafCert the public key it asks a signer for.
type publicOnly struct{ pub crypto.PublicKey }

func (p publicOnly) Public() crypto.PublicKey { return p.pub }
func (p publicOnly) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return nil, errors.New("public key only")
}

// GetCertificate verifies the token with the issuer's published keys, checks that the key pair
// can sign the token's email (Fulcio's proof of possession), and issues a 10-minute certificate.
func (c *localCA) GetCertificate(ctx context.Context, kp sgsign.Keypair, opts *sgsign.CertificateProviderOptions) ([]byte, error) {
	provider, err := oidc.NewProvider(ctx, c.issuer.URL)
	if err != nil {
		return nil, err
	}
	idt, err := provider.Verifier(&oidc.Config{ClientID: "sigstore", SupportedSigningAlgs: []string{"ES256"}}).Verify(ctx, opts.IDToken)
	if err != nil {
		return nil, fmt.Errorf("token rejected: %w", err)
	}
	var claims struct {
		Email         string `json:"email"`
		EmailVerified bool   `json:"email_verified"`
	}
	if err := idt.Claims(&claims); err != nil || !claims.EmailVerified {
		return nil, fmt.Errorf("no verified email in token: %v", err)
	}
	proof, _, err := kp.SignData(ctx, []byte(claims.Email))
	if err != nil {
		return nil, err
	}
	details, err := signature.GetAlgorithmDetails(kp.GetSigningAlgorithm())
	if err != nil {
		return nil, err
	}
	v, err := signature.LoadVerifier(kp.GetPublicKey(), details.GetHashType())
	if err != nil {
		return nil, err
	}
	if err := v.VerifySignature(bytes.NewReader(proof), bytes.NewReader([]byte(claims.Email))); err != nil {
		return nil, fmt.Errorf("proof of possession: %w", err)
	}
	leaf, err := ca.GenerateLeafCert(claims.Email, idt.Issuer, time.Now().Add(-time.Minute), publicOnly{kp.GetPublicKey()}, c.intermediate, c.intermediateKey)
	if err != nil {
		return nil, err
	}
	return leaf.Raw, nil
}

func (c *localCA) authority() root.CertificateAuthority {
	return &root.FulcioCertificateAuthority{Root: c.root, Intermediates: []*x509.Certificate{c.intermediate}, URI: "https://fulcio.localhost"}
}

// localTSA is an RFC 3161 timestamp authority over HTTP.
type localTSA struct {
	URL                string
	handler            http.Handler
	root, intermediate *x509.Certificate
	leaf               *x509.Certificate
}

func newLocalTSA(t *testing.T) *localTSA {
	t.Helper()
	rootCert, rootKey, err := ca.GenerateRootCa()
	if err != nil {
		t.Fatal(err)
	}
	inter, interKey, err := ca.GenerateTSAIntermediate(rootCert, rootKey)
	if err != nil {
		t.Fatal(err)
	}
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.GenerateTSALeafCert(time.Now().Add(-time.Minute), leafKey, inter, interKey)
	if err != nil {
		t.Fatal(err)
	}
	tsa := &localTSA{root: rootCert, intermediate: inter, leaf: leaf}
	tsa.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/timestamp-query" {
			http.Error(w, "want a POST of application/timestamp-query", http.StatusBadRequest)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<16))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		req, err := timestamp.ParseRequest(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		ts := timestamp.Timestamp{
			HashAlgorithm:     req.HashAlgorithm,
			HashedMessage:     req.HashedMessage,
			Nonce:             req.Nonce,
			Time:              time.Now(),
			Policy:            asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 2},
			AddTSACertificate: req.Certificates,
			ExtraExtensions:   req.Extensions,
		}
		resp, err := ts.CreateResponseWithOpts(leaf, leafKey, crypto.SHA256)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/timestamp-reply")
		_, _ = w.Write(resp)
	})
	srv := httptest.NewServer(tsa.handler)
	t.Cleanup(srv.Close)
	tsa.URL = srv.URL + "/api/v1/timestamp"
	return tsa
}

func (a *localTSA) authority() root.TimestampingAuthority {
	return &root.SigstoreTimestampingAuthority{Root: a.root, Intermediates: []*x509.Certificate{a.intermediate}, Leaf: a.leaf, URI: a.URL}
}

// trustedRoot returns trusted material with the given authorities.
func trustedRoot(t *testing.T, cas []root.CertificateAuthority, tsas []root.TimestampingAuthority) *root.TrustedRoot {
	t.Helper()
	tr, err := root.NewTrustedRoot(root.TrustedRootMediaType01, cas, nil, tsas, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}
