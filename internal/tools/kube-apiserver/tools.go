//go:build tools

// Package tools pins kube-apiserver, which the admission webhook tests run
// behind a real control plane. It has a module of its own because kubernetes
// is built from its staging modules through replace directives.
package tools

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
