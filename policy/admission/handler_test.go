package admission_test

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/provkit/provkit/policy/admission"
)

func TestPod(t *testing.T) {
	k := newKeys(t)
	reg := newRegistry(t, k)
	h := newHandler(t, checker(t, k, "prod"))

	for _, tc := range []struct {
		name    string
		image   string
		allowed bool
		// want are substrings of the denial message.
		want []string
	}{
		{"attested by digest", reg.attested, true, nil},
		{"attested by tag", reg.attestedTag, true, nil},
		{"no attestations", reg.bare, false, []string{`spec.containers[0] "c0"`, "no attestations of " + digestOf(reg.bare)}},
		{"tag resolved to its digest", reg.bareTag, false, []string{reg.bareTag, "(" + digestOf(reg.bare) + ")", "no attestations of " + digestOf(reg.bare)}},
		{"built elsewhere", reg.laptop, false, []string{"policy: denied", "for prod", "built-by-release"}},
		{"signed by an untrusted key", reg.forged, false, []string{"none of the 1 attestations of " + digestOf(reg.forged) + " verified"}},
		{"malformed reference", "registry.example/App::v1", false, []string{"invalid image reference", "registry.example/App::v1"}},
		{"digest malformed", reg.repo + "@sha256:abc", false, []string{"invalid image reference"}},
		{"unknown tag", reg.repo + ":missing", false, []string{"resolve", "denied: the webhook fails closed"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := post(t, h, podReview(t, "prod", tc.image))
			require.Equal(t, tc.allowed, resp.Allowed, message(resp))
			if tc.allowed {
				assert.Nil(t, resp.Result)
				assert.Empty(t, resp.Warnings)
				return
			}
			require.NotNil(t, resp.Result)
			assert.Equal(t, int32(http.StatusForbidden), resp.Result.Code)
			assert.Equal(t, metav1.StatusReasonForbidden, resp.Result.Reason)
			for _, w := range tc.want {
				assert.Contains(t, resp.Result.Message, w)
			}
		})
	}

	t.Run("every container kind", func(t *testing.T) {
		p := pod(reg.attested)
		p.Spec.InitContainers = []corev1.Container{{Name: "init", Image: reg.bare}}
		p.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debug", Image: reg.forged}}}
		resp := post(t, h, review(t, podKind, "pods", "prod", p))
		require.False(t, resp.Allowed)
		msg := message(resp)
		assert.Contains(t, msg, `spec.initContainers[0] "init"`)
		assert.Contains(t, msg, `spec.ephemeralContainers[0] "debug"`)
		assert.NotContains(t, msg, `spec.containers[0]`)
	})
}

func digestOf(ref string) string {
	_, d, _ := strings.Cut(ref, "@")
	return d
}

func TestRequireDigest(t *testing.T) {
	k := newKeys(t)
	reg := newRegistry(t, k)
	h := newHandler(t, checker(t, k, "prod"), admission.WithRequireDigest())
	resp := post(t, h, podReview(t, "prod", reg.attestedTag))
	require.False(t, resp.Allowed)
	assert.Contains(t, message(resp), "image not pinned to a digest")
	assert.True(t, post(t, h, podReview(t, "prod", reg.attested)).Allowed)
}

func TestWarnOnly(t *testing.T) {
	k := newKeys(t)
	reg := newRegistry(t, k)
	h := newHandler(t, checker(t, k, "prod"), admission.WithWarnOnlyUnsafe())
	resp := post(t, h, podReview(t, "prod", reg.attested, reg.bare, reg.laptop))
	require.True(t, resp.Allowed)
	assert.Nil(t, resp.Result)
	require.Len(t, resp.Warnings, 2)
	assert.Contains(t, resp.Warnings[0], `spec.containers[1] "c1"`)
	assert.Contains(t, resp.Warnings[0], "would be denied: no attestations of "+digestOf(reg.bare))
	assert.Contains(t, resp.Warnings[1], `spec.containers[2] "c2"`)
	assert.Contains(t, resp.Warnings[1], "built-by-release")
}

func TestNamespaces(t *testing.T) {
	k := newKeys(t)
	reg := newRegistry(t, k)
	h := newHandler(t, checker(t, k, "prod"), admission.WithNamespace("dev", checker(t, k, "dev")))

	// The policy only warns in dev: an image built elsewhere is allowed there, with the
	// policy's warning, and denied in prod and in any namespace without its own Checker.
	resp := post(t, h, podReview(t, "dev", reg.laptop))
	require.True(t, resp.Allowed, message(resp))
	require.Len(t, resp.Warnings, 1)
	assert.Contains(t, resp.Warnings[0], "policy warns: built-by-release")
	for _, ns := range []string{"prod", "default"} {
		resp = post(t, h, podReview(t, ns, reg.laptop))
		assert.False(t, resp.Allowed, ns)
		assert.Contains(t, message(resp), "built-by-release", ns)
	}
	// dev still needs verified evidence: only the rules warn.
	assert.False(t, post(t, h, podReview(t, "dev", reg.bare)).Allowed)

	_, err := admission.New(checker(t, k, "prod"), admission.WithNamespace("dev", checker(t, k, "dev")), admission.WithNamespace("dev", checker(t, k, "dev")))
	assert.ErrorIs(t, err, admission.ErrInvalidConfig)
}

