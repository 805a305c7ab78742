package dashboard_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"path/filepath"
	"testing"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"
	"golang.org/x/mod/sumdb/note"

	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/audit"
	"github.com/provkit/provkit/provenance/lifecycle"
	"github.com/provkit/provkit/provenance/rebuild"
	"github.com/provkit/provkit/provenance/vuln"
	"github.com/provkit/provkit/provenance/workflow"
	"github.com/provkit/provkit/sign"
	"github.com/provkit/provkit/verify"
	"github.com/provkit/provkit/verify/auditlog"
	"github.com/provkit/provkit/verify/lineage/index"
)

// Injection payloads: each would change the page's title, or run, if a page let it through as
// markup.
const (
	scriptPayload = `<script>document.title="pwned"</script>`
	attrPayload   = `"><img src=x onerror="document.title='pwned'">`
	evilSigner    = `<script>document.title='pwned'</script>mallory`
)

// pipeline is a real four-step analysis (ingest, clean, train, plot), each step signed with an
// in-memory key and verified, with a rebuild of the figure, a lifecycle status of the model, a
// vulnerability scan of the training image, tags and audit events, indexed in SQLite. Names,
// parameters and one signer's key id carry injection payloads.
type pipeline struct {
	ix                                            *index.Index
	survey, raw, clean, model, figure, trainImage digest.Digest
	appStaging, appProd                           digest.Digest
	ids                                           map[string]digest.Digest
	figureName                                    string
	keys                                          *verify.Verifier
	signers                                       map[string]crypto.Signer
}

var start = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func file(name string, d digest.Digest) *intoto.ResourceDescriptor {
	return &intoto.ResourceDescriptor{Name: name, Digest: map[string]string{"sha256": d.Encoded()}}
}

