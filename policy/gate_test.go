package policy_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	vsa "github.com/in-toto/attestation/go/predicates/vsa/v1"
	"github.com/opencontainers/go-digest"

	"github.com/provkit/provkit/policy"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/verify"
)

const gatePolicy = header + `rules:
  - name: signed
    signers:
      identities: [{keyId: alice}]
  - name: fresh
    freshness: {maxAge: 1h}
  - name: sbom
    requiredAttestations: {predicateTypes: ["https://spdx.dev/Document"]}
environments:
  dev:
    rules: {signed: enforce, sbom: warn}
  staging:
    defaultMode: enforce
    rules: {sbom: warn}
  prod:
    defaultMode: enforce
  sandbox:
    allowEmpty: true
  empty: {}
`

func TestGate(t *testing.T) {
	k := newKit(t)
	p := load(t, gatePolicy)
	prov := k.keyResult(t, "alice", build(t, nil))
	signedAt, _ := prov.SignedAt()
	cases := []struct {
		name    string
		env     string
		results []*verify.Result
		after   time.Duration
		allowed bool
		outcome map[string]policy.Outcome
		reason  string // substring of a decision-wide reason
	}{
		{name: "dev warns about the missing sbom", env: "dev", results: []*verify.Result{prov}, allowed: true,
			outcome: map[string]policy.Outcome{"signed": policy.OutcomePass, "fresh": policy.OutcomeSkipped, "sbom": policy.OutcomeWarn}},
		{name: "staging enforces freshness", env: "staging", results: []*verify.Result{prov}, after: 2 * time.Hour,
			outcome: map[string]policy.Outcome{"signed": policy.OutcomePass, "fresh": policy.OutcomeFail, "sbom": policy.OutcomeWarn}},
		{name: "prod needs the sbom", env: "prod", results: []*verify.Result{prov},
			outcome: map[string]policy.Outcome{"signed": policy.OutcomePass, "fresh": policy.OutcomePass, "sbom": policy.OutcomeFail}},
		{name: "no results deny", env: "dev", results: nil, reason: "no verified attestations",
			outcome: map[string]policy.Outcome{"signed": policy.OutcomeFail, "sbom": policy.OutcomeWarn}},
		{name: "nil result denies", env: "dev", results: []*verify.Result{prov, nil}, reason: "result 1 is nil",
			outcome: map[string]policy.Outcome{"signed": policy.OutcomePass}},
		{name: "empty environment denies", env: "empty", results: []*verify.Result{prov}, reason: "selects no rules",
			outcome: map[string]policy.Outcome{"signed": policy.OutcomeSkipped}},
		{name: "explicitly empty environment allows", env: "sandbox", results: []*verify.Result{prov}, allowed: true,
			outcome: map[string]policy.Outcome{"signed": policy.OutcomeSkipped}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, err := p.Gate(c.env, artifact, c.results, signedAt.Add(c.after))
			if d == nil {
				t.Fatalf("no decision: %v", err)
			}
			if c.allowed {
				if err != nil || !d.Allowed() || d.Verdict != policy.VerdictAllow {
					t.Fatalf("err %v verdict %s, want allow", err, d.Verdict)
				}
			} else {
				var de *policy.DeniedError
				if !errors.As(err, &de) || !errors.Is(err, policy.ErrDenied) || d.Allowed() {
					t.Fatalf("err %v verdict %s, want a denial", err, d.Verdict)
				}
			}
			for name, want := range c.outcome {
				if r, _ := d.Rule(name); r.Outcome != want {
					t.Errorf("rule %s: %s (%s), want %s", name, r.Outcome, r.Reason, want)
				}
			}
			if c.reason != "" && !strings.Contains(strings.Join(d.Reasons, ";"), c.reason) {
				t.Errorf("reasons %q lack %q", d.Reasons, c.reason)
			}
		})
	}
	t.Run("unknown environment", func(t *testing.T) {
		d, err := p.Gate("qa", artifact, []*verify.Result{prov}, signedAt)
		if !errors.Is(err, policy.ErrUnknownEnvironment) || d != nil {
			t.Fatalf("d %v err %v, want ErrUnknownEnvironment", d, err)
		}
	})
	t.Run("results about another subject are ignored", func(t *testing.T) {
		other := digest.FromString("not the artifact")
		d, err := p.Gate("dev", other, []*verify.Result{prov}, signedAt)
		if !errors.Is(err, policy.ErrDenied) {
			t.Fatalf("err %v, want denial", err)
		}
		if !strings.Contains(d.Attestations[0].Ignored, "about subject") {
			t.Fatalf("attestation not ignored: %+v", d.Attestations[0])
		}
	})
}

func TestWarnModeStillDeniesOnEvaluationError(t *testing.T) {
	k := newKit(t)
	p := load(t, header+"rules:\n  - name: broken\n    cel: {expression: 'predicate.missing == 1'}\nenvironments:\n  dev: {defaultMode: warn}\n")
	d, err := p.Gate("dev", artifact, []*verify.Result{k.keyResult(t, "alice", build(t, nil))}, time.Now())
	if !errors.Is(err, policy.ErrDenied) {
		t.Fatalf("err %v, want denial", err)
	}
	r, _ := d.Rule("broken")
	if r.Outcome != policy.OutcomeFail || r.Error == "" {
		t.Fatalf("rule %+v, want a failed rule with an error", r)
	}
}

