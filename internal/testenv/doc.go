// Package testenv gives tests the outside programs and servers that
// `make test` provides, and in-process registries that need none.
//
// The outside programs (a distribution registry, an olareg registry, a
// timestamp authority, PostgreSQL, cosign, oras, crane and SoftHSM) are
// started by internal/tools/services.sh, which writes their addresses and
// paths to an env file as PROVKIT_TEST_* variables. `make test` sources
// that file before it runs go test. Each helper here returns one of those
// values, or skips the test when the variable is not set, so that a plain
// `go test ./...` runs everything that needs no outside program and skips
// the rest with a message that tells how to run it.
//
// OlaregServer and GGCRServer start registries inside the test process and
// are always available.
package testenv
