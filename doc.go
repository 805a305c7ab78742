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
//     a searchable index of it in SQLite or PostgreSQL.
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
package provkit
