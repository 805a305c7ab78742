package index

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"testing"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"
	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/workflow"
	"github.com/provkit/provkit/sign"
	"github.com/provkit/provkit/verify"
)

const (
	predicateVulns = "https://in-toto.io/attestation/vulns/v0.2"
	appRepo        = "https://github.com/example/app"
	appCommit      = "4f2e1c0d9b8a7f6e5d4c3b2a1f0e9d8c7b6a5f4e"
	appBuilder     = "https://github.com/actions/runner/github-hosted"
	appIssuer      = "https://token.actions.githubusercontent.com"
	appSAN         = "https://github.com/example/app/.github/workflows/release.yml@" + appRef
	appRef         = "refs/tags/v1.0.0"
	promoteSAN     = "https://github.com/example/app/.github/workflows/promote.yml@refs/heads/main"
	science        = "https://ci.example/runners/science"
	gpu            = "https://ci.example/runners/gpu"
)

// fixture is a three-step science pipeline (ingest, clean, train) signed with real keys, a
// container build signed keylessly by a release workflow, with a certificate from a test CA
// that carries Fulcio extensions and a verified signing time (see testCA),
// and a vulnerability scan of the container. Every result is a genuine *verify.Result. A
// forged train step, signed by a key nobody trusts, fails verification and so never reaches
// the index.
type fixture struct {
	survey, raw, clean, config, model, metrics, poisoned, app, base digest.Digest
	clean512                                                        digest.Digest // clean.csv's sha512, also a subject
	results                                                         map[string]*verify.Result
	ids                                                             map[string]digest.Digest // statement ids, by step
	forgedErr                                                       error
	aliceKey, bobKey                                                crypto.Signer
	keys                                                            *verify.Verifier
	ca                                                              *testCA
}

// releaseExtensions are the Fulcio extensions of the certificate of the release workflow that
// signs the container build: a tag of example/app.
func releaseExtensions() certificate.Extensions {
	return certificate.Extensions{
		Issuer:                   appIssuer,
		BuildSignerURI:           appSAN,
		SourceRepositoryURI:      appRepo,
		SourceRepositoryRef:      appRef,
		SourceRepositoryDigest:   appCommit,
		RunInvocationURI:         appRepo + "/actions/runs/7/attempts/1",
		GithubWorkflowRepository: "example/app",
	}
}

