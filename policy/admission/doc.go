// Package admission is a Kubernetes validating admission webhook: an http.Handler that reads
// an admission.k8s.io/v1 AdmissionReview, checks every container image of the object with a
// gate.Checker, and answers allowed or denied with the policy's explanation.
//
//	checker, _ := gate.New(verifier, verify.KeyIDs("release"), gate.WithPolicy(pol), gate.WithEnvironment("prod"))
//	dev, _ := gate.New(verifier, verify.KeyIDs("release"), gate.WithPolicy(pol), gate.WithEnvironment("dev"))
//	h, _ := admission.New(checker, admission.WithNamespace("dev", dev), admission.WithTimeout(5*time.Second))
//	http.Handle("/validate", h)
//
// # What is checked
//
// Pods, and the pod templates of Deployments, ReplicaSets, StatefulSets, DaemonSets, Jobs and
// CronJobs: the images of their containers, init containers and ephemeral containers. Other
// kinds, and requests without an object (DELETE, CONNECT), are allowed without a check: the
// webhook configuration's rules choose what is sent. Each distinct image is checked once per
// review, by the Checker of the request's namespace (WithNamespace) or the default one.
//
// An image is a reference as Kubernetes reads it: "nginx" is docker.io/library/nginx:latest.
// One that names a digest (repo@sha256:…) is checked at that digest; a tag is resolved in its
// registry once, and the decision is about the digest it names at that moment, unless
// WithRequireDigest denies tags outright. A reference that cannot be parsed is denied with the
// parser's reason.
//
// # Answers
//
// The review is allowed when every image is allowed. A denial carries HTTP status 403 and a
// message naming each denied container, its image and digest, and the gate's reason (the
// policy's failing rules, or that no attestation is attached or none verified). Rules the
// policy runs in warn mode are returned as AdmissionResponse warnings. With WithWarnOnlyUnsafe
// every denial becomes a warning and the review is allowed.
//
// An image that could not be checked (a registry that fails or stalls, an unknown tag, the end
// of the per-request timeout) denies the review: the webhook fails closed, and says so in the
// message. WithFailOpenUnsafe allows it instead, with a warning that says it failed open. The
// handler answers within its timeout (WithTimeout) whatever the registries do.
//
// A body that is not an AdmissionReview, or is over MaxBodyBytes, is answered with an HTTP
// error (400, 405, 413 or 415) and a *RequestError; a review whose object cannot be decoded is
// answered with a denial of code 400. The response echoes the request's UID.
//
// Admit decides one AdmissionRequest without HTTP, for callers that bring their own server.
//
// A Handler is safe for concurrent use.
package admission
