package policy_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/stretchr/testify/require"

	"github.com/provkit/provkit/policy"
	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/vuln"
	"github.com/provkit/provkit/verify"
)

// scanReport parses a provenance/vuln fixture.
func scanReport(t testing.TB, name string) *vuln.Report {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "provenance", "vuln", "testdata", name))
	require.NoError(t, err)
	r, err := vuln.Parse(data)
	require.NoError(t, err)
	return r
}

// scanStatement is the vulns v0.2 statement of r about artifact.
func scanStatement(t testing.TB, r *vuln.Report) *intoto.Statement {
	t.Helper()
	st, err := r.Statement(artifact, "app")
	require.NoError(t, err)
	return st
}

// evaluateRule evaluates the one rule body at now and returns its result and the error.
func evaluateRule(t *testing.T, body string, results []*verify.Result, now time.Time) (policy.RuleResult, error) {
	t.Helper()
	d, err := load(t, oneRule(body)).Evaluate(artifact, results, now)
	require.NotNil(t, d, "no decision (err %v)", err)
	rr, ok := d.Rule("rule")
	require.True(t, ok)
	if rr.Outcome == policy.OutcomePass {
		require.NoError(t, err)
	} else {
		require.ErrorIs(t, err, policy.ErrDenied)
	}
	return rr, err
}

// TestVulnsRuleReadsScanStatements: the statements provenance/vuln writes from each scanner's
// report, signed and verified, deny on exactly the findings at or above failAt.
func TestVulnsRuleReadsScanStatements(t *testing.T) {
	k := newKit(t)
	cases := []struct {
		fixture, failAt string
		want            policy.Outcome
		reason          string
	}{
		{"grype.json", "high", policy.OutcomeFail, "1 finding(s) at or above high: CVE-2024-2961"},
		{"grype.json", "medium", policy.OutcomeFail, "2 finding(s) at or above medium: CVE-2024-2961, GHSA-qppj-fm5r-hxr3"},
		{"grype.json", "critical", policy.OutcomePass, "1 scan(s), 3 finding(s), none blocking at critical"},
		// The finding Trivy rates UNKNOWN counts at any threshold.
		{"trivy.json", "high", policy.OutcomeFail, "3 finding(s) at or above high: CVE-2024-2961, TEMP-0517018-A83CE6, CVE-2024-45337"},
		{"trivy.json", "critical", policy.OutcomeFail, "2 finding(s) at or above critical: TEMP-0517018-A83CE6, CVE-2024-45337"},
		{"sarif-trivy.json", "high", policy.OutcomeFail, "2 finding(s) at or above high: CVE-2024-2961, CVE-2024-45337"},
		{"sarif-grype.json", "high", policy.OutcomeFail, "1 finding(s) at or above high: CVE-2024-2961"},
		{"sarif-codeql.json", "high", policy.OutcomeFail, "1 finding(s) at or above high: go/sql-injection"},
		{"osv-scanner.json", "high", policy.OutcomeFail, "2 finding(s) at or above high: GHSA-4374-p667-p6c8, GHSA-35jh-r3h4-6jhm"},
		{"vulns-v02.json", "critical", policy.OutcomeFail, "2 finding(s) at or above critical: CVE-2021-44228, CVE-2021-45046"},
		{"grype-empty.json", "low", policy.OutcomePass, "1 scan(s), 0 finding(s), none blocking at low"},
		{"trivy-empty.json", "low", policy.OutcomePass, "1 scan(s), 0 finding(s), none blocking at low"},
		{"osv-scanner-empty.json", "low", policy.OutcomePass, "1 scan(s), 0 finding(s), none blocking at low"},
		{"vulns-v02-predicate.json", "low", policy.OutcomePass, "1 scan(s), 0 finding(s), none blocking at low"},
	}
	for _, c := range cases {
		t.Run(c.fixture+" at "+c.failAt, func(t *testing.T) {
			res := k.keyResult(t, "alice", scanStatement(t, scanReport(t, c.fixture)))
			rr, _ := evaluateRule(t, "    vulnerabilities: {failAt: "+c.failAt+"}\n", []*verify.Result{res}, time.Now())
			require.Equal(t, c.want, rr.Outcome, "%s %s", rr.Reason, rr.Error)
			require.Equal(t, c.reason, rr.Reason)
		})
	}

	t.Run("evidence names the result and its score", func(t *testing.T) {
		res := k.keyResult(t, "alice", scanStatement(t, scanReport(t, "grype.json")))
		rr, _ := evaluateRule(t, "    vulnerabilities: {failAt: high}\n", []*verify.Result{res}, time.Now())
		require.Len(t, rr.Evidence, 1)
		require.Equal(t, policy.Evidence{Attestation: 0, PredicateType: provenance.PredicateVulnsV02, Field: "predicate.scanner.result[0]",
			Value: "CVE-2024-2961 High", Message: "severity high"}, rr.Evidence[0])
	})
	t.Run("annotation aliases of the wrong shape deny", func(t *testing.T) {
		for field, annotations := range map[string]any{
			"predicate.scanner.result[0].annotations":               map[string]any{"aliases": []any{"CVE-2023-44487"}},
			"predicate.scanner.result[0].annotations[0]":            []any{"CVE-2023-44487"},
			"predicate.scanner.result[0].annotations[0].aliases":    []any{map[string]any{"aliases": "CVE-2023-44487"}},
			"predicate.scanner.result[0].annotations[0].aliases[1]": []any{map[string]any{"aliases": []any{"CVE-2023-44487", 44487}}},
		} {
			st := statement(t, provenance.PredicateVulnsV02, map[string]any{"scanner": map[string]any{"uri": "pkg:golang/github.com/anchore/grype",
				"result": []any{map[string]any{"id": "GHSA-qppj-fm5r-hxr3", "severity": []any{map[string]any{"method": "ghsa", "score": "low"}}, "annotations": annotations}}}})
			rr, _ := evaluateRule(t, "    vulnerabilities: {failAt: high}\n", []*verify.Result{k.keyResult(t, "alice", st)}, time.Now())
			require.Equal(t, policy.OutcomeFail, rr.Outcome, field)
			require.True(t, strings.HasPrefix(rr.Reason, "evaluation error"), rr.Reason)
			require.Len(t, rr.Evidence, 1)
			require.Equal(t, field, rr.Evidence[0].Field)
		}
	})
	t.Run("ignored by id", func(t *testing.T) {
		res := k.keyResult(t, "alice", scanStatement(t, scanReport(t, "grype.json")))
		rr, _ := evaluateRule(t, "    vulnerabilities: {failAt: high, ignore: [CVE-2024-2961]}\n", []*verify.Result{res}, time.Now())
		require.Equal(t, policy.OutcomePass, rr.Outcome)
	})
	t.Run("OpenVEX matches an alias from the annotations", func(t *testing.T) {
		// grype reports GHSA-qppj-fm5r-hxr3; the VEX statement names its CVE alias.
		scan := k.keyResult(t, "alice", scanStatement(t, scanReport(t, "grype.json")))
		vex := k.keyResult(t, "bob", statement(t, provenance.PredicateOpenVEX, openVEX("CVE-2023-44487", "not_affected", "pkg:oci/app@"+artifact.String())))
		rr, _ := evaluateRule(t, "    vulnerabilities: {failAt: medium, acceptOpenVEX: true}\n", []*verify.Result{scan, vex}, time.Now())
		require.Equal(t, policy.OutcomeFail, rr.Outcome)
		require.Equal(t, "1 finding(s) at or above medium: CVE-2024-2961", rr.Reason)

		rr, _ = evaluateRule(t, "    vulnerabilities: {failAt: medium, acceptOpenVEX: true, ignore: [CVE-2024-2961]}\n", []*verify.Result{scan, vex}, time.Now())
		require.Equal(t, policy.OutcomePass, rr.Outcome)
		require.Contains(t, rr.Evidence, policy.Evidence{Attestation: 0, PredicateType: provenance.PredicateVulnsV02, Field: "predicate.scanner.result[1]",
			Value: "GHSA-qppj-fm5r-hxr3 Medium", Message: "not_affected per OpenVEX attestation 1"})
	})
}

