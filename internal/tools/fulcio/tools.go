//go:build tools

// Package tools pins the Fulcio certificate authority that the keyless signing tests run with
// its ephemeral CA. It has a module of its own so that Fulcio's dependencies never meet cosign's.
package tools

import _ "github.com/sigstore/fulcio"
