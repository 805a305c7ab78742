package admission_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/policy/admission"
	"github.com/provkit/provkit/policy/gate"
	"github.com/provkit/provkit/verify"
)

// A Pod whose image names a tag and no digest is denied when digests are required, and one
// whose reference does not parse is denied with the parser's reason. Neither reaches a
// registry: the store opener here is an empty Store in memory.
func Example() {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	keys, _ := verify.TrustedKeys(verify.PublicKey{ID: "release", Key: key.Public()})
	verifier, _ := verify.New(keys, verify.WithoutTransparencyLog(), verify.WithUntimestampedKeysUnsafe())
	checker, _ := gate.New(verifier, verify.KeyIDs("release"))
	h, err := admission.New(checker, admission.WithRequireDigest(),
		admission.WithStoreOpener(func(context.Context, string) (*oras.Store, error) { return oras.NewMemory() }))
	if err != nil {
		fmt.Println(err)
		return
	}

	pod := corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "prod"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{
			{Name: "web", Image: "registry.example/team/web:v1"},
			{Name: "sidecar", Image: "registry.example/Team/proxy"},
		}},
	}
	raw, _ := json.Marshal(pod)
	body, _ := json.Marshal(admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{
			UID:       "705ab4f5-6393-11e8-b7cc-42010a800002",
			Kind:      metav1.GroupVersionKind{Version: "v1", Kind: "Pod"},
			Resource:  metav1.GroupVersionResource{Version: "v1", Resource: "pods"},
			Namespace: "prod",
			Operation: admissionv1.Create,
			Object:    runtime.RawExtension{Raw: raw},
		},
	})

	req := httptest.NewRequest(http.MethodPost, "/validate", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)

	var review admissionv1.AdmissionReview
	if err := json.Unmarshal(rec.Body.Bytes(), &review); err != nil {
		fmt.Println(err)
		return
	}
	resp := review.Response
	fmt.Println("uid:", resp.UID)
	fmt.Println("allowed:", resp.Allowed, resp.Result.Code)
	fmt.Println(resp.Result.Message)
	// Output:
	// uid: 705ab4f5-6393-11e8-b7cc-42010a800002
	// allowed: false 403
	// provkit: denied: spec.containers[0] "web" image "registry.example/team/web:v1": image not pinned to a digest: tag "v1" names no digest, and digests are required (write the image as repository@sha256:…); spec.containers[1] "sidecar" image "registry.example/Team/proxy": invalid image reference: oras: reference "registry.example/Team/proxy:latest": is not a registry reference (host[:port]/repository[:tag|@digest]): invalid reference: invalid repository "Team/proxy"
}