func TestTemplates(t *testing.T) {
	k := newKeys(t)
	reg := newRegistry(t, k)
	h := newHandler(t, checker(t, k, "prod"))
	// Each template runs an attested init container and two app containers: one attested,
	// one not.
	spec := podSpec(reg.attested, reg.bare)
	spec.InitContainers = []corev1.Container{{Name: "init", Image: reg.attestedTag}}
	template := corev1.PodTemplateSpec{Spec: spec}
	allowed := podSpec(reg.attested)
	allowed.InitContainers = []corev1.Container{{Name: "init", Image: reg.attestedTag}}
	good := corev1.PodTemplateSpec{Spec: allowed}
	meta := metav1.ObjectMeta{Name: "app", Namespace: "prod"}
	apps := func(kind string) metav1.GroupVersionKind {
		return metav1.GroupVersionKind{Group: "apps", Version: "v1", Kind: kind}
	}
	batch := func(kind string) metav1.GroupVersionKind {
		return metav1.GroupVersionKind{Group: "batch", Version: "v1", Kind: kind}
	}
	for _, tc := range []struct {
		kind      metav1.GroupVersionKind
		resource  string
		path      string
		bad, good any
	}{
		{apps("Deployment"), "deployments", "spec.template.spec",
			&appsv1.Deployment{ObjectMeta: meta, Spec: appsv1.DeploymentSpec{Template: template}},
			&appsv1.Deployment{ObjectMeta: meta, Spec: appsv1.DeploymentSpec{Template: good}}},
		{apps("ReplicaSet"), "replicasets", "spec.template.spec",
			&appsv1.ReplicaSet{ObjectMeta: meta, Spec: appsv1.ReplicaSetSpec{Template: template}},
			&appsv1.ReplicaSet{ObjectMeta: meta, Spec: appsv1.ReplicaSetSpec{Template: good}}},
		{apps("StatefulSet"), "statefulsets", "spec.template.spec",
			&appsv1.StatefulSet{ObjectMeta: meta, Spec: appsv1.StatefulSetSpec{Template: template}},
			&appsv1.StatefulSet{ObjectMeta: meta, Spec: appsv1.StatefulSetSpec{Template: good}}},
		{apps("DaemonSet"), "daemonsets", "spec.template.spec",
			&appsv1.DaemonSet{ObjectMeta: meta, Spec: appsv1.DaemonSetSpec{Template: template}},
			&appsv1.DaemonSet{ObjectMeta: meta, Spec: appsv1.DaemonSetSpec{Template: good}}},
		{batch("Job"), "jobs", "spec.template.spec",
			&batchv1.Job{ObjectMeta: meta, Spec: batchv1.JobSpec{Template: template}},
			&batchv1.Job{ObjectMeta: meta, Spec: batchv1.JobSpec{Template: good}}},
		{batch("CronJob"), "cronjobs", "spec.jobTemplate.spec.template.spec",
			&batchv1.CronJob{ObjectMeta: meta, Spec: batchv1.CronJobSpec{Schedule: "@daily", JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: template}}}},
			&batchv1.CronJob{ObjectMeta: meta, Spec: batchv1.CronJobSpec{Schedule: "@daily", JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: good}}}}},
	} {
		t.Run(tc.kind.Kind, func(t *testing.T) {
			resp := post(t, h, review(t, tc.kind, tc.resource, "prod", tc.bad))
			require.False(t, resp.Allowed)
			msg := message(resp)
			assert.Contains(t, msg, tc.path+`.containers[1] "c1" image "`+reg.bare+`": no attestations`)
			assert.NotContains(t, msg, "initContainers")
			assert.NotContains(t, msg, ".containers[0]")
			resp = post(t, h, review(t, tc.kind, tc.resource, "prod", tc.good))
			assert.True(t, resp.Allowed, message(resp))
		})
	}

	t.Run("other kinds are not read", func(t *testing.T) {
		cm := &corev1.ConfigMap{ObjectMeta: meta, Data: map[string]string{"image": reg.bare}}
		resp := post(t, h, review(t, metav1.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}, "configmaps", "prod", cm))
		assert.True(t, resp.Allowed)
	})
}

// stallingRegistry answers no request until the test ends.
func stallingRegistry(t *testing.T) string {
	t.Helper()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	return strings.TrimPrefix(srv.URL, "http://")
}

