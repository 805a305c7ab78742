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
// to a local build; CaptureEnv records an environment by allow-list; LooksSecret is the credential
// scanner every recorded string passes; ProcessToolchain and
// ToolchainFromFile read a Go program's embedded build information; FileMaterial, ImageMaterial
// and ParseImageReference pin materials by digest, or mark them unpinned.
//
// # Keeping secrets out
//
// Nothing can turn this off, and the default records the least:
//
//   - The environment is recorded by allow-list: the variables the detected CI platform documents
//     as describing the run (PlatformEnvNames: run ids, refs, commits, URLs of pages, never its
//     tokens), plus the names the caller asks for with WithEnvNames. Nothing else is recorded,
//     not even its name; a local build records only what was asked for.
//   - A variable on the list is still left out when its name looks secret (SecretNameWords:
//     TOKEN, SECRET, PASS, KEY, AUTH, LOGIN, ...; or a part PWD, PW, SIG, SAS, OTP) or its value
//     holds a credential. Its name, never its value, is listed in redactedEnvironment.
//   - Every string Build puts into the predicate, environment, platform facts, repository URLs,
//     Go build settings, the caller's parameters, material names and URIs, passes the
//     credential scanner (LooksSecret, SecretValueRules): known token formats (GitHub, GitLab,
//     Slack, AWS, Google, Stripe, npm, PyPI, SendGrid, Vault, OpenAI, ...), URL user
//     information, DSNs with passwords, Authorization headers and Bearer or Basic credentials,
//     secret-looking keys with values (key=value, JSON, YAML, command-line flags, -ldflags
//     -X pkg.Password=...), PEM private keys, JWTs and chat webhook URLs. A string in which it
//     finds one becomes Redacted and its field is listed in redactedFields.
//
// The scanner is a compact rule set of its own, not an external detector, so that the package
// keeps to its imports; its rules are fixed and returned as copies.
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
