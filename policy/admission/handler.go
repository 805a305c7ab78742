package admission

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kjson "sigs.k8s.io/json"

	"github.com/provkit/provkit/oras"
	"github.com/provkit/provkit/policy"
	"github.com/provkit/provkit/policy/gate"
)

// maxChecks is how many images of one review are checked at once.
const maxChecks = 8

// Handler answers admission.k8s.io/v1 AdmissionReviews with the decisions of gate Checkers.
// It is safe for concurrent use.
type Handler struct {
	checker *gate.Checker
	cfg     config
	// manifests remembers the descriptors of images named by digest, by repository and
	// digest: content addressed, they never change, so only tags are resolved on every review.
	manifests *lru.Cache[string, ocispec.Descriptor]
}

// maxManifests is how many descriptors of images named by digest a Handler remembers.
const maxManifests = 4096

// New returns a Handler that checks images with checker, or with the Checker WithNamespace
// gives the request's namespace.
func New(checker *gate.Checker, opts ...Option) (*Handler, error) {
	if checker == nil {
		return nil, fmt.Errorf("%w: nil Checker", ErrInvalidConfig)
	}
	cfg := config{namespaces: map[string]*gate.Checker{}, timeout: DefaultTimeout}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	if cfg.open == nil {
		cfg.open = RemoteOpener()
	}
	if cfg.logger == nil {
		cfg.logger = slog.New(slog.DiscardHandler)
	}
	manifests, err := lru.New[string, ocispec.Descriptor](maxManifests)
	if err != nil {
		return nil, err
	}
	return &Handler{checker: checker, cfg: cfg, manifests: manifests}, nil
}

// ServeHTTP reads an AdmissionReview from a POST body of type application/json and writes the
// review with its response. A request it cannot read is answered with the HTTP status and
// message of a *RequestError.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	review, err := readReview(w, r)
	if err != nil {
		var re *RequestError
		errors.As(err, &re)
		h.cfg.logger.Warn("admission: request refused", "status", re.StatusCode, "err", err)
		http.Error(w, err.Error(), re.StatusCode)
		return
	}
	resp := h.Admit(r.Context(), review.Request)
	out := admissionv1.AdmissionReview{TypeMeta: review.TypeMeta, Response: resp}
	body, err := json.Marshal(&out)
	if err != nil {
		http.Error(w, "admission: encode response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}

// readReview reads and validates the AdmissionReview of r.
func readReview(w http.ResponseWriter, r *http.Request) (*admissionv1.AdmissionReview, error) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return nil, &RequestError{StatusCode: http.StatusMethodNotAllowed, Reason: "method " + r.Method + " is not POST"}
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return nil, &RequestError{StatusCode: http.StatusUnsupportedMediaType, Reason: fmt.Sprintf("content type %q is not application/json", r.Header.Get("Content-Type"))}
	}
	if r.ContentLength > MaxBodyBytes {
		return nil, &RequestError{StatusCode: http.StatusRequestEntityTooLarge, Reason: fmt.Sprintf("body of %d bytes is over the limit of %d", r.ContentLength, MaxBodyBytes)}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, &RequestError{StatusCode: http.StatusRequestEntityTooLarge, Reason: fmt.Sprintf("body is over the limit of %d bytes", MaxBodyBytes)}
		}
		return nil, &RequestError{StatusCode: http.StatusBadRequest, Reason: "read body", Err: err}
	}
	// Field names are matched exactly, as the API server's own decoding does; unknown fields
	// are allowed, so a newer API server's reviews still read. Data after the review is not.
	var review admissionv1.AdmissionReview
	if err := kjson.UnmarshalCaseSensitivePreserveInts(body, &review); err != nil {
		return nil, &RequestError{StatusCode: http.StatusBadRequest, Reason: "body is not an AdmissionReview", Err: err}
	}
	if review.APIVersion != admissionv1.SchemeGroupVersion.String() || review.Kind != "AdmissionReview" {
		return nil, &RequestError{StatusCode: http.StatusBadRequest,
			Reason: fmt.Sprintf("apiVersion %q kind %q: want %s AdmissionReview", review.APIVersion, review.Kind, admissionv1.SchemeGroupVersion)}
	}
	if review.Request == nil || review.Request.UID == "" {
		return nil, &RequestError{StatusCode: http.StatusBadRequest, Reason: "the AdmissionReview has no request, or no request uid"}
	}
	return &review, nil
}

