package policy_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"

	"github.com/provkit/provkit/policy"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/verify"
)

func jsonOf(d *policy.Decision) (string, error) {
	b, err := json.Marshal(d)
	return string(b), err
}

// vulnsV02 is an in-toto vulns v0.2 predicate with findings id -> score.
func vulnsV02(findings ...[2]string) map[string]any {
	var res []any
	for _, f := range findings {
		res = append(res, map[string]any{"id": f[0], "severity": []any{map[string]any{"method": "nvd", "score": f[1]}}})
	}
	return map[string]any{"scanner": map[string]any{"uri": "pkg:github/aquasecurity/trivy@v0.58.0", "result": res}}
}

func trivyCosign(id, sev string) map[string]any {
	return map[string]any{
		"scanner": map[string]any{"uri": "pkg:github/aquasecurity/trivy", "result": map[string]any{
			"Results": []any{map[string]any{"Target": "app", "Vulnerabilities": []any{map[string]any{"VulnerabilityID": id, "Severity": sev}}}},
		}},
		"metadata": map[string]any{"scanStartedOn": "2026-11-01T00:00:00Z"},
	}
}

func grypeCosign(id, sev string) map[string]any {
	return map[string]any{"scanner": map[string]any{"uri": "pkg:github/anchore/grype", "result": map[string]any{
		"matches": []any{map[string]any{"vulnerability": map[string]any{"id": id, "severity": sev}}},
	}}}
}

func openVEX(vuln, status string, products ...string) map[string]any {
	var ps []any
	for _, p := range products {
		ps = append(ps, map[string]any{"@id": p})
	}
	stmt := map[string]any{"vulnerability": map[string]any{"name": vuln}, "status": status}
	if ps != nil {
		stmt["products"] = ps
	}
	return map[string]any{"@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://acme.example/vex/1", "author": "acme", "timestamp": "2026-11-02T00:00:00Z", "version": 1, "statements": []any{stmt}}
}

func TestVulnerabilitiesRule(t *testing.T) {
	rule := "    vulnerabilities: {failAt: high, acceptOpenVEX: true}\n"
	noVEX := "    vulnerabilities: {failAt: high}\n"
	img := "pkg:oci/app@" + artifact.String()
	runRuleCases(t, []ruleCase{
		{name: "only low findings", rule: rule, results: keyed([]string{"alice"}, pred(provenance.PredicateVulnsV02, vulnsV02([2]string{"CVE-2026-1", "3.1"}, [2]string{"CVE-2026-2", "MEDIUM"}))),
			want: policy.OutcomePass, reason: "2 finding(s), none blocking"},
		{name: "critical finding", rule: rule, results: keyed([]string{"alice"}, pred(provenance.PredicateVulnsV02, vulnsV02([2]string{"CVE-2026-9", "9.8"}))),
			want: policy.OutcomeFail, reason: "CVE-2026-9", field: "predicate.scanner.result[0]", value: "CVE-2026-9 9.8"},
		{name: "unknown severity fails closed", rule: rule, results: keyed([]string{"alice"}, pred(provenance.PredicateVulnsV02, vulnsV02([2]string{"CVE-2026-7", "CVSS:3.1/AV:N"}))),
			want: policy.OutcomeFail, reason: "CVE-2026-7", field: "predicate.scanner.result[0]"},
		{name: "trivy via cosign", rule: rule, results: keyed([]string{"alice"}, pred(provenance.PredicateCosignVuln, trivyCosign("CVE-2026-3", "HIGH"))),
			want: policy.OutcomeFail, reason: "CVE-2026-3", field: "Results[0].Vulnerabilities[0]", value: "HIGH"},
		{name: "grype via cosign", rule: rule, results: keyed([]string{"alice"}, pred(provenance.PredicateCosignVuln, grypeCosign("GHSA-xxxx", "Critical"))),
			want: policy.OutcomeFail, reason: "GHSA-xxxx", field: "matches[0].vulnerability"},
		{name: "vex not_affected excepts", rule: rule,
			results: keyed([]string{"alice", "bob"}, pred(provenance.PredicateVulnsV02, vulnsV02([2]string{"CVE-2026-9", "9.8"})), pred(provenance.PredicateOpenVEX, openVEX("CVE-2026-9", "not_affected", img))),
			want:    policy.OutcomePass, reason: "none blocking"},
		{name: "vex ignored unless accepted", rule: noVEX,
			results: keyed([]string{"alice", "bob"}, pred(provenance.PredicateVulnsV02, vulnsV02([2]string{"CVE-2026-9", "9.8"})), pred(provenance.PredicateOpenVEX, openVEX("CVE-2026-9", "not_affected", img))),
			want:    policy.OutcomeFail, field: "predicate.scanner.result[0]", value: "CVE-2026-9"},
		{name: "vex affected does not except", rule: rule,
			results: keyed([]string{"alice", "bob"}, pred(provenance.PredicateVulnsV02, vulnsV02([2]string{"CVE-2026-9", "9.8"})), pred(provenance.PredicateOpenVEX, openVEX("CVE-2026-9", "affected", img))),
			want:    policy.OutcomeFail, field: "predicate.scanner.result[0]", value: "CVE-2026-9"},
		{name: "vex about another product does not except", rule: rule,
			results: keyed([]string{"alice", "bob"}, pred(provenance.PredicateVulnsV02, vulnsV02([2]string{"CVE-2026-9", "9.8"})), pred(provenance.PredicateOpenVEX, openVEX("CVE-2026-9", "not_affected", "pkg:oci/other@sha256:"+"ffff"))),
			want:    policy.OutcomeFail, field: "predicate.scanner.result[0]", value: "CVE-2026-9"},
		{name: "ignored by id", rule: "    vulnerabilities: {failAt: high, ignore: [CVE-2026-9]}\n", results: keyed([]string{"alice"}, pred(provenance.PredicateVulnsV02, vulnsV02([2]string{"CVE-2026-9", "9.8"}))),
			want: policy.OutcomePass},
		{name: "no scan", rule: rule, results: keyed([]string{"alice"}, slsaBuild(nil)), want: policy.OutcomeFail, reason: "no verified vulnerability scan"},
	})
}