// TestVulnsRuleMaxAge evaluates at fixed times relative to the scan: only scans younger than
// maxAge count, a scan's time being the earlier of its signing time and its scanFinishedOn.
func TestVulnsRuleMaxAge(t *testing.T) {
	k := newKit(t)
	grype := scanReport(t, "grype.json") // one high finding, CVE-2024-2961
	finished := grype.FinishedOn
	require.Equal(t, time.Date(2026, 11, 30, 15, 15, 42, 118244000, time.UTC), finished)
	const rule = "    vulnerabilities: {failAt: high, maxAge: 24h}\n"
	// Signed now, by the kit's timestamp authority: later than the scan finished, so the
	// scan's stated time decides.
	timed := k.keyResult(t, "alice", scanStatement(t, grype))
	untimed := k.untimedResult(t, "alice", scanStatement(t, grype))

	t.Run("fresh scan counts", func(t *testing.T) {
		rr, _ := evaluateRule(t, rule, []*verify.Result{timed}, finished.Add(time.Hour))
		require.Equal(t, policy.OutcomeFail, rr.Outcome)
		require.Equal(t, "1 finding(s) at or above high: CVE-2024-2961", rr.Reason)
	})
	t.Run("stale scan fails naming its age", func(t *testing.T) {
		rr, _ := evaluateRule(t, rule, []*verify.Result{timed}, finished.Add(48*time.Hour))
		require.Equal(t, policy.OutcomeFail, rr.Outcome)
		require.Equal(t, "no vulnerability scan newer than 24h; newest is 48h0m0s old", rr.Reason)
		require.Equal(t, []policy.Evidence{{Attestation: 0, PredicateType: provenance.PredicateVulnsV02, Field: "predicate.metadata.scanFinishedOn",
			Value: "2026-11-30T15:15:42Z", Message: "scanned 48h0m0s ago, more than maxAge 24h; not counted"}}, rr.Evidence)
	})
	t.Run("without maxAge a stale scan still counts", func(t *testing.T) {
		rr, _ := evaluateRule(t, "    vulnerabilities: {failAt: high}\n", []*verify.Result{timed}, finished.Add(48*time.Hour))
		require.Equal(t, "1 finding(s) at or above high: CVE-2024-2961", rr.Reason)
	})
	t.Run("days", func(t *testing.T) {
		rr, _ := evaluateRule(t, "    vulnerabilities: {failAt: critical, maxAge: 7d}\n", []*verify.Result{timed}, finished.Add(6*24*time.Hour))
		require.Equal(t, policy.OutcomePass, rr.Outcome)
		rr, _ = evaluateRule(t, "    vulnerabilities: {failAt: critical, maxAge: 7d}\n", []*verify.Result{timed}, finished.Add(8*24*time.Hour))
		require.Equal(t, "no vulnerability scan newer than 7d; newest is 192h0m0s old", rr.Reason)
	})
	t.Run("no signing time: scanFinishedOn alone", func(t *testing.T) {
		rr, _ := evaluateRule(t, rule, []*verify.Result{untimed}, finished.Add(time.Hour))
		require.Equal(t, "1 finding(s) at or above high: CVE-2024-2961", rr.Reason)
		rr, _ = evaluateRule(t, rule, []*verify.Result{untimed}, finished.Add(25*time.Hour))
		require.Equal(t, "no vulnerability scan newer than 24h; newest is 25h0m0s old", rr.Reason)
	})
	t.Run("neither time", func(t *testing.T) {
		undated := *grype
		undated.FinishedOn = time.Time{}
		res := k.untimedResult(t, "alice", scanStatement(t, &undated))
		rr, _ := evaluateRule(t, rule, []*verify.Result{res}, finished)
		require.Equal(t, policy.OutcomeFail, rr.Outcome)
		require.Equal(t, "no vulnerability scan newer than 24h; no scan has a verified signing time or a predicate.metadata.scanFinishedOn", rr.Reason)
		require.Len(t, rr.Evidence, 1)
		require.Equal(t, "signedAt", rr.Evidence[0].Field)
		require.Contains(t, rr.Evidence[0].Message, "age is unknown")
	})
	t.Run("a stated time later than the signature does not make a scan fresher", func(t *testing.T) {
		future := *grype
		future.FinishedOn = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
		res := k.keyResult(t, "alice", scanStatement(t, &future))
		signed, ok := res.SignedAt()
		require.True(t, ok)
		rr, _ := evaluateRule(t, rule, []*verify.Result{res}, signed.Add(time.Hour))
		require.Equal(t, "1 finding(s) at or above high: CVE-2024-2961", rr.Reason)
		rr, _ = evaluateRule(t, rule, []*verify.Result{res}, signed.Add(30*time.Hour))
		require.Equal(t, "no vulnerability scan newer than 24h; newest is 30h0m0s old", rr.Reason)
		require.Equal(t, "signedAt", rr.Evidence[0].Field)
	})
	t.Run("a fresh clean scan passes beside a stale one", func(t *testing.T) {
		clean := scanReport(t, "grype-empty.json")
		clean.FinishedOn = finished.Add(47 * time.Hour)
		fresh := k.keyResult(t, "alice", scanStatement(t, clean))
		rr, _ := evaluateRule(t, rule, []*verify.Result{timed, fresh}, finished.Add(48*time.Hour))
		require.Equal(t, policy.OutcomePass, rr.Outcome)
		require.Equal(t, "1 scan(s), 0 finding(s), none blocking at high; 1 scan(s) older than 24h not counted", rr.Reason)
		require.True(t, hasEvidence(rr.Evidence, "predicate.metadata.scanFinishedOn", "2026-11-30T15:15:42Z"), "%+v", rr.Evidence)
		require.Equal(t, 0, rr.Evidence[0].Attestation)
	})
	t.Run("a scanFinishedOn of the wrong shape denies", func(t *testing.T) {
		st := statement(t, provenance.PredicateVulnsV02, map[string]any{
			"scanner":  map[string]any{"uri": "pkg:golang/github.com/anchore/grype", "result": []any{}},
			"metadata": map[string]any{"scanFinishedOn": 1764515742},
		})
		rr, _ := evaluateRule(t, rule, []*verify.Result{k.keyResult(t, "alice", st)}, finished)
		require.Equal(t, policy.OutcomeFail, rr.Outcome)
		require.True(t, strings.HasPrefix(rr.Reason, "evaluation error"), rr.Reason)
		require.True(t, hasEvidence(rr.Evidence, "predicate.metadata.scanFinishedOn", ""), "%+v", rr.Evidence)
	})
	t.Run("maxAge must be a duration", func(t *testing.T) {
		_, err := policy.Load(strings.NewReader(oneRule("    vulnerabilities: {failAt: high, maxAge: soon}\n")))
		var le *policy.LoadError
		require.True(t, errors.As(err, &le), "%v", err)
		require.Equal(t, "rules[0].vulnerabilities.maxAge", le.Field)
		require.ErrorIs(t, err, policy.ErrInvalidPolicy)
	})
}