// Admit decides req: it checks every container image of req's object and answers with req's
// UID. It returns within the Handler's timeout.
func (h *Handler) Admit(ctx context.Context, req *admissionv1.AdmissionRequest) *admissionv1.AdmissionResponse {
	resp := &admissionv1.AdmissionResponse{UID: req.UID, Allowed: true}
	if len(req.Object.Raw) == 0 {
		// DELETE and CONNECT carry no object to run.
		return resp
	}
	spec, at, ok, err := podSpecOf(req)
	if !ok {
		return resp
	}
	if err != nil {
		resp.Allowed = false
		resp.Result = &metav1.Status{Status: metav1.StatusFailure, Code: http.StatusBadRequest, Reason: metav1.StatusReasonBadRequest,
			Message: "provkit: cannot read the object: " + err.Error()}
		return resp
	}
	checker := h.checker
	if c, ok := h.cfg.namespaces[req.Namespace]; ok {
		checker = c
	}
	ctrs := containers(spec, at)
	verdicts := h.checkAll(ctx, checker, ctrs)

	var denied []string
	for _, c := range ctrs {
		v := verdicts[c.Image]
		line := fmt.Sprintf("%s image %q", c.Path, c.Image)
		if v.digest != "" && !strings.Contains(c.Image, v.digest.String()) {
			line += " (" + v.digest.String() + ")"
		}
		switch {
		case v.err == nil:
			for _, w := range v.warnings {
				resp.Warnings = append(resp.Warnings, line+": "+w)
			}
		case v.notChecked && h.cfg.failOpen:
			resp.Warnings = append(resp.Warnings, line+": "+v.err.Error()+"; allowed: the webhook fails open")
		case v.notChecked:
			denied = append(denied, line+": "+v.err.Error()+"; denied: the webhook fails closed")
		case h.cfg.warnOnly:
			resp.Warnings = append(resp.Warnings, line+": would be denied: "+v.err.Error())
		default:
			denied = append(denied, line+": "+v.err.Error())
		}
	}
	h.cfg.logger.Info("admission: decided", "uid", req.UID, "kind", req.Kind.Kind, "namespace", req.Namespace,
		"name", req.Name, "images", len(verdicts), "denied", len(denied), "warnings", len(resp.Warnings))
	if len(denied) > 0 {
		resp.Allowed = false
		resp.Result = &metav1.Status{Status: metav1.StatusFailure, Code: http.StatusForbidden, Reason: metav1.StatusReasonForbidden,
			Message: "provkit: denied: " + strings.Join(denied, "; ")}
	}
	return resp
}

// verdict is the outcome of one image.
type verdict struct {
	digest digest.Digest
	// err is nil when the image is allowed.
	err error
	// notChecked tells an image that could not be checked from one that is denied.
	notChecked bool
	// warnings are the policy's warn-mode rules that did not hold.
	warnings []string
}

