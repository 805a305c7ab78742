//go:build tools

// Package tools pins the Rekor v2 transparency log server (rekor-tiles, POSIX storage) that the
// signing tests write to. It has a module of its own so that its dependencies never meet cosign's.
package tools

import _ "github.com/sigstore/rekor-tiles/v2/cmd/rekor-server/posix"