func TestDecisionJSONSchema(t *testing.T) {
	k := newKit(t)
	p := load(t, gatePolicy)
	prov := k.keyResult(t, "alice", build(t, nil))
	at, _ := prov.SignedAt()
	d, _ := p.Gate("prod", artifact, []*verify.Result{prov}, at)
	raw, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"schema", "verdict", "policy", "environment", "subject", "time", "attestations", "rules"} {
		if _, ok := doc[key]; !ok {
			t.Errorf("decision JSON lacks %q: %s", key, raw)
		}
	}
	if doc["schema"] != policy.DecisionSchemaV1 || doc["verdict"] != "deny" {
		t.Fatalf("schema %v verdict %v", doc["schema"], doc["verdict"])
	}
	rule := doc["rules"].([]any)[2].(map[string]any)
	for _, key := range []string{"name", "kind", "mode", "outcome", "reason", "evidence"} {
		if _, ok := rule[key]; !ok {
			t.Errorf("rule JSON lacks %q: %v", key, rule)
		}
	}
	ev := rule["evidence"].([]any)[0].(map[string]any)
	if ev["attestation"] != float64(-1) || ev["predicateType"] != provenance.PredicateSPDX {
		t.Errorf("evidence %v", ev)
	}
	att := doc["attestations"].([]any)[0].(map[string]any)
	for _, key := range []string{"index", "predicateType", "signer", "signedAt"} {
		if _, ok := att[key]; !ok {
			t.Errorf("attestation JSON lacks %q: %v", key, att)
		}
	}
	var back policy.Decision
	if err := json.Unmarshal(raw, &back); err != nil || back.Verdict != d.Verdict || len(back.Rules) != 3 {
		t.Fatalf("round trip: %v %+v", err, back)
	}
}

func TestVSA(t *testing.T) {
	k := newKit(t)
	p := load(t, gatePolicy)
	prov := k.keyResult(t, "alice", build(t, nil))
	sbom := k.keyResult(t, "alice", statement(t, provenance.PredicateSPDX, map[string]any{"spdxVersion": "SPDX-2.3"}))
	at, _ := prov.SignedAt()
	opts := policy.VSAOptions{VerifierID: "https://provkit.dev/gate", ResourceURI: "registry.example/app@" + artifact.String(), PolicyURI: "https://acme.example/policy.yaml", VerifiedLevels: []string{"SLSA_BUILD_LEVEL_3"}, SLSAVersion: "1.0"}
	cases := []struct {
		name    string
		results []*verify.Result
		want    string
	}{
		{name: "passed", results: []*verify.Result{prov, sbom}, want: policy.VSAPassed},
		{name: "failed", results: []*verify.Result{prov}, want: policy.VSAFailed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, _ := p.Gate("prod", artifact, c.results, at)
			st, err := d.VSA(opts)
			if err != nil {
				t.Fatal(err)
			}
			if st.GetPredicateType() != provenance.PredicateSLSAVSAV1 || st.GetSubject()[0].GetDigest()["sha256"] != artifact.Encoded() {
				t.Fatalf("statement %v", st)
			}
			if _, err := provenance.Marshal(st); err != nil {
				t.Fatalf("not a valid statement: %v", err)
			}
			var pred vsa.VerificationSummary
			if err := provenance.DecodePredicate(st, &pred); err != nil {
				t.Fatal(err)
			}
			if pred.GetVerificationResult() != c.want || pred.GetPolicy().GetDigest()["sha256"] != p.Digest().Encoded() ||
				len(pred.GetInputAttestations()) != len(c.results) || pred.GetInputAttestations()[0].GetDigest()["sha256"] == "" ||
				!pred.GetTimeVerified().AsTime().Equal(at) {
				t.Fatalf("predicate %v", &pred)
			}
		})
	}
	t.Run("missing verifier", func(t *testing.T) {
		d, _ := p.Gate("prod", artifact, []*verify.Result{prov}, at)
		if _, err := d.VSA(policy.VSAOptions{ResourceURI: "x", PolicyURI: "y"}); !errors.Is(err, policy.ErrInvalidDecision) {
			t.Fatalf("err %v", err)
		}
	})
}

// TestConcurrentEvaluation shares one Policy (20 rules, 10 CEL) and one result between
// goroutines; run with -race.
func TestConcurrentEvaluation(t *testing.T) {
	k := newKit(t)
	p := load(t, benchPolicy)
	prov := k.keyResult(t, "alice", build(t, nil))
	at, _ := prov.SignedAt()
	done := make(chan error, 8)
	for range 8 {
		go func() {
			_, err := p.Evaluate(artifact, []*verify.Result{prov}, at)
			done <- err
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

func TestPolicyWithoutRulesDenies(t *testing.T) {
	k := newKit(t)
	p := load(t, header)
	d, err := p.Evaluate(artifact, []*verify.Result{k.keyResult(t, "alice", build(t, nil))}, time.Now())
	if !errors.Is(err, policy.ErrDenied) || len(d.Reasons) != 1 || d.Reasons[0] != "the policy has no rules" {
		t.Fatalf("err %v reasons %q", err, d.Reasons)
	}
}