func TestStallingRegistry(t *testing.T) {
	k := newKeys(t)
	reg := newRegistry(t, k)
	stalled := stallingRegistry(t) + "/team/app:v1"
	const timeout = 700 * time.Millisecond
	for _, tc := range []struct {
		name string
		opts []admission.Option
	}{
		{"fails closed", nil},
		{"fails open", []admission.Option{admission.WithFailOpenUnsafe()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHandler(t, checker(t, k, "prod"), append(tc.opts, admission.WithTimeout(timeout))...)
			start := time.Now()
			resp := post(t, h, podReview(t, "prod", reg.attested, stalled))
			took := time.Since(start)
			assert.GreaterOrEqual(t, took, timeout)
			assert.Less(t, took, timeout+time.Second, "answered after %s", took)
			if tc.opts == nil {
				require.False(t, resp.Allowed)
				assert.Contains(t, message(resp), `spec.containers[1] "c1" image "`+stalled+`": check timed out: not checked within 700ms; denied: the webhook fails closed`)
				assert.NotContains(t, message(resp), `containers[0]`)
				return
			}
			require.True(t, resp.Allowed, message(resp))
			require.Len(t, resp.Warnings, 1)
			assert.Contains(t, resp.Warnings[0], `spec.containers[1] "c1"`)
			assert.Contains(t, resp.Warnings[0], "check timed out")
			assert.Contains(t, resp.Warnings[0], "allowed: the webhook fails open")
		})
	}
	t.Run("fail open still denies evidence", func(t *testing.T) {
		h := newHandler(t, checker(t, k, "prod"), admission.WithFailOpenUnsafe(), admission.WithTimeout(timeout))
		resp := post(t, h, podReview(t, "prod", reg.bare, stalled))
		require.False(t, resp.Allowed)
		assert.Contains(t, message(resp), "no attestations")
	})
}

func TestBadRequests(t *testing.T) {
	k := newKeys(t)
	h := newHandler(t, checker(t, k, "prod"))
	valid := podReview(t, "prod", "registry.example/app@sha256:"+strings.Repeat("a", 64))
	huge := append([]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"x","object":{"x":"`),
		bytes.Repeat([]byte("a"), admission.MaxBodyBytes)...)
	huge = append(huge, `"}}}`...)
	for _, tc := range []struct {
		name        string
		method      string
		contentType string
		body        []byte
		// unknownLength sends the body without a Content-Length, as a chunked body is.
		unknownLength bool
		status        int
	}{
		{"not JSON", http.MethodPost, "application/json", []byte("{not json"), false, http.StatusBadRequest},
		{"not a review", http.MethodPost, "application/json", []byte(`{"apiVersion":"v1","kind":"Pod"}`), false, http.StatusBadRequest},
		{"no request", http.MethodPost, "application/json", []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}`), false, http.StatusBadRequest},
		{"no uid", http.MethodPost, "application/json", []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{}}`), false, http.StatusBadRequest},
		{"trailing data", http.MethodPost, "application/json", append(append([]byte{}, valid...), `{}`...), false, http.StatusBadRequest},
		{"v1beta1", http.MethodPost, "application/json", bytes.Replace(valid, []byte("admission.k8s.io/v1"), []byte("admission.k8s.io/v1beta1"), 1), false, http.StatusBadRequest},
		{"GET", http.MethodGet, "application/json", nil, false, http.StatusMethodNotAllowed},
		{"text/plain", http.MethodPost, "text/plain", valid, false, http.StatusUnsupportedMediaType},
		{"oversized", http.MethodPost, "application/json", huge, false, http.StatusRequestEntityTooLarge},
		{"oversized without length", http.MethodPost, "application/json", huge, true, http.StatusRequestEntityTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, "/validate", bytes.NewReader(tc.body))
			if tc.unknownLength {
				req.ContentLength = -1
			}
			req.Header.Set("Content-Type", tc.contentType)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			assert.Equal(t, tc.status, rec.Code)
			assert.Contains(t, rec.Body.String(), "admission: bad request: ")
		})
	}

	t.Run("object that does not decode", func(t *testing.T) {
		body := bytes.Replace(podReview(t, "prod", "registry.example/app:v1"), []byte(`"containers":[`), []byte(`"containers":7,"x":[`), 1)
		resp := post(t, h, body)
		require.False(t, resp.Allowed)
		assert.Equal(t, int32(http.StatusBadRequest), resp.Result.Code)
		assert.Contains(t, resp.Result.Message, "cannot read the object")
	})
}

func TestRequestErrorMatches(t *testing.T) {
	cause := errors.New("cause")
	err := error(&admission.RequestError{StatusCode: 400, Reason: "r", Err: cause})
	assert.ErrorIs(t, err, admission.ErrBadRequest)
	assert.ErrorIs(t, err, cause)
	assert.Equal(t, "admission: bad request: r: cause", err.Error())
}

func TestNewRefuses(t *testing.T) {
	k := newKeys(t)
	c := checker(t, k, "prod")
	for name, opts := range map[string][]admission.Option{
		"timeout":        {admission.WithTimeout(time.Minute)},
		"nil opener":     {admission.WithStoreOpener(nil)},
		"empty ns":       {admission.WithNamespace("", c)},
		"nil ns checker": {admission.WithNamespace("dev", nil)},
		"nil logger":     {admission.WithLogger(nil)},
	} {
		_, err := admission.New(c, opts...)
		assert.ErrorIs(t, err, admission.ErrInvalidConfig, name)
	}
	_, err := admission.New(nil)
	assert.ErrorIs(t, err, admission.ErrInvalidConfig)
}
