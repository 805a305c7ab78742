package main

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

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
		raw, err := json.Marshal(corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: repo + ":v1"}}}})
		require.NoError(t, err)
		body, err := json.Marshal(admissionv1.AdmissionReview{
			TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
			Request: &admissionv1.AdmissionRequest{UID: "u1", Namespace: ns, Operation: admissionv1.Create,
				Kind: metav1.GroupVersionKind{Version: "v1", Kind: "Pod"}, Object: runtime.RawExtension{Raw: raw}},
		})
		require.NoError(t, err)
		req := httptest.NewRequest(http.MethodPost, "/validate", bytes.NewReader(body))
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
