// Package collect gathers the facts of a real build, the git source, the CI platform, the
// environment, the Go toolchain and the materials read, and turns them into a provenance.Build
// (SLSA Provenance v1 fields) of type BuildTypeV1.
//
//	b, err := collect.Build(ctx, ".",
//		collect.WithEnv(collect.ProcessEnv()),
//		collect.WithBaseImages("golang:1.26@sha256:..."),
//		collect.WithFiles("go.sum"),
//	)
//	if err != nil { ... }
//	b.FinishedOn = time.Now()
//	st, err := b.Statement(subjects)
//
// # Nothing behind the caller's back
//
// The package reads only what the caller names: the environment is a map the caller passes
// (ProcessEnv is the explicit helper for the running process), files are paths the caller gives,
// and git is asked about the directory given. Times come from a provenance.Clock, and
// SOURCE_DATE_EPOCH in the environment given fixes it, so the same inputs give byte-identical
// statements.
//
// # The pieces
//
// Each fact has its own function, usable alone: Git reads a work tree by running the git program
// (StripCredentials cleans its remote URL); DetectPlatform recognises GitHub Actions, GitLab CI,
// Jenkins, Buildkite, CircleCI and Azure Pipelines from their documented variables and falls back
// to a local build; CaptureEnv records an environment with secrets redacted; ProcessToolchain and
// ToolchainFromFile read a Go program's embedded build information; FileMaterial, ImageMaterial
// and ParseImageReference pin materials by digest, or mark them unpinned.
//
// # Redaction
//
// Redaction cannot be turned off. A variable is redacted when its name contains one of
// SecretNameWords (TOKEN, SECRET, PASSWORD, KEY, AUTH, ...) or its value matches one of
// SecretValueRules (cloud and forge tokens, JWTs, PEM private keys, URLs with passwords, ...).
// The value becomes Redacted and the name is listed, so a reader learns that the variable was
// set but not its value. Platform facts and Go build settings pass the value rules too, and
// repository URLs lose their credentials. Both rule sets are fixed and returned as copies.
//
// # Errors
//
// Failures wrap one of the Err* sentinels, often through a typed error (GitError, MaterialError,
// BuildInfoError) that carries details; compare with errors.Is and errors.As.
//
// The package imports only the standard library, provenance, the in-toto attestation types,
// go-digest and protobuf. Its functions are safe for concurrent use; the values they return are
// not shared.
package collect
