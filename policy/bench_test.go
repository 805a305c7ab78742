package policy_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/provkit/provkit/policy"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/verify"
)

// benchPolicy has 20 rules, 10 of them CEL, all of which pass on build(t, nil) signed by alice.
const benchPolicy = header + `rules:
  - name: signed
    signers: {identities: [{keyId: alice}, {keyId: bob}]}
  - name: attested
    requiredAttestations: {predicateTypes: ["https://slsa.dev/provenance/v1"]}
  - name: builder
    slsa:
      builders: [{id: "` + testBuilder + `", versions: ">=v2.0.0 <v3.0.0"}]
  - name: build-type
    slsa: {buildTypes: ["` + testBuildType + `"]}
  - name: source
    slsa:
      source: {repositories: ["` + testRepo + `"], tagVersions: ">=v1.0.0"}
  - name: workflow
    slsa:
      externalParameters: {workflow.path: .github/workflows/release.yml}
  - name: pinned
    materials: {requirePinned: true, deny: ["*evil*"]}
  - name: base-image
    materials: {baseImages: {registries: [cgr.dev], requirePinned: true}}
  - name: fresh
    freshness: {maxAge: 30d}
  - name: no-secrets
    environment:
      forbiddenVariables: ["*_TOKEN", "*SECRET*", "*PASSWORD*"]
      forbiddenValues: ["ghp_[A-Za-z0-9]{36}", "AKIA[0-9A-Z]{16}"]
      requiredParameters: [externalParameters.workflow.ref]
  - name: cel-build-type
    cel: {expression: 'predicate.buildDefinition.buildType.startsWith("https://")'}
  - name: cel-hosted
    cel: {expression: 'predicate.buildDefinition.internalParameters.github.runner_environment == "github-hosted"'}
  - name: cel-event
    cel: {expression: 'predicate.buildDefinition.internalParameters.github.event_name in ["push", "release"]'}
  - name: cel-tag
    cel: {expression: 'predicate.buildDefinition.externalParameters.workflow.ref.startsWith("refs/tags/v")'}
  - name: cel-signer
    cel: {expression: 'signer.keyId in ["alice", "bob"] || signer.issuer == "https://token.actions.githubusercontent.com"'}
  - name: cel-timestamped
    cel: {expression: 'hasSignedAt && timestamps.size() > 0 && now - signedAt < duration("720h")'}
  - name: cel-subject
    cel: {expression: 'statement.subject.exists(s, "sha256:" + s.digest.sha256 == subject)'}
  - name: cel-deps
    cel: {expression: 'predicate.buildDefinition.resolvedDependencies.all(d, has(d.digest))'}
  - name: cel-builder
    cel: {expression: 'predicate.runDetails.builder.id.contains("slsa-framework")'}
  - name: cel-finished
    cel: {expression: 'has(predicate.runDetails.metadata.finishedOn)'}
`

// BenchmarkGate compares, in one run, verifying one key-signed bundle (with an RFC 3161
// timestamp, and without) with evaluating a 20-rule policy (10 CEL) on its result, and loading
// (compiling) that policy.
func BenchmarkGate(b *testing.B) {
	k := newKit(b)
	st := build(b, nil)
	payload, err := provenance.Marshal(st)
	if err != nil {
		b.Fatal(err)
	}
	bundle := k.bundle(b, "alice", payload, true)
	id := verify.KeyIDs("alice")
	ctx := context.Background()
	res, err := k.timed.Verify(ctx, bundle, artifact, id)
	if err != nil {
		b.Fatal(err)
	}
	p := load(b, benchPolicy)
	if len(p.Rules()) != 20 {
		b.Fatalf("%d rules", len(p.Rules()))
	}
	at, _ := res.SignedAt()
	if d, err := p.Evaluate(artifact, []*verify.Result{res}, at); err != nil {
		b.Fatalf("the benchmark policy must pass: %v %+v", err, d)
	}
	b.Run("verify", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(bundle.Data)))
		for b.Loop() {
			if _, err := k.timed.Verify(ctx, bundle, artifact, id); err != nil {
				b.Fatal(err)
			}
		}
	})
	untimed := k.bundle(b, "alice", payload, false)
	b.Run("verify-untimed", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(untimed.Data)))
		for b.Loop() {
			if _, err := k.untimed.Verify(ctx, untimed, artifact, id); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("evaluate", func(b *testing.B) {
		b.ReportAllocs()
		results := []*verify.Result{res}
		for b.Loop() {
			if _, err := p.Evaluate(artifact, results, at); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("load", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(benchPolicy)))
		for b.Loop() {
			if _, err := policy.Load(strings.NewReader(benchPolicy)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// nestedPolicy is a 200 KB document of nested flow sequences under a rule.
func nestedPolicy() []byte {
	const n = 100 << 10
	return []byte(header + "rules: " + strings.Repeat("[", n) + strings.Repeat("]", n) + "\n")
}

// BenchmarkLoadNested measures refusing a deeply nested document.
func BenchmarkLoadNested(b *testing.B) {
	data := nestedPolicy()
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := policy.Load(bytes.NewReader(data)); err == nil {
			b.Fatal("nested document loaded")
		}
	}
}