// checkAll checks each distinct image of ctrs, at most maxChecks at once, and returns by the
// end of the Handler's timeout whatever the checks do: an image not decided by then is not
// checked.
func (h *Handler) checkAll(ctx context.Context, checker *gate.Checker, ctrs []container) map[string]verdict {
	ctx, cancel := context.WithTimeout(ctx, h.cfg.timeout)
	defer cancel()
	var images []string
	seen := map[string]bool{}
	for _, c := range ctrs {
		if !seen[c.Image] {
			seen[c.Image] = true
			images = append(images, c.Image)
		}
	}
	type result struct {
		image string
		v     verdict
	}
	// Buffered for every image, so that a check ending after the answer does not block.
	results := make(chan result, len(images))
	sem := make(chan struct{}, maxChecks)
	for _, image := range images {
		go func() {
			select {
			case sem <- struct{}{}:
				defer func() { <-sem }()
				results <- result{image, h.check(ctx, checker, image)}
			case <-ctx.Done():
			}
		}()
	}
	out := make(map[string]verdict, len(images))
	for len(out) < len(images) {
		select {
		case r := <-results:
			out[r.image] = r.v
		case <-ctx.Done():
			for _, image := range images {
				if _, ok := out[image]; !ok {
					out[image] = timeout(h.cfg.timeout)
				}
			}
		}
	}
	return out
}

func timeout(d time.Duration) verdict {
	return verdict{err: fmt.Errorf("%w: not checked within %s", ErrTimeout, d), notChecked: true}
}

// check resolves image and checks it with checker.
func (h *Handler) check(ctx context.Context, checker *gate.Checker, image string) verdict {
	if image == "" {
		return verdict{err: fmt.Errorf("%w: empty", ErrInvalidImage)}
	}
	ref, err := oras.ParseRemoteReference(normalize(image))
	if err != nil || ref.Repository == "" {
		if err == nil {
			err = errors.New("names no registry repository")
		}
		return verdict{err: fmt.Errorf("%w: %w", ErrInvalidImage, err)}
	}
	if ref.Digest == "" && h.cfg.requireDigest {
		return verdict{err: fmt.Errorf("%w: tag %q names no digest, and digests are required (write the image as repository@sha256:…)", ErrNoDigest, ref.Tag)}
	}
	notChecked := func(d digest.Digest, err error) verdict {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w: not checked within %s: %w", ErrTimeout, h.cfg.timeout, err)
		}
		return verdict{digest: d, err: err, notChecked: true}
	}
	store, err := h.cfg.open(ctx, ref.Registry+"/"+ref.Repository)
	if err != nil {
		return notChecked("", fmt.Errorf("open %s/%s: %w", ref.Registry, ref.Repository, err))
	}
	pinned := ref.Registry + "/" + ref.Repository + "@" + ref.Digest.String()
	desc, known := ocispec.Descriptor{}, false
	if ref.Digest != "" {
		desc, known = h.manifests.Get(pinned)
	}
	if !known {
		desc, err = store.Resolve(ctx, ref.TagOrDigest())
		if err != nil {
			return notChecked(ref.Digest, fmt.Errorf("resolve: %w", err))
		}
		if ref.Digest != "" && desc.Digest != ref.Digest {
			return notChecked(ref.Digest, fmt.Errorf("resolve: the registry answered %s for %s", desc.Digest, ref.Digest))
		}
		if ref.Digest != "" {
			h.manifests.Add(pinned, desc)
		}
	}
	return h.decide(ctx, checker, store, desc)
}

// decide turns checker's outcome for desc into a verdict.
func (h *Handler) decide(ctx context.Context, checker *gate.Checker, store *oras.Store, desc ocispec.Descriptor) verdict {
	report, err := checker.Check(ctx, store, desc)
	v := verdict{digest: desc.Digest, err: err}
	switch {
	case err == nil:
		if report != nil && report.Decision != nil {
			for _, r := range report.Decision.Rules {
				if r.Outcome == policy.OutcomeWarn {
					v.warnings = append(v.warnings, "policy warns: "+r.Name+": "+r.Reason)
				}
			}
		}
	case errors.Is(err, policy.ErrDenied):
	default:
		v.notChecked = true
		if ctx.Err() != nil {
			v.err = fmt.Errorf("%w: not checked within %s: %w", ErrTimeout, h.cfg.timeout, err)
		}
	}
	return v
}