// promoteExtensions are those of the promote workflow, which runs from the main branch of
// the same repository and signs the container build again.
func promoteExtensions() certificate.Extensions {
	return certificate.Extensions{
		Issuer:                   appIssuer,
		BuildSignerURI:           promoteSAN,
		SourceRepositoryURI:      appRepo,
		SourceRepositoryRef:      "refs/heads/main",
		SourceRepositoryDigest:   appCommit,
		RunInvocationURI:         appRepo + "/actions/runs/9/attempts/1",
		GithubWorkflowRepository: "example/app",
	}
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func file(name string, d digest.Digest) *intoto.ResourceDescriptor {
	return &intoto.ResourceDescriptor{Name: name, Digest: map[string]string{d.Algorithm().String(): d.Encoded()}}
}

// statementID is the sha256 of the statement's canonical form, computed here on its own.
func statementID(t testing.TB, st *intoto.Statement) digest.Digest {
	t.Helper()
	b, err := provenance.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	return digest.FromBytes(b)
}

func signStatement(t testing.TB, key crypto.Signer, st *intoto.Statement) provenance.Bundle {
	t.Helper()
	s, err := sign.NewKeySigner(key)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Sign(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (f *fixture) verifyKey(t testing.TB, key crypto.Signer, st *intoto.Statement, subject digest.Digest) (*verify.Result, error) {
	t.Helper()
	return f.keys.Verify(context.Background(), signStatement(t, key, st), subject, verify.KeyIDs("alice", "bob"))
}

func stepStatement(t testing.TB, s *workflow.Step) *intoto.Statement {
	t.Helper()
	st, err := s.Statement()
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	alice, bob, mallory := newKey(t), newKey(t), newKey(t)
	f := &fixture{
		survey: digest.FromString("survey export"), raw: digest.FromString("raw.csv"),
		clean: digest.FromString("clean.csv"), config: digest.FromString("train.json"),
		model: digest.FromString("model.json"), metrics: digest.FromString("metrics.json"),
		poisoned: digest.FromString("poisoned.csv"), app: digest.FromString("app image manifest"),
		base: digest.FromString("base image manifest"), clean512: digest.SHA512.FromString("clean.csv"),
		results: map[string]*verify.Result{}, ids: map[string]digest.Digest{},
		aliceKey: alice, bobKey: bob,
	}
	keys, err := verify.TrustedKeys(verify.PublicKey{ID: "alice", Key: alice.Public()}, verify.PublicKey{ID: "bob", Key: bob.Public()})
	if err != nil {
		t.Fatal(err)
	}
	if f.keys, err = verify.New(keys, verify.WithoutTransparencyLog(), verify.WithUntimestampedKeysUnsafe()); err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	survey := &intoto.ResourceDescriptor{Uri: "https://data.example/surveys/2026/export.csv", Digest: map[string]string{"sha256": f.survey.Encoded()}}
	steps := map[string]*workflow.Step{
		"ingest": {
			Name: "ingest", Workflow: "survey-model", RunID: "run-1",
			Image:   "registry.example/tools/ingest:1.0@" + digest.FromString("ingest image").String(),
			Command: []string{"ingest", "https://data.example/surveys/2026/export.csv", "-o", "raw.csv"},
			Inputs:  []*intoto.ResourceDescriptor{survey}, Outputs: []*intoto.ResourceDescriptor{file("raw.csv", f.raw)},
			BuilderID: science, StartedOn: start, FinishedOn: start.Add(time.Minute),
		},
		"clean": {
			Name: "clean", Workflow: "survey-model", RunID: "run-1",
			Image:      "registry.example/tools/clean@" + digest.FromString("clean image").String(),
			Command:    []string{"clean", "--drop-incomplete", "raw.csv", "-o", "clean.csv"},
			Parameters: map[string]any{"dropIncomplete": true},
			Inputs:     []*intoto.ResourceDescriptor{file("raw.csv", f.raw)},
			Outputs: []*intoto.ResourceDescriptor{{Name: "clean.csv",
				Digest: map[string]string{"sha256": f.clean.Encoded(), "sha512": f.clean512.Encoded()}}},
			BuilderID: science, StartedOn: start.Add(2 * time.Minute), FinishedOn: start.Add(3 * time.Minute),
		},
		"train": {
			Name: "train", Workflow: "survey-model", RunID: "run-1",
			Image:      "registry.example/tools/train:2.3@" + digest.FromString("train image").String(),
			Command:    []string{"train", "--config", "train.json", "clean.csv"},
			Parameters: map[string]any{"seed": 42, "optimizer": map[string]any{"name": "adam", "rate": 0.5}},
			Inputs:     []*intoto.ResourceDescriptor{file("clean.csv", f.clean), file("train.json", f.config)},
			Outputs:    []*intoto.ResourceDescriptor{file("model.json", f.model), file("metrics.json", f.metrics)},
			BuilderID:  gpu, StartedOn: start.Add(4 * time.Minute), FinishedOn: start.Add(9 * time.Minute),
		},
	}
	signers := map[string]crypto.Signer{"ingest": alice, "clean": alice, "train": bob}
	subjects := map[string]digest.Digest{"ingest": f.raw, "clean": f.clean, "train": f.model}
	for _, name := range []string{"ingest", "clean", "train"} {
		st := stepStatement(t, steps[name])
		res, err := f.verifyKey(t, signers[name], st, subjects[name])
		if err != nil {
			t.Fatalf("verify %s: %v", name, err)
		}
		f.results[name], f.ids[name] = res, statementID(t, st)
	}

	// The forgery: the model claimed to come from a poisoned dataset, signed by mallory.
	forged := *steps["train"]
	forged.Inputs = []*intoto.ResourceDescriptor{file("poisoned.csv", f.poisoned)}
	if _, f.forgedErr = f.verifyKey(t, mallory, stepStatement(t, &forged), f.model); f.forgedErr == nil {
		t.Fatal("forged step verified")
	}

	// A container build from a tagged commit, signed keylessly with a verified signing time.
	src := &intoto.ResourceDescriptor{Uri: provenance.GitURI(appRepo, "refs/tags/v1.0.0"), Digest: map[string]string{"gitCommit": appCommit}}
	setRole(t, src, provenance.RoleSource)
	base := &intoto.ResourceDescriptor{Name: "cgr.dev/chainguard/static:latest", Digest: map[string]string{"sha256": f.base.Encoded()}}
	setRole(t, base, provenance.RoleBaseImage)
	build := &provenance.Build{
		BuildType: "https://actions.github.io/buildtypes/workflow/v1",
		ExternalParameters: map[string]any{
			"workflow": map[string]any{"repository": appRepo, "ref": "refs/tags/v1.0.0", "path": ".github/workflows/release.yml"},
		},
		ResolvedDependencies: []*intoto.ResourceDescriptor{src, base},
		BuilderID:            appBuilder,
		StartedOn:            start, FinishedOn: start.Add(5 * time.Minute),
	}
	buildSt, err := build.Statement([]*intoto.ResourceDescriptor{file("registry.example/app", f.app)})
	if err != nil {
		t.Fatal(err)
	}
	f.ca = newTestCA(t, nil)
	f.results["build"] = f.ca.signAndVerify(t, buildSt, f.app, appSAN, releaseExtensions())
	f.ids["build"] = statementID(t, buildSt)

	// A vulnerability scan of the container: another predicate type, about the same artifact.
	pred, err := structpb.NewStruct(map[string]any{"scanner": map[string]any{"uri": "pkg:github/aquasecurity/trivy@0.58.0"}})
	if err != nil {
		t.Fatal(err)
	}
	scan := &intoto.Statement{
		Type: intoto.StatementTypeUri, PredicateType: predicateVulns, Predicate: pred,
		Subject: []*intoto.ResourceDescriptor{file("registry.example/app", f.app)},
	}
	if f.results["scan"], err = f.verifyKey(t, alice, scan, f.app); err != nil {
		t.Fatalf("verify scan: %v", err)
	}
	f.ids["scan"] = statementID(t, scan)
	return f
}

func setRole(t testing.TB, rd *intoto.ResourceDescriptor, role string) {
	t.Helper()
	s, err := structpb.NewStruct(map[string]any{provenance.AnnotationRole: role})
	if err != nil {
		t.Fatal(err)
	}
	rd.Annotations = s
}

// all returns the verified results in a fixed order.
func (f *fixture) all() []*verify.Result {
	return []*verify.Result{f.results["ingest"], f.results["clean"], f.results["train"], f.results["build"], f.results["scan"]}
}
