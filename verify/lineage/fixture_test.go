package lineage_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/workflow"
	"github.com/provkit/provkit/sign"
	"github.com/provkit/provkit/verify"
)

// pipeline is a three-step science pipeline run for real on files: ingest a survey export
// into raw.csv, clean it, train a model on it. Each step's statement is signed with a real
// key and verified.
type pipeline struct {
	survey, raw, clean, config, model, metrics digest.Digest // artifacts, sha256
	ingestImage, cleanImage, trainImage        digest.Digest // container images
	bundles                                    map[string]provenance.Bundle
	subjects                                   map[string]digest.Digest // statement -> subject to verify against
	verifier                                   *verify.Verifier
	identity                                   verify.Identity
	alice, bob                                 crypto.Signer
}

func ecdsaKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func writeFile(t testing.TB, dir, name, content string) *intoto.ResourceDescriptor {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	rd, err := provenance.SubjectFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return rd
}

func sha256Of(t testing.TB, rd *intoto.ResourceDescriptor) digest.Digest {
	t.Helper()
	d := digest.NewDigestFromEncoded(digest.SHA256, rd.GetDigest()["sha256"])
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	return d
}

func signStep(t testing.TB, key crypto.Signer, step *workflow.Step) provenance.Bundle {
	t.Helper()
	st, err := step.Statement()
	if err != nil {
		t.Fatal(err)
	}
	return signStatement(t, key, st)
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

func newPipeline(t testing.TB) *pipeline {
	t.Helper()
	dir := t.TempDir()
	alice, bob, mallory := ecdsaKey(t), ecdsaKey(t), ecdsaKey(t)
	p := &pipeline{bundles: map[string]provenance.Bundle{}, subjects: map[string]digest.Digest{}}

	// Step 1, ingest: the survey export as downloaded (CRLF line ends) becomes raw.csv.
	surveyData := "id,age,score\n1,34,7.5\n2,,6.0\n3,51,8.25\n4,28,\n"
	survey := writeFile(t, dir, "survey-export.csv", strings.ReplaceAll(surveyData, "\n", "\r\n"))
	survey.Uri, survey.Name = "https://data.example/surveys/2026/export.csv", ""
	raw := writeFile(t, dir, "raw.csv", surveyData)
	p.survey, p.raw = sha256Of(t, survey), sha256Of(t, raw)
	p.ingestImage = digest.FromString("ingest image manifest")
	start := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	p.bundles["ingest"] = signStep(t, alice, &workflow.Step{
		Name: "ingest", Workflow: "survey-model", RunID: "run-1",
		Image:   "registry.example/tools/ingest:1.0@" + p.ingestImage.String(),
		Command: []string{"ingest", "https://data.example/surveys/2026/export.csv", "-o", "raw.csv"},
		Inputs:  []*intoto.ResourceDescriptor{survey}, Outputs: []*intoto.ResourceDescriptor{raw},
		BuilderID: "https://ci.example/runners/science", StartedOn: start, FinishedOn: start.Add(time.Minute),
	})
	p.subjects["ingest"] = p.raw

	// Step 2, clean: drop rows with an empty field.
	var kept []string
	for _, line := range strings.Split(strings.TrimSpace(surveyData), "\n") {
		if !strings.Contains(line, ",,") && !strings.HasSuffix(line, ",") {
			kept = append(kept, line)
		}
	}
	clean := writeFile(t, dir, "clean.csv", strings.Join(kept, "\n")+"\n")
	p.clean = sha256Of(t, clean)
	p.cleanImage = digest.FromString("clean image manifest")
	p.bundles["clean"] = signStep(t, alice, &workflow.Step{
		Name: "clean", Workflow: "survey-model", RunID: "run-1",
		Image:      "registry.example/tools/clean@" + p.cleanImage.String(),
		Command:    []string{"clean", "--drop-incomplete", "raw.csv", "-o", "clean.csv"},
		Parameters: map[string]any{"dropIncomplete": true},
		Inputs:     []*intoto.ResourceDescriptor{raw}, Outputs: []*intoto.ResourceDescriptor{clean},
		BuilderID: "https://ci.example/runners/science", StartedOn: start.Add(2 * time.Minute), FinishedOn: start.Add(3 * time.Minute),
	})
	p.subjects["clean"] = p.clean

	// Step 3, train: a model (the mean score) and its metrics, from clean.csv and a config file.
	config := writeFile(t, dir, "train.json", `{"target":"score","method":"mean"}`)
	model := writeFile(t, dir, "model.json", `{"mean":7.875}`)
	metrics := writeFile(t, dir, "metrics.json", `{"rows":2}`)
	p.config, p.model, p.metrics = sha256Of(t, config), sha256Of(t, model), sha256Of(t, metrics)
	p.trainImage = digest.FromString("train image manifest")
	train := &workflow.Step{
		Name: "train", Workflow: "survey-model", RunID: "run-1",
		Image:      "registry.example/tools/train:2.3@" + p.trainImage.String(),
		Command:    []string{"train", "--config", "train.json", "clean.csv"},
		Parameters: map[string]any{"seed": 42},
		Inputs:     []*intoto.ResourceDescriptor{clean, config}, Outputs: []*intoto.ResourceDescriptor{model, metrics},
		BuilderID: "https://ci.example/runners/gpu", StartedOn: start.Add(4 * time.Minute), FinishedOn: start.Add(9 * time.Minute),
	}
	p.bundles["train"] = signStep(t, bob, train)
	p.subjects["train"] = p.model

	// The forgery: the same model claimed to come from a poisoned dataset, signed by a key
	// nobody trusts.
	poisoned := writeFile(t, dir, "poisoned.csv", "id,age,score\n1,34,99\n")
	forged := *train
	forged.Inputs = []*intoto.ResourceDescriptor{poisoned}
	p.bundles["forged"] = signStep(t, mallory, &forged)
	p.subjects["forged"] = p.model

	keys, err := verify.TrustedKeys(
		verify.PublicKey{ID: "alice", Key: alice.Public()},
		verify.PublicKey{ID: "bob", Key: bob.Public()},
	)
	if err != nil {
		t.Fatal(err)
	}
	p.verifier, err = verify.New(keys, verify.WithoutTransparencyLog(), verify.WithUntimestampedKeysUnsafe())
	if err != nil {
		t.Fatal(err)
	}
	p.identity = verify.KeyIDs("alice", "bob")
	p.alice, p.bob = alice, bob
	return p
}

// verifyAll verifies the named bundles and returns the results that verified, and the errors of
// the others by name.
func (p *pipeline) verifyAll(t testing.TB, names ...string) ([]*verify.Result, map[string]error) {
	t.Helper()
	var results []*verify.Result
	failed := map[string]error{}
	for _, name := range names {
		res, err := p.verifier.Verify(context.Background(), p.bundles[name], p.subjects[name], p.identity)
		if err != nil {
			failed[name] = err
			continue
		}
		results = append(results, res)
	}
	return results, failed
}