// result signs st with the named key and verifies it against subject.
func (p *pipeline) result(t testing.TB, signer string, st *intoto.Statement, subject digest.Digest) *verify.Result {
	t.Helper()
	s, err := sign.NewKeySigner(p.signers[signer])
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Sign(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.keys.Verify(context.Background(), b, subject, verify.KeyIDs("alice", "bob", evilSigner))
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func statementID(t testing.TB, st *intoto.Statement) digest.Digest {
	t.Helper()
	b, err := provenance.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	return digest.FromBytes(b)
}

func newPipeline(t testing.TB) *pipeline {
	t.Helper()
	ctx := context.Background()
	p := &pipeline{
		survey: digest.FromString("survey"), raw: digest.FromString("raw.csv"), clean: digest.FromString("clean.csv"),
		model: digest.FromString("model.bin"), figure: digest.FromString("figure.png"), trainImage: digest.FromString("train image"),
		appStaging: digest.FromString("app 1.4.2"), appProd: digest.FromString("app 1.4.1"),
		ids: map[string]digest.Digest{}, figureName: "figure" + scriptPayload + ".png",
		signers: map[string]crypto.Signer{"alice": newKey(t), "bob": newKey(t), evilSigner: newKey(t)},
	}
	var pubs []verify.PublicKey
	for id, k := range p.signers {
		pubs = append(pubs, verify.PublicKey{ID: id, Key: k.Public()})
	}
	keys, err := verify.TrustedKeys(pubs...)
	if err != nil {
		t.Fatal(err)
	}
	if p.keys, err = verify.New(keys, verify.WithoutTransparencyLog(), verify.WithUntimestampedKeysUnsafe()); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		signer string
		step   *workflow.Step
	}{
		{"alice", &workflow.Step{Name: "ingest", Image: "registry.example/tools/ingest:1.0@" + digest.FromString("ingest image").String(),
			Command: []string{"ingest", "https://data.example/survey.csv", "-o", "raw.csv"},
			Inputs:  []*intoto.ResourceDescriptor{{Uri: "https://data.example/survey.csv", Digest: map[string]string{"sha256": p.survey.Encoded()}}},
			Outputs: []*intoto.ResourceDescriptor{file("raw.csv", p.raw)}}},
		{"alice", &workflow.Step{Name: "clean", Image: "registry.example/tools/clean@" + digest.FromString("clean image").String(),
			Command:    []string{"clean", "--min=-40", "raw.csv"},
			Parameters: map[string]any{"min": -40, "note": attrPayload},
			Inputs:     []*intoto.ResourceDescriptor{file("raw.csv", p.raw)}, Outputs: []*intoto.ResourceDescriptor{file("clean.csv", p.clean)}}},
		{"bob", &workflow.Step{Name: "train", Image: "registry.example/tools/train:2.3@" + p.trainImage.String(),
			Command: []string{"train", "clean.csv"}, Parameters: map[string]any{"seed": 42},
			Inputs: []*intoto.ResourceDescriptor{file("clean.csv", p.clean)}, Outputs: []*intoto.ResourceDescriptor{file("model.bin", p.model)}}},
		{evilSigner, &workflow.Step{Name: "plot" + scriptPayload, Image: "registry.example/tools/plot@" + digest.FromString("plot image").String(),
			Command: []string{"plot", "model.bin"},
			Inputs:  []*intoto.ResourceDescriptor{file("model.bin", p.model)}, Outputs: []*intoto.ResourceDescriptor{file(p.figureName, p.figure)}}},
	}
	var results []*verify.Result
	for i, s := range steps {
		s.step.Workflow, s.step.RunID, s.step.BuilderID = "survey-analysis", "run-7", "https://ci.example/runners/science"
		s.step.StartedOn, s.step.FinishedOn = start.Add(time.Duration(2*i)*time.Minute), start.Add(time.Duration(2*i+1)*time.Minute)
		st, err := s.step.Statement()
		if err != nil {
			t.Fatal(err)
		}
		subject, _ := provenance.ParseDigest("sha256:" + s.step.Outputs[0].GetDigest()["sha256"])
		results = append(results, p.result(t, s.signer, st, subject))
		p.ids[[]string{"ingest", "clean", "train", "plot"}[i]] = statementID(t, st)
		if i == 3 {
			check, err := rebuild.Check(rebuild.Input{Original: st, Rebuilt: []*intoto.ResourceDescriptor{file(p.figureName, p.figure)}, CheckedOn: start.Add(time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			rst, err := check.Statement()
			if err != nil {
				t.Fatal(err)
			}
			results = append(results, p.result(t, "bob", rst, p.figure))
			p.ids["rebuild"] = statementID(t, rst)
		}
	}
	status, err := (&lifecycle.Status{Subject: p.model, State: lifecycle.StateDeprecated, Reason: "retrained with the 2026 survey",
		Effective: start.Add(2 * time.Hour), DecidedBy: "lab-lead@example.org"}).Statement()
	if err != nil {
		t.Fatal(err)
	}
	results = append(results, p.result(t, "alice", status, p.model))
	report := &vuln.Report{Format: vuln.FormatGrype, Scanner: vuln.Scanner{Name: "grype", Version: "0.87.0"}, FinishedOn: start.Add(3 * time.Hour),
		Findings: []vuln.Finding{{ID: "CVE-2026-0001", Severity: vuln.SeverityCritical, Score: "CRITICAL", Method: "nvd"}}}
	scan, err := report.Statement(p.trainImage, "registry.example/tools/train:2.3")
	if err != nil {
		t.Fatal(err)
	}
	results = append(results, p.result(t, "alice", scan, p.trainImage))

	if p.ix, err = index.OpenSQLite(ctx, filepath.Join(t.TempDir(), "index.db")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.ix.Close() })
	if err := p.ix.Add(ctx, results...); err != nil {
		t.Fatal(err)
	}
	p.addEvents(t)
	return p
}

// addEvents ingests a real audit log: the app deployed to staging and prod at two digests, and
// a runtime deviation of the figure's step.
func (p *pipeline) addEvents(t testing.TB) {
	t.Helper()
	ctx := context.Background()
	skey, vkey, err := note.GenerateKey(rand.Reader, "audit.dashboard.test")
	if err != nil {
		t.Fatal(err)
	}
	ns, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	nv, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	key := newKey(t)
	signer, err := sign.NewKeySigner(key)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := verify.TrustedKeys(verify.PublicKey{ID: "audit", Key: key.Public()})
	if err != nil {
		t.Fatal(err)
	}
	v, err := verify.New(keys, verify.WithUntimestampedKeysUnsafe())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	a, err := auditlog.NewAuditor(auditlog.Dir(dir), auditlog.Trust{Checkpoints: nv, Events: v, Signer: verify.KeyIDs("audit")})
	if err != nil {
		t.Fatal(err)
	}
	w, err := auditlog.Open(ctx, dir, ns, signer)
	if err != nil {
		t.Fatal(err)
	}
	at := start.Add(4 * time.Hour)
	for _, e := range []audit.Event{
		{Kind: audit.KindDeployed, Subject: p.appProd, SubjectName: "registry.example/lab/app:1.4", Environment: "prod", Time: at, Actor: "deploy@example.org"},
		{Kind: audit.KindDeployed, Subject: p.appStaging, SubjectName: "registry.example/lab/app:1.4", Environment: "staging", Time: at.Add(time.Minute), Actor: "deploy@example.org"},
		{Kind: audit.KindRuntimeDeviation, Subject: p.figure, Environment: "prod", Time: at.Add(2 * time.Minute), Actor: "watch@example.org",
			Reasons: []string{"the running image differs from the one built"}},
	} {
		if _, err := w.Append(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := p.ix.AddAuditLog(ctx, a); err != nil {
		t.Fatal(err)
	}
}
