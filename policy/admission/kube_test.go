package admission_test

import (
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/provkit/provkit/policy/admission"
)

// controlPlaneAssets returns a directory holding the kube-apiserver and etcd binaries, as
// envtest's KUBEBUILDER_ASSETS.
func controlPlaneAssets(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("PROVKIT_TOOLS_BIN")
	if bin == "" {
		home, err := os.UserHomeDir()
		require.NoError(t, err)
		bin = filepath.Join(home, ".cache", "provkit", "bin")
	}
	binaries := map[string]string{"kube-apiserver": filepath.Join(bin, "kube-apiserver"), "etcd": "/usr/bin/etcd"}
	dir := t.TempDir()
	for name, path := range binaries {
		if _, err := os.Stat(path); err != nil {
			if testing.Short() {
				t.Skipf("%s is not installed", name)
			}
			t.Fatalf("%s is not installed (%v): run make test, which installs it", name, err)
		}
		require.NoError(t, os.Symlink(path, filepath.Join(dir, name)))
	}
	return dir
}

// warnings collects the warnings the API server returns to client-go.
type warnings struct {
	mu   sync.Mutex
	seen []string
}

func (w *warnings) HandleWarningHeader(_ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.seen = append(w.seen, text)
}

func (w *warnings) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := w.seen
	w.seen = nil
	return s
}

// TestKubeAPIServer runs the handler behind a real kube-apiserver and etcd: pods and
// deployments created with client-go are admitted or denied by it.
func TestKubeAPIServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a kube-apiserver and etcd")
	}
	assets := controlPlaneAssets(t)
	t.Setenv("KUBEBUILDER_ASSETS", assets)

	k := newKeys(t)
	reg := newRegistry(t, k)
	h := newHandler(t, checker(t, k, "prod"), admission.WithNamespace("dev", checker(t, k, "dev")), admission.WithTimeout(5*time.Second))

	fail, none := admissionregistrationv1.Fail, admissionregistrationv1.SideEffectClassNone
	path := "validate"
	timeout := int32(10)
	env := &envtest.Environment{
		BinaryAssetsDirectory: assets,
		WebhookInstallOptions: envtest.WebhookInstallOptions{
			ValidatingWebhooks: []*admissionregistrationv1.ValidatingWebhookConfiguration{{
				ObjectMeta: metav1.ObjectMeta{Name: "provkit"},
				Webhooks: []admissionregistrationv1.ValidatingWebhook{{
					Name:         "images.provkit.dev",
					ClientConfig: admissionregistrationv1.WebhookClientConfig{Service: &admissionregistrationv1.ServiceReference{Path: &path}},
					Rules: []admissionregistrationv1.RuleWithOperations{{
						Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
						Rule: admissionregistrationv1.Rule{
							APIGroups:   []string{"", "apps"},
							APIVersions: []string{"v1"},
							Resources:   []string{"pods", "deployments"},
						},
					}},
					FailurePolicy:           &fail,
					SideEffects:             &none,
					AdmissionReviewVersions: []string{"v1"},
					TimeoutSeconds:          &timeout,
				}},
			}},
		},
	}
	start := time.Now()
	cfg, err := env.Start()
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, env.Stop()) })
	t.Logf("control plane up in %s", time.Since(start).Round(time.Millisecond))

	// Serve the handler where the webhook configuration points, with envtest's certificate.
	wo := env.WebhookInstallOptions
	cert, err := tls.LoadX509KeyPair(filepath.Join(wo.LocalServingCertDir, "tls.crt"), filepath.Join(wo.LocalServingCertDir, "tls.key"))
	require.NoError(t, err)
	ln, err := tls.Listen("tcp", net.JoinHostPort(wo.LocalServingHost, strconv.Itoa(wo.LocalServingPort)),
		&tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/validate", h)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
	}()
	t.Cleanup(func() { _ = srv.Close() })

	seen := &warnings{}
	cfg.WarningHandler = seen
	client, err := kubernetes.NewForConfig(cfg)
	require.NoError(t, err)
	ctx := t.Context()
	_, err = client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "dev"}}, metav1.CreateOptions{})
	require.NoError(t, err)

	create := func(ns, name string, images ...string) error {
		p := pod(images...)
		p.Namespace, p.Name = ns, name
		_, err := client.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{})
		return err
	}

	t.Run("attested pod admitted", func(t *testing.T) {
		require.NoError(t, create("default", "attested", reg.attested, reg.attestedTag))
		assert.Empty(t, seen.take())
	})
	t.Run("unattested pod denied", func(t *testing.T) {
		err := create("default", "bare", reg.attested, reg.bare)
		require.Error(t, err)
		assert.True(t, apierrors.IsForbidden(err), "%v", err)
		assert.Contains(t, err.Error(), `admission webhook "images.provkit.dev" denied the request`)
		assert.Contains(t, err.Error(), `spec.containers[1] "c1" image "`+reg.bare+`": no attestations of `+digestOf(reg.bare))
		_, err = client.CoreV1().Pods("default").Get(ctx, "bare", metav1.GetOptions{})
		assert.True(t, apierrors.IsNotFound(err), "%v", err)
	})
	t.Run("wrong builder denied in prod, warned in dev", func(t *testing.T) {
		err := create("default", "laptop", reg.laptop)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "built-by-release")
		require.NoError(t, create("dev", "laptop", reg.laptop))
		w := seen.take()
		require.Len(t, w, 1)
		assert.Contains(t, w[0], "policy warns: built-by-release")
	})
	t.Run("deployment template checked", func(t *testing.T) {
		d := func(name string, images ...string) *appsv1.Deployment {
			labels := map[string]string{"app": name}
			return &appsv1.Deployment{
				ObjectMeta: metav1.ObjectMeta{Name: name},
				Spec: appsv1.DeploymentSpec{
					Selector: &metav1.LabelSelector{MatchLabels: labels},
					Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: podSpec(images...)},
				},
			}
		}
		_, err := client.AppsV1().Deployments("default").Create(ctx, d("bare", reg.bare), metav1.CreateOptions{})
		require.Error(t, err)
		assert.Contains(t, err.Error(), `spec.template.spec.containers[0] "c0"`)
		_, err = client.AppsV1().Deployments("default").Create(ctx, d("attested", reg.attested), metav1.CreateOptions{})
		require.NoError(t, err)
	})
}
