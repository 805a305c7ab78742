//go:build tools

// Package tools pins apidiff, which .ci/run uses to report changes of the exported API since
// the last release tag. It has a module of its own so that golang.org/x/exp never moves the
// versions the other tools build with.
package tools

import _ "golang.org/x/exp/cmd/apidiff"
