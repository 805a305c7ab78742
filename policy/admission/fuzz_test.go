package admission_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	kjson "sigs.k8s.io/json"

	"github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/policy/admission"
)

// FuzzServeHTTP sends arbitrary bodies to the webhook: each is refused with a 4xx status, or
// answered with an AdmissionReview echoing the request's UID. No image is ever allowed, since
// the store holds none, and nothing panics.
func FuzzServeHTTP(f *testing.F) {
	k := newKeys(f)
	h, err := admission.New(checker(f, k, "prod"), admission.WithTimeout(time.Second),
		admission.WithStoreOpener(func(context.Context, string) (*oras.Store, error) { return oras.NewMemory() }))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(podReview(f, "prod", "registry.example/app@sha256:"+string(bytes.Repeat([]byte("ab"), 32))))
	f.Add(podReview(f, "prod", "registry.example/app:v1", "Bad/Name"))
	f.Add([]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"1","kind":{"kind":"Pod","version":"v1"},"object":{"spec":{"containers":[{"image":""}]}}}}`))
	f.Add([]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"1","kind":{"group":"batch","kind":"CronJob","version":"v1"},"object":[]}}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/validate", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 400 && rec.Code < 500 {
			return
		}
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d: %s", rec.Code, rec.Body.String())
		}
		var sent, got admissionv1.AdmissionReview
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || got.Response == nil {
			t.Fatalf("answer is no review: %v: %s", err, rec.Body.String())
		}
		_ = kjson.UnmarshalCaseSensitivePreserveInts(body, &sent)
		if sent.Request == nil || got.Response.UID != sent.Request.UID {
			t.Fatalf("answered uid %q for %+v", got.Response.UID, sent.Request)
		}
		if got.Response.Allowed && bytes.Contains(body, []byte(`"image"`)) && bytes.Contains(rec.Body.Bytes(), []byte("sha256")) {
			t.Fatalf("an image the store does not hold was allowed: %s", rec.Body.String())
		}
	})
}
