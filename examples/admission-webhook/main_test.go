package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/provkit/provkit/internal/testenv"
	"github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/sign"
)

// podReview is an AdmissionReview of creating a Pod in namespace ns running image.
func podReview(t *testing.T, ns, image string) []byte {
	t.Helper()
	raw, err := json.Marshal(corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: image}}}})
	require.NoError(t, err)
	body, err := json.Marshal(admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{UID: "u1", Namespace: ns, Operation: admissionv1.Create,
			Kind: metav1.GroupVersionKind{Version: "v1", Kind: "Pod"}, Object: runtime.RawExtension{Raw: raw}},
	})
	require.NoError(t, err)
	return body
}

func TestWebhookByNamespace(t *testing.T) {
	host := testenv.OlaregServer(t)
	trusted, err := sign.GenerateKeyPair(0, nil)
	require.NoError(t, err)
	pub := filepath.Join(t.TempDir(), "cosign.pub")
	require.NoError(t, os.WriteFile(pub, trusted.PublicPEM, 0o644))
	repo := host + "/team/laptop"
	s, err := oras.NewRemote(repo, oras.WithPlainHTTPUnsafe())
	require.NoError(t, err)
	img := testenv.PushImage(t, s.Target(), "v1", "laptop")
	testenv.AttestSLSA(t, s, repo, img, trusted.Signer, "https://laptop.example/alice")

	o := options{policyPath: filepath.Join("testdata", "policy.yaml"), keyPath: pub, env: "prod",
		namespaces: namespaceEnvs{"staging": "staging"}, timeout: 5e9, insecureIgnoreTlog: true, plainHTTP: true}
	h, err := newHandler(o, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)

	admit := func(ns string) *admissionv1.AdmissionResponse {
		req := httptest.NewRequest(http.MethodPost, "/validate", bytes.NewReader(podReview(t, ns, repo+":v1")))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		var review admissionv1.AdmissionReview
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &review))
		return review.Response
	}
	prod := admit("default")
	require.False(t, prod.Allowed)
	assert.Contains(t, prod.Result.Message, "built-by-ci")
	staging := admit("staging")
	require.True(t, staging.Allowed)
	require.Len(t, staging.Warnings, 1)
	assert.Contains(t, staging.Warnings[0], "built-by-ci")

	o.namespaces = namespaceEnvs{"dev": "nowhere"}
	_, err = newHandler(o, slog.New(slog.NewTextHandler(io.Discard, nil)))
	assert.ErrorContains(t, err, `environment "nowhere"`)
}

func TestNamespaceEnvFlag(t *testing.T) {
	n := namespaceEnvs{}
	require.NoError(t, n.Set("dev=staging"))
	assert.Equal(t, "staging", n["dev"])
	assert.Error(t, n.Set("dev"))
	assert.Error(t, n.Set("=prod"))
}

// selfSigned writes a self-signed server certificate for 127.0.0.1 and its key, and returns
// their paths and a pool trusting the certificate.
func selfSigned(t *testing.T) (certPath, keyPath string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "webhook.test"},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	dir := t.TempDir()
	certPath, keyPath = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	require.NoError(t, os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644))
	require.NoError(t, os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600))
	return certPath, keyPath, pool
}

// TestServeTLS serves the webhook as main does, over TLS on loopback: a client trusting the
// certificate gets the review's answer at /validate; plain HTTP, TLS 1.1, an untrusted
// certificate and other paths get none; the server stops cleanly when its context ends.
func TestServeTLS(t *testing.T) {
	host := testenv.OlaregServer(t)
	trusted, err := sign.GenerateKeyPair(0, nil)
	require.NoError(t, err)
	pub := filepath.Join(t.TempDir(), "cosign.pub")
	require.NoError(t, os.WriteFile(pub, trusted.PublicPEM, 0o644))
	repo := host + "/team/ci"
	s, err := oras.NewRemote(repo, oras.WithPlainHTTPUnsafe())
	require.NoError(t, err)
	img := testenv.PushImage(t, s.Target(), "v1", "ci")
	testenv.AttestSLSA(t, s, repo, img, trusted.Signer, "https://ci.example/builder")

	certPath, keyPath, pool := selfSigned(t)
	o := options{addr: "127.0.0.1:" + testenv.FreePort(t), certPath: certPath, tlsKeyPath: keyPath,
		policyPath: filepath.Join("testdata", "policy.yaml"), keyPath: pub, env: "prod",
		timeout: 5 * time.Second, insecureIgnoreTlog: true, plainHTTP: true}
	h, err := newHandler(o, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, o, h) }()

	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	url := "https://" + o.addr + "/validate"
	var resp *http.Response
	require.Eventually(t, func() bool {
		resp, err = client.Post(url, "application/json", bytes.NewReader(podReview(t, "default", repo+":v1")))
		return err == nil
	}, 10*time.Second, 20*time.Millisecond, "the webhook never answered over TLS: %v", err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var review admissionv1.AdmissionReview
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&review))
	resp.Body.Close()
	require.NotNil(t, review.Response)
	require.True(t, review.Response.Allowed, review.Response.Result)
	require.Equal(t, "u1", string(review.Response.UID))

	resp, err = client.Post("https://"+o.addr+"/other", "application/json", bytes.NewReader(podReview(t, "default", repo+":v1")))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNotFound, resp.StatusCode)

	plain, err := http.Post("http://"+o.addr+"/validate", "application/json", bytes.NewReader(podReview(t, "default", repo+":v1")))
	if err == nil {
		plain.Body.Close()
		require.Equal(t, http.StatusBadRequest, plain.StatusCode, "plain HTTP to the TLS port")
	}
	old := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MaxVersion: tls.VersionTLS11}}}
	_, err = old.Post(url, "application/json", bytes.NewReader(podReview(t, "default", repo+":v1")))
	require.Error(t, err, "TLS 1.1 is refused")
	_, err = http.Post(url, "application/json", bytes.NewReader(podReview(t, "default", repo+":v1")))
	var unknown x509.UnknownAuthorityError
	require.ErrorAs(t, err, &unknown, "a client that does not trust the certificate")

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not return after its context ended")
	}
}
