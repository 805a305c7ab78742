package admission_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	"github.com/provkit/provkit/internal/testenv"
	"github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/policy"
	"github.com/provkit/provkit/policy/admission"
	"github.com/provkit/provkit/policy/gate"
	"github.com/provkit/provkit/verify"
)

const (
	builder = "https://ci.example/builders/release"
	laptop  = "https://ci.example/builders/laptop"
)

// keys is a trusted and an untrusted signing key, and a verifier trusting the first.
type keys struct {
	trusted, other *ecdsa.PrivateKey
	verifier       *verify.Verifier
}

func newKeys(t testing.TB) *keys {
	t.Helper()
	k := &keys{}
	var err error
	for _, p := range []**ecdsa.PrivateKey{&k.trusted, &k.other} {
		*p, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
	}
	ks, err := verify.TrustedKeys(verify.PublicKey{ID: "release", Key: k.trusted.Public()})
	require.NoError(t, err)
	// Offline: no log and no timestamp authority vouch for the signing time.
	k.verifier, err = verify.New(ks, verify.WithoutTransparencyLog(), verify.WithUntimestampedKeysUnsafe())
	require.NoError(t, err)
	return k
}

// releasePolicy allows in prod only what the release builder built; dev only warns.
func releasePolicy(t testing.TB) *policy.Policy {
	t.Helper()
	p, err := policy.Load(strings.NewReader(`apiVersion: provkit.dev/policy/v1
kind: Policy
metadata:
  name: release
rules:
  - name: built-by-release
    slsa:
      builders: [{id: "` + builder + `"}]
environments:
  prod:
    defaultMode: enforce
  dev:
    defaultMode: warn
`))
	require.NoError(t, err)
	return p
}

func checker(t testing.TB, k *keys, env string) *gate.Checker {
	t.Helper()
	c, err := gate.New(k.verifier, verify.KeyIDs("release"), gate.WithPolicy(releasePolicy(t)), gate.WithEnvironment(env))
	require.NoError(t, err)
	return c
}

// registry is an olareg registry on loopback holding images by role.
type registry struct {
	host string
	repo string
	// attested is built by the release builder and signed by the trusted key; laptop by
	// another builder; forged signed by the untrusted key; bare has nothing attached.
	attested, laptop, forged, bare string
	// attestedTag and bareTag name the same images by tag only.
	attestedTag, bareTag string
}

func newRegistry(t testing.TB, k *keys) *registry {
	t.Helper()
	r := &registry{host: testenv.OlaregServer(t)}
	r.repo = r.host + "/team/app"
	store, err := oras.NewRemote(r.repo, oras.WithPlainHTTPUnsafe())
	require.NoError(t, err)
	push := func(tag string, key *ecdsa.PrivateKey, by string) string {
		image := testenv.PushImage(t, store.Target(), tag, "app "+tag+"\n")
		if key != nil {
			testenv.AttestSLSA(t, store, r.repo, image, key, by)
		}
		return r.repo + "@" + image.Digest.String()
	}
	r.attested = push("attested", k.trusted, builder)
	r.laptop = push("laptop", k.trusted, laptop)
	r.forged = push("forged", k.other, builder)
	r.bare = push("bare", nil, "")
	r.attestedTag, r.bareTag = r.repo+":attested", r.repo+":bare"
	return r
}

// plainHTTP opens the loopback registries of the tests.
func plainHTTP() admission.Option {
	return admission.WithStoreOpener(admission.RemoteOpener(oras.WithPlainHTTPUnsafe()))
}

func newHandler(t testing.TB, c *gate.Checker, opts ...admission.Option) *admission.Handler {
	t.Helper()
	h, err := admission.New(c, append([]admission.Option{plainHTTP()}, opts...)...)
	require.NoError(t, err)
	return h
}

// pod is a Pod whose containers run images, named c0, c1, ...
func pod(images ...string) *corev1.Pod {
	p := &corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: "prod"},
	}
	p.Spec = podSpec(images...)
	return p
}

func podSpec(images ...string) corev1.PodSpec {
	var s corev1.PodSpec
	for i, image := range images {
		s.Containers = append(s.Containers, corev1.Container{Name: "c" + string(rune('0'+i)), Image: image})
	}
	return s
}

// review is the AdmissionReview the API server sends to create obj of kind in namespace,
// marshalled as it sends it.
func review(t testing.TB, kind metav1.GroupVersionKind, resource, namespace string, obj any) []byte {
	t.Helper()
	raw, err := json.Marshal(obj)
	require.NoError(t, err)
	ar := admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{
			UID:       types.UID("uid-" + rand.Text()[:10]),
			Kind:      kind,
			Resource:  metav1.GroupVersionResource{Group: kind.Group, Version: kind.Version, Resource: resource},
			Namespace: namespace,
			Operation: admissionv1.Create,
			UserInfo:  authenticationv1.UserInfo{Username: "system:serviceaccount:kube-system:replicaset-controller"},
			Object:    runtime.RawExtension{Raw: raw},
		},
	}
	body, err := json.Marshal(&ar)
	require.NoError(t, err)
	return body
}

var podKind = metav1.GroupVersionKind{Version: "v1", Kind: "Pod"}

func podReview(t testing.TB, namespace string, images ...string) []byte {
	t.Helper()
	return review(t, podKind, "pods", namespace, pod(images...))
}

// post sends body to h as the API server does and returns the response, checking that it
// answers the review's UID.
func post(t testing.TB, h http.Handler, body []byte) *admissionv1.AdmissionResponse {
	t.Helper()
	var sent admissionv1.AdmissionReview
	require.NoError(t, json.Unmarshal(body, &sent))
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/validate?timeout=10s", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	h.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var got admissionv1.AdmissionReview
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &got))
	require.Equal(t, "admission.k8s.io/v1", got.APIVersion)
	require.Equal(t, "AdmissionReview", got.Kind)
	require.NotNil(t, got.Response)
	require.Equal(t, sent.Request.UID, got.Response.UID)
	return got.Response
}

// message is the denial message of resp, or "".
func message(resp *admissionv1.AdmissionResponse) string {
	if resp.Result == nil {
		return ""
	}
	return resp.Result.Message
}