func TestVEXOnAnotherSubjectIsIgnored(t *testing.T) {
	k := newKit(t)
	p := load(t, oneRule("    vulnerabilities: {failAt: high, acceptOpenVEX: true}\n"))
	scan := k.keyResult(t, "alice", statement(t, provenance.PredicateVulnsV02, vulnsV02([2]string{"CVE-2026-9", "9.8"})))
	other := otherSubject(t, provenance.PredicateOpenVEX, openVEX("CVE-2026-9", "not_affected"))
	vex := k.keyResult(t, "bob", other)
	d, err := p.Evaluate(artifact, []*verify.Result{scan, vex}, time.Now())
	if !errors.Is(err, policy.ErrDenied) {
		t.Fatalf("err = %v, want denial", err)
	}
	if d.Attestations[1].Ignored == "" {
		t.Fatalf("VEX about another subject not marked ignored: %+v", d.Attestations[1])
	}
}

func otherSubject(t *testing.T, predicateType string, body any) *intoto.Statement {
	t.Helper()
	st, err := provenance.NewStatement(subjects(digest.FromString("another artifact")), predicateType, body)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestCELRule(t *testing.T) {
	prov := slsaBuild(nil)
	runRuleCases(t, []ruleCase{
		{name: "predicate field", rule: "    cel:\n      expression: predicate.buildDefinition.buildType.startsWith(\"https://slsa-framework\")\n", results: keyed([]string{"alice"}, prov), want: policy.OutcomePass},
		{name: "predicate field false", rule: "    cel:\n      expression: predicate.buildDefinition.externalParameters.workflow.ref == \"refs/heads/main\"\n      message: must build from main\n",
			results: keyed([]string{"alice"}, prov), want: policy.OutcomeFail, reason: "must build from main", field: "cel", value: "refs/heads/main"},
		{name: "signer and time", rule: "    cel:\n      expression: signer.keyId == \"alice\" && hasSignedAt && now - signedAt < duration(\"1h\")\n", results: keyed([]string{"alice"}, prov), after: time.Minute, want: policy.OutcomePass},
		{name: "statement subject", rule: "    cel:\n      expression: statement.subject.exists(s, \"sha256:\" + s.digest.sha256 == subject)\n", results: keyed([]string{"alice"}, prov), want: policy.OutcomePass},
		{name: "across attestations", rule: "    cel:\n      predicateTypes: [https://slsa.dev/provenance/v1]\n      expression: attestations.exists(a, a.predicateType == \"https://spdx.dev/Document\" && a.signer.keyId == \"bob\")\n",
			results: keyed([]string{"alice", "bob"}, prov, pred(provenance.PredicateSPDX, map[string]any{"spdxVersion": "SPDX-2.3"})), want: policy.OutcomePass},
		{name: "match any", rule: "    cel:\n      match: any\n      expression: predicateType == \"https://spdx.dev/Document\"\n",
			results: keyed([]string{"alice"}, prov, pred(provenance.PredicateSPDX, map[string]any{"spdxVersion": "SPDX-2.3"})), want: policy.OutcomePass, reason: "1 of 2"},
		{name: "missing field is an evaluation error", rule: "    cel:\n      expression: predicate.nothing.here == \"x\"\n", results: keyed([]string{"alice"}, prov),
			want: policy.OutcomeFail, reason: "evaluation error", field: "cel"},
		{name: "cost limit denies", rule: "    cel:\n      expression: \"[1,2,3,4,5,6,7,8,9,10].all(a, [1,2,3,4,5,6,7,8,9,10].all(b, [1,2,3,4,5,6,7,8,9,10].all(c, [1,2,3,4,5,6,7,8,9,10].all(d, a+b+c+d > 0))))\"\n",
			results: keyed([]string{"alice"}, prov), want: policy.OutcomeFail, reason: "cost"},
	})
	t.Run("a small document cost limit stops even simple expressions", func(t *testing.T) {
		k := newKit(t)
		p := load(t, "apiVersion: provkit.dev/policy/v1\nkind: Policy\nmetadata: {name: t}\ncelCostLimit: 2\nrules:\n  - name: rule\n    cel: {expression: 'predicate.buildDefinition.internalParameters.github.runner_environment == \"github-hosted\"'}\n")
		d, err := p.Evaluate(artifact, []*verify.Result{k.keyResult(t, "alice", build(t, nil))}, time.Now())
		r, _ := d.Rule("rule")
		if !errors.Is(err, policy.ErrDenied) || r.Outcome != policy.OutcomeFail || !strings.Contains(r.Error, "cost") {
			t.Fatalf("err %v rule %+v", err, r)
		}
	})
}

// TestVulnerabilityReportOfUnknownShapeDenies: every scan report this rule cannot read as a vulns
// v0.2 list, a Trivy report or a Grype report denies, naming the field that broke; none reads as
// zero findings.
func TestVulnerabilityReportOfUnknownShapeDenies(t *testing.T) {
	rule := "    vulnerabilities: {failAt: high}\n"
	scan := func(predicateType string, scanner any) func(t *testing.T, k *kit) []*verify.Result {
		return keyed([]string{"alice"}, pred(predicateType, map[string]any{"scanner": scanner}))
	}
	result := func(r any) map[string]any { return map[string]any{"uri": "pkg:github/example/scanner", "result": r} }
	cases := []struct {
		name, predicateType string
		scanner             any
		field               string
	}{
		{"scanner is a string", provenance.PredicateVulnsV02, "trivy", "predicate.scanner"},
		{"result is a string", provenance.PredicateVulnsV02, result("no findings"), "predicate.scanner.result"},
		{"result is a number", provenance.PredicateCosignVuln, result(0), "predicate.scanner.result"},
		{"result is an object of no known report", provenance.PredicateCosignVuln, result(map[string]any{"findings": []any{map[string]any{"id": "CVE-2026-9"}}}), "predicate.scanner.result"},
		{"result is an empty object", provenance.PredicateCosignVuln, result(map[string]any{}), "predicate.scanner.result"},
		{"cosign scan without a result", provenance.PredicateCosignVuln, map[string]any{"uri": "pkg:github/aquasecurity/trivy"}, "predicate.scanner.result"},
		{"list element is a string", provenance.PredicateVulnsV02, result([]any{"CVE-2026-9"}), "predicate.scanner.result[0]"},
		{"finding without an id", provenance.PredicateVulnsV02, result([]any{map[string]any{"severity": []any{map[string]any{"score": "9.8"}}}}), "predicate.scanner.result[0].id"},
		{"severity is an object", provenance.PredicateVulnsV02, result([]any{map[string]any{"id": "CVE-2026-9", "severity": map[string]any{"score": "9.8"}}}), "predicate.scanner.result[0].severity"},
		{"trivy Results is an object", provenance.PredicateCosignVuln, result(map[string]any{"Results": map[string]any{"Vulnerabilities": []any{}}}), "predicate.scanner.result.Results"},
		{"trivy Vulnerabilities is an object", provenance.PredicateCosignVuln, result(map[string]any{"Results": []any{map[string]any{"Vulnerabilities": map[string]any{"VulnerabilityID": "CVE-2026-9"}}}}), "predicate.scanner.result.Results[0].Vulnerabilities"},
		{"trivy vulnerability without an id", provenance.PredicateCosignVuln, result(map[string]any{"Results": []any{map[string]any{"Vulnerabilities": []any{map[string]any{"Severity": "CRITICAL"}}}}}), "Vulnerabilities[0].VulnerabilityID"},
		{"grype matches is an object", provenance.PredicateCosignVuln, result(map[string]any{"matches": map[string]any{}}), "predicate.scanner.result.matches"},
		{"grype match without a vulnerability", provenance.PredicateCosignVuln, result(map[string]any{"matches": []any{map[string]any{"artifact": map[string]any{}}}}), "predicate.scanner.result.matches[0].vulnerability"},
	}
	var rc []ruleCase
	for _, c := range cases {
		rc = append(rc, ruleCase{name: c.name, rule: rule, results: scan(c.predicateType, c.scanner), want: policy.OutcomeFail, reason: "evaluation error", field: c.field})
	}
	// The shapes that do mean no findings still pass.
	rc = append(rc,
		ruleCase{name: "vulns v0.2 without a result", rule: rule, results: scan(provenance.PredicateVulnsV02, map[string]any{"uri": "pkg:github/aquasecurity/trivy"}), want: policy.OutcomePass},
		ruleCase{name: "vulns v0.2 empty list", rule: rule, results: scan(provenance.PredicateVulnsV02, result([]any{})), want: policy.OutcomePass},
		ruleCase{name: "trivy report with nothing to scan", rule: rule, results: scan(provenance.PredicateCosignVuln, result(map[string]any{"SchemaVersion": 2})), want: policy.OutcomePass},
		ruleCase{name: "trivy target without vulnerabilities", rule: rule, results: scan(provenance.PredicateCosignVuln, result(map[string]any{"Results": []any{map[string]any{"Target": "app"}}})), want: policy.OutcomePass},
	)
	runRuleCases(t, rc)
}
