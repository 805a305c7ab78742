// Package provkit is the map of an SDK for build provenance: generate it from a real build, sign
// it, store it beside the artifact, find it again, verify it, and decide with it. This package
// holds no code; each step is a package of its own.
//
//   - provenance: the shared model. in-toto Statements and SLSA Provenance v1, subjects hashed by
//     streaming, canonical JSON, the signed Bundle and the Store contract.
//   - provenance/collect: facts from a real build: git, CI platform, toolchain, materials, and
//     the environment with secrets redacted.
//   - sign: one Signer for key files, KMS (sign/kms), HSM (sign/pkcs11) and keyless Sigstore;
//     output is a Sigstore bundle v0.3 wrapping DSSE.
//   - verify: checks a bundle against trust material and an expected signer, bound to the
//     artifact digest, and returns the verified statement and only that.
//   - policy: declarative rules over verified results, per environment, explained rule by rule,
//     failing closed.
//   - policy/gate: the one call from an artifact in a store to a decision: discover, fetch,
//     verify, decide, with "no attestations", "none verified", "denied" and "could not check"
//     told apart by errors.Is.
//   - oras: the Store on registries, OCI layouts and memory, finding attestations wherever the
//     ecosystem puts them.
//   - provenance/workflow: one step of a data or science workflow as SLSA provenance.
//   - provenance/diff, provenance/rebuild, provenance/release: what changed between two images
//     or statements, whether a rebuild matched its provenance, and which image was released
//     with which configuration, each as a report or a statement to sign.
//   - verify/lineage and verify/lineage/index: a graph of verified provenance (upstream,
//     downstream, path, who signed each step), exported to PROV-O, RO-Crate, DOT and HTML, and
//     a searchable index of it in SQLite or PostgreSQL; verify/lineage/dashboard serves that
//     index as a read-only web dashboard, and verify/rerun re-runs a recorded step from its
//     verified record and checks what it makes.
//   - provenance/audit and verify/auditlog: provenance events (verified, denied, promoted,
//     retired, ...) signed into a tamper-evident transparency log (C2SP tlog-tiles on
//     transparency-dev/tessera) that anyone holding its public keys can audit.
//   - provenance/lifecycle: an artifact's signed status after release (active, deprecated,
//     retired, revoked) with its successor, and the status in effect among those signed by
//     entitled identities.
//   - provenance/runtime and provenance/runtime/tpm: what a running workload sees (packages,
//     kernel, sysctls, security state, mounts) as a statement about the digest it runs,
//     optionally bound to a TPM quote; gate.Checker.CheckRuntime and Watch compare it with
//     what was built and allowed, and policy/admission enforces decisions at Kubernetes
//     admission, with gate.Cache keeping them.
//   - provenance/vuln: vulnerability scan reports (grype, Trivy, SARIF, OSV-Scanner) read
//     strictly and written as in-toto vulns v0.2 statements, for the policy's vulnerabilities
//     rule.
//
// The whole flow, with errors elided:
//
//	facts, _ := collect.Build(ctx, ".", collect.WithEnv(collect.ProcessEnv()))
//	subject, _ := provenance.SubjectFromDescriptor("registry.example/app", image)
//	statement, _ := facts.Statement([]*intoto.ResourceDescriptor{subject})
//
//	signer, _ := sign.NewKeySigner(key, sign.WithTimestampAuthority(tsaURL))
//	bundle, _ := signer.Sign(ctx, statement)
//
//	store, _ := oras.NewRemote("registry.example/app", oras.WithDefaultDockerConfig())
//	_, _ = store.Attach(ctx, image, bundle)
//
//	verifier, _ := verify.New(trustedKeys)
//	pol, _ := policy.Load(policyFile)
//	checker, _ := gate.New(verifier, verify.KeyIDs("release-2026"), gate.WithPolicy(pol), gate.WithEnvironment("prod"))
//	report, err := checker.Check(ctx, store, image) // discover, fetch, verify, decide
//
// examples/quickstart runs this path offline on an OCI layout; examples/lineage records, queries,
// rebuilds and exports a three-step science pipeline.
//
// # API stability
//
// Before v1, these are stable in shape: a minor release adds to them but changes nothing that
// compiles today, except through the deprecation below.
//
//   - the provenance model: provenance.Bundle, the Store contract, subjects, media types and
//     the Build/Statement builders;
//   - sign.Signer and its constructors;
//   - verify.Verifier, verify.Result and the typed errors with their sentinels;
//   - the policy document format provkit.dev/policy/v1 (a document that loads today loads and decides the same way).
//
// These may change in any minor release, each change listed in CHANGELOG.md: the
// verify/lineage graph and the verify/lineage/index schema and query API, provenance/diff,
// provenance/rebuild and provenance/release, provenance/collect's detail of what it records,
// the oras discovery options, and everything under examples/ and internal/.
//
// A name to be removed is kept for one minor release with a "Deprecated:" paragraph saying what
// replaces it, and removed in the next. .ci/run compares the exported API of every package with
// the last release tag and fails on an incompatible change that CHANGELOG.md's Unreleased
// section does not announce as Breaking, so no break ships unannounced.
//
// # Names
//
// A few names exist in two packages, on purpose; none is renamed, because each reads right
// where it is used and the package name says which is meant.
//
//   - sign.Signer makes signatures (an interface, Sign(ctx, statement)); verify.Signer
//     describes who made a verified signature (a key id or a certificate identity, a struct in
//     a Result). sign/kms.Signer is the KMS implementation of sign.Signer, and
//     policy/policytest.Signer a test fixture. A program that uses both writes sign.Signer and
//     verify.Signer, which say which side it is on.
//   - oras.Attestation is a place in a registry where an attestation was found (descriptor,
//     source, subject) before anything is fetched or verified; policy.Attestation is the record
//     of one verified result inside a Decision. One is unverified input, the other verified
//     evidence; a shared name would hide that they are never interchangeable.
//   - verify.Outcome is the result of one item of VerifyAll (a Result or an error);
//     policy.Outcome is a rule's verdict (pass, fail, warn, skipped); provenance/rebuild.Outcome
//     the verdict of a rebuild check. Each is read only beside its own package's name.
//   - Package oras shares its name with oras-go's root package. Inside provkit, oras-go is
//     always imported as orasgo ("oras.land/oras-go/v2"), and provkit's package keeps the plain
//     name; programs that import both do the same. Likewise sigstore-go's packages are
//     imported as sgsign, sgverify and sgbundle.
package provkit
