//go:build tools

// Package tools pins the versions of the programs that the tests and
// linters of provkit run. It is never built; install.sh builds each main
// package listed here from the versions recorded in go.mod and go.sum.
package tools

import (
	_ "github.com/google/go-containerregistry/cmd/crane"
	_ "github.com/olareg/olareg/cmd/olareg"
	_ "github.com/sigstore/cosign/v3/cmd/cosign"
	_ "github.com/sigstore/timestamp-authority/v2/cmd/timestamp-server"
	_ "honnef.co/go/tools/cmd/staticcheck"
	_ "oras.land/oras/cmd/oras"
)
