package vuln_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/vuln"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return data
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

// TestParseScanReports reads every fixture and asserts the exact report: the format detected from
// the content, the scanner, the times, and each finding with its severity and where it came from.
func TestParseScanReports(t *testing.T) {
	cases := []struct {
		fixture string
		want    vuln.Report
	}{
		{"grype.json", vuln.Report{
			Format: vuln.FormatGrype,
			Scanner: vuln.Scanner{Name: "grype", Version: "0.87.0", DB: vuln.Database{
				URI:     "https://grype.anchore.io/databases/v6/vulnerability-db_v6.0.2_2026-11-30T01:31:20Z_1764467480.tar.zst?checksum=sha256%3A2b5a3f0d4c8e9a1b6d7f0e3c2a1b4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c",
				Version: "v6.0.2", Updated: utc("2026-11-30T04:05:09Z")}},
			FinishedOn: utc("2026-11-30T15:15:42.118244Z"),
			Findings: []vuln.Finding{
				{ID: "CVE-2024-2961", Severity: vuln.SeverityHigh, Score: "High", Method: "debian:distro:debian:12",
					Package: "libc6", Version: "2.36-9+deb12u4", FixedIn: "2.36-9+deb12u6",
					PURL: "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12&upstream=glibc"},
				{ID: "GHSA-qppj-fm5r-hxr3", Aliases: []string{"CVE-2023-44487"}, Severity: vuln.SeverityMedium, Score: "Medium", Method: "github:language:go",
					Package: "golang.org/x/net", Version: "v0.15.0", FixedIn: "0.17.0", PURL: "pkg:golang/golang.org/x/net@v0.15.0"},
				{ID: "CVE-2005-2541", Severity: vuln.SeverityNone, Score: "Negligible", Method: "debian:distro:debian:12",
					Package: "tar", Version: "1.34+dfsg-1.2+deb12u1", PURL: "pkg:deb/debian/tar@1.34%2Bdfsg-1.2%2Bdeb12u1?arch=amd64&distro=debian-12"},
			},
		}},
		{"grype-empty.json", vuln.Report{
			Format:     vuln.FormatGrype,
			Scanner:    vuln.Scanner{Name: "grype", Version: "0.79.3", DB: vuln.Database{Version: "5", Updated: utc("2026-08-02T01:29:46Z")}},
			FinishedOn: utc("2026-08-02T09:00:00Z"),
			Findings:   []vuln.Finding{},
		}},
		{"trivy.json", vuln.Report{
			Format:     vuln.FormatTrivy,
			Scanner:    vuln.Scanner{Name: "trivy", Version: "0.58.1"},
			FinishedOn: utc("2026-11-30T09:14:03.512438Z"),
			Findings: []vuln.Finding{
				{ID: "CVE-2024-2961", Aliases: []string{"DSA-5678-1"}, Severity: vuln.SeverityHigh, Score: "HIGH", Method: "nvd",
					Package: "libc6", Version: "2.36-9+deb12u4", FixedIn: "2.36-9+deb12u6", PURL: "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12.8"},
				{ID: "CVE-2023-50495", Severity: vuln.SeverityMedium, Score: "5.5", Method: "cvss_score",
					Package: "ncurses-base", Version: "6.4-4", PURL: "pkg:deb/debian/ncurses-base@6.4-4?arch=all&distro=debian-12.8"},
				{ID: "TEMP-0517018-A83CE6", Severity: vuln.SeverityUnknown, Score: "UNKNOWN", Method: "trivy",
					Package: "sysvinit-utils", Version: "3.06-4"},
				{ID: "CVE-2024-45337", Aliases: []string{"GHSA-v778-237x-gjrc"}, Severity: vuln.SeverityCritical, Score: "CRITICAL", Method: "ghsa",
					Package: "golang.org/x/crypto", Version: "v0.21.0", FixedIn: "0.31.0", PURL: "pkg:golang/golang.org/x/crypto@v0.21.0"},
			},
		}},
		{"trivy-empty.json", vuln.Report{
			Format:     vuln.FormatTrivy,
			Scanner:    vuln.Scanner{Name: "trivy", Version: "0.58.1"},
			FinishedOn: utc("2026-11-30T09:20:11.004Z"),
			Findings:   []vuln.Finding{},
		}},
		{"sarif-trivy.json", vuln.Report{
			Format:  vuln.FormatSARIF,
			Scanner: vuln.Scanner{Name: "Trivy", Version: "0.58.1"},
			Findings: []vuln.Finding{
				{ID: "CVE-2024-2961", Severity: vuln.SeverityHigh, Score: "8.1", Method: "security-severity"},
				// Trivy's SARIF writes 0.0 for what its JSON rates UNKNOWN.
				{ID: "CVE-2023-50495", Severity: vuln.SeverityNone, Score: "0.0", Method: "security-severity"},
				{ID: "CVE-2024-45337", Severity: vuln.SeverityCritical, Score: "9.1", Method: "security-severity"},
			},
		}},
		{"sarif-grype.json", vuln.Report{
			Format:  vuln.FormatSARIF,
			Scanner: vuln.Scanner{Name: "grype", Version: "0.87.0"},
			Findings: []vuln.Finding{
				{ID: "CVE-2024-2961", Severity: vuln.SeverityHigh, Score: "8.1", Method: "security-severity", Package: "libc6"},
				{ID: "GHSA-qppj-fm5r-hxr3", Severity: vuln.SeverityMedium, Score: "5.3", Method: "security-severity", Package: "golang.org/x/net"},
			},
		}},
		{"sarif-codeql.json", vuln.Report{
			Format:     vuln.FormatSARIF,
			Scanner:    vuln.Scanner{Name: "CodeQL", Version: "2.19.3"},
			StartedOn:  utc("2026-11-30T08:02:11.250Z"),
			FinishedOn: utc("2026-11-30T08:09:47.901Z"),
			Findings: []vuln.Finding{
				{ID: "go/sql-injection", Severity: vuln.SeverityHigh, Score: "8.8", Method: "security-severity"},
				// No security-severity: the rule's default level, warning, is medium.
				{ID: "go/unhandled-writable-file-close", Severity: vuln.SeverityMedium, Score: "medium", Method: "sarif-level"},
			},
		}},
		{"osv-scanner.json", vuln.Report{
			Format:  vuln.FormatOSV,
			Scanner: vuln.Scanner{Name: "osv-scanner"},
			Findings: []vuln.Finding{
				{ID: "GHSA-4374-p667-p6c8", Aliases: []string{"GO-2023-2102", "CVE-2023-39325"}, Severity: vuln.SeverityHigh, Score: "7.5", Method: "cvss_score",
					Package: "golang.org/x/net", Version: "0.15.0"},
				{ID: "GHSA-29mw-wpgm-hmr9", Aliases: []string{"CVE-2020-28500"}, Severity: vuln.SeverityMedium, Score: "5.3", Method: "cvss_score",
					Package: "lodash", Version: "4.17.20"},
				{ID: "GHSA-35jh-r3h4-6jhm", Aliases: []string{"CVE-2021-23337"}, Severity: vuln.SeverityHigh, Score: "7.2", Method: "cvss_score",
					Package: "lodash", Version: "4.17.20"},
				// No max_severity: the worst label of the group's entries.
				{ID: "GHSA-j8r2-6x86-q33q", Aliases: []string{"PYSEC-2023-74", "CVE-2023-32681"}, Severity: vuln.SeverityMedium, Score: "MODERATE", Method: "database_specific.severity",
					Package: "requests", Version: "2.25.0"},
			},
		}},
		{"osv-scanner-empty.json", vuln.Report{
			Format:   vuln.FormatOSV,
			Scanner:  vuln.Scanner{Name: "osv-scanner"},
			Findings: []vuln.Finding{},
		}},
		{"vulns-v02.json", vuln.Report{
			Format: vuln.FormatInToto,
			Scanner: vuln.Scanner{Name: "trivy", Version: "0.19.2", URI: "pkg:github/aquasecurity/trivy@244fd47e07d1004f0aed9", DB: vuln.Database{
				URI: "pkg:github/aquasecurity/trivy-db/commit/4c76bb580b2736d67751410fa4ab66d2b6b9b27d", Version: "v1-2021080612", Updated: utc("2021-08-06T17:45:50.52Z")}},
			StartedOn:  utc("2021-08-06T17:45:50.52Z"),
			FinishedOn: utc("2021-08-06T17:50:50.52Z"),
			Findings: []vuln.Finding{
				{ID: "CVE-2021-44228", Severity: vuln.SeverityCritical, Score: "critical", Method: "nvd"},
				// Of medium and 9.0, the policy rule decides by the worse.
				{ID: "CVE-2021-45046", Aliases: []string{"GHSA-7rjr-3q55-vv33"}, Severity: vuln.SeverityCritical, Score: "9.0", Method: "cvss_score",
					Package: "org.apache.logging.log4j:log4j-core", Version: "2.15.0", FixedIn: "2.16.0"},
			},
		}},
		{"vulns-v02-predicate.json", vuln.Report{
			Format:     vuln.FormatInToto,
			Scanner:    vuln.Scanner{Name: "grype", Version: "0.87.0", URI: "pkg:golang/github.com/anchore/grype@v0.87.0"},
			StartedOn:  utc("2026-11-30T15:15:02Z"),
			FinishedOn: utc("2026-11-30T15:15:42Z"),
			Findings:   []vuln.Finding{},
		}},
	}
	for _, c := range cases {
		t.Run(c.fixture, func(t *testing.T) {
			r, err := vuln.Parse(fixture(t, c.fixture))
			require.NoError(t, err)
			require.Equal(t, &c.want, r)

			forced, err := vuln.ParseFormat(fixture(t, c.fixture), c.want.Format)
			require.NoError(t, err)
			require.Equal(t, r, forced, "naming the detected format reads the same")
		})
	}
}

// TestParseRejectsBadScanReports: every document Parse cannot read as a report is a
// *FormatError naming the field and wrapping the sentinel that says why; none reads as a
// report with no findings.
func TestParseRejectsBadScanReports(t *testing.T) {
	grype := func(matches string) string {
		return `{"matches": ` + matches + `, "descriptor": {"name": "grype", "version": "0.87.0"}}`
	}
	sarif := func(run string) string { return `{"version": "2.1.0", "runs": [` + run + `]}` }
	driver := `"tool": {"driver": {"name": "Trivy", "rules": [{"id": "CVE-2024-2961"}]}}`
	osv := func(pkg string) string { return `{"results": [{"packages": [` + pkg + `]}]}` }
	v02 := func(result string) string {
		return `{"scanner": {"uri": "pkg:golang/github.com/anchore/grype", "result": [` + result + `]}}`
	}
	cases := []struct {
		name, doc string
		sentinel  error
		format    vuln.Format
		path      string
	}{
		{"empty input", ``, vuln.ErrUnknownFormat, "", ""},
		{"a table, not JSON", "NAME     INSTALLED  VULNERABILITY  SEVERITY\nlibc6    2.36-9     CVE-2024-2961  High\n", vuln.ErrUnknownFormat, "", ""},
		{"two JSON values", `{"matches": []} {}`, vuln.ErrUnknownFormat, "", ""},
		{"a list", `[{"Target": "app", "Vulnerabilities": []}]`, vuln.ErrUnknownFormat, "", ""},
		{"a CycloneDX SBOM", `{"bomFormat": "CycloneDX", "specVersion": "1.5", "components": []}`, vuln.ErrUnknownFormat, "", ""},
		{"an empty object", `{}`, vuln.ErrUnknownFormat, "", ""},
		{"grype and trivy at once", `{"matches": [], "SchemaVersion": 2}`, vuln.ErrUnknownFormat, "", ""},
		{"a statement of another predicate", `{"_type": "https://in-toto.io/Statement/v1", "predicateType": "https://slsa.dev/provenance/v1", "predicate": {}}`, vuln.ErrUnknownFormat, vuln.FormatInToto, "predicateType"},
		{"grype matches is an object", grype(`{}`), vuln.ErrMalformed, vuln.FormatGrype, "matches"},
		{"grype matches is null", grype(`null`), vuln.ErrMalformed, vuln.FormatGrype, "matches"},
		{"grype without a descriptor", `{"matches": []}`, vuln.ErrMalformed, vuln.FormatGrype, "descriptor"},
		{"grype match without a vulnerability", grype(`[{"artifact": {"name": "libc6"}}]`), vuln.ErrMalformed, vuln.FormatGrype, "matches[0].vulnerability"},
		{"grype id is a number", grype(`[{"vulnerability": {"id": 2961}, "artifact": {"name": "libc6"}}]`), vuln.ErrMalformed, vuln.FormatGrype, "matches[0].vulnerability.id"},
		{"grype severity is a number", grype(`[{"vulnerability": {"id": "CVE-2024-2961", "severity": 8.1}, "artifact": {"name": "libc6"}}]`), vuln.ErrMalformed, vuln.FormatGrype, "matches[0].vulnerability.severity"},
		{"grype related vulnerability without an id", grype(`[{"vulnerability": {"id": "CVE-2024-2961"}, "relatedVulnerabilities": [{"namespace": "nvd:cpe"}], "artifact": {"name": "libc6"}}]`), vuln.ErrMalformed, vuln.FormatGrype, "matches[0].relatedVulnerabilities[0].id"},
		{"grype match without an artifact", grype(`[{"vulnerability": {"id": "CVE-2024-2961"}}]`), vuln.ErrMalformed, vuln.FormatGrype, "matches[0].artifact"},
		{"grype database not valid", `{"matches": [], "descriptor": {"name": "grype", "db": {"status": {"schemaVersion": "v6.0.2", "valid": false, "error": "the vulnerability database was built 9 days ago (max allowed age is 5 days)"}}}}`, vuln.ErrMalformed, vuln.FormatGrype, "descriptor.db.status"},
		{"grype timestamp not a time", `{"matches": [], "descriptor": {"name": "grype", "timestamp": "yesterday"}}`, vuln.ErrMalformed, vuln.FormatGrype, "descriptor.timestamp"},
		{"trivy schema version 1", `{"SchemaVersion": 1, "Results": []}`, vuln.ErrMalformed, vuln.FormatTrivy, "SchemaVersion"},
		{"trivy schema version a string", `{"SchemaVersion": "2", "Results": []}`, vuln.ErrMalformed, vuln.FormatTrivy, "SchemaVersion"},
		{"trivy Results is an object", `{"SchemaVersion": 2, "Results": {"Vulnerabilities": []}}`, vuln.ErrMalformed, vuln.FormatTrivy, "Results"},
		{"trivy Vulnerabilities is an object", `{"SchemaVersion": 2, "Results": [{"Vulnerabilities": {"VulnerabilityID": "CVE-2024-2961"}}]}`, vuln.ErrMalformed, vuln.FormatTrivy, "Results[0].Vulnerabilities"},
		{"trivy vulnerability without an id", `{"SchemaVersion": 2, "Results": [{"Vulnerabilities": [{"PkgName": "libc6", "Severity": "HIGH"}]}]}`, vuln.ErrMalformed, vuln.FormatTrivy, "Results[0].Vulnerabilities[0].VulnerabilityID"},
		{"trivy CVSS score a string", `{"SchemaVersion": 2, "Results": [{"Vulnerabilities": [{"VulnerabilityID": "CVE-2024-2961", "PkgName": "libc6", "CVSS": {"nvd": {"V3Score": "8.1"}}}]}]}`, vuln.ErrMalformed, vuln.FormatTrivy, "Results[0].Vulnerabilities[0].CVSS.nvd.V3Score"},
		{"trivy CVSS score over 10", `{"SchemaVersion": 2, "Results": [{"Vulnerabilities": [{"VulnerabilityID": "CVE-2024-2961", "PkgName": "libc6", "CVSS": {"nvd": {"V3Score": 81}}}]}]}`, vuln.ErrMalformed, vuln.FormatTrivy, "Results[0].Vulnerabilities[0].CVSS.nvd.V3Score"},
		{"trivy without its vulnerability scanner", `{"SchemaVersion": 2, "Results": [{"Target": "Dockerfile", "Class": "config", "Type": "dockerfile", "MisconfSummary": {"Successes": 24, "Failures": 0}}, {"Target": "app/.env", "Class": "secret", "Secrets": []}]}`, vuln.ErrMalformed, vuln.FormatTrivy, "Results"},
		{"trivy CreatedAt not a time", `{"SchemaVersion": 2, "CreatedAt": "2026-11-30 09:14"}`, vuln.ErrMalformed, vuln.FormatTrivy, "CreatedAt"},
		{"SARIF 2.0.0", `{"version": "2.0.0", "runs": []}`, vuln.ErrMalformed, vuln.FormatSARIF, "version"},
		{"SARIF with no run", `{"version": "2.1.0", "runs": []}`, vuln.ErrMalformed, vuln.FormatSARIF, "runs"},
		{"SARIF runs null", `{"version": "2.1.0", "runs": null}`, vuln.ErrMalformed, vuln.FormatSARIF, "runs"},
		{"SARIF run without results", sarif(`{` + driver + `}`), vuln.ErrMalformed, vuln.FormatSARIF, "runs[0].results"},
		{"SARIF tool without a name", sarif(`{"tool": {"driver": {}}, "results": []}`), vuln.ErrMalformed, vuln.FormatSARIF, "runs[0].tool.driver.name"},
		{"SARIF scan failed", sarif(`{` + driver + `, "invocations": [{"executionSuccessful": false}], "results": []}`), vuln.ErrMalformed, vuln.FormatSARIF, "runs[0].invocations[0].executionSuccessful"},
		{"SARIF invocation without executionSuccessful", sarif(`{` + driver + `, "invocations": [{"endTimeUtc": "2026-11-30T08:09:47Z"}], "results": []}`), vuln.ErrMalformed, vuln.FormatSARIF, "runs[0].invocations[0].executionSuccessful"},
		{"SARIF unknown level", sarif(`{` + driver + `, "results": [{"ruleId": "CVE-2024-2961", "level": "fatal"}]}`), vuln.ErrMalformed, vuln.FormatSARIF, "runs[0].results[0].level"},
		{"SARIF security-severity a number", sarif(`{"tool": {"driver": {"name": "grype", "rules": [{"id": "CVE-2024-2961-libc6", "properties": {"security-severity": 8.1}}]}}, "results": []}`), vuln.ErrMalformed, vuln.FormatSARIF, "runs[0].tool.driver.rules[0].properties.security-severity"},
		{"SARIF security-severity not a score", sarif(`{` + driver + `, "results": [{"ruleId": "CVE-2024-2961", "properties": {"security-severity": "high"}}]}`), vuln.ErrMalformed, vuln.FormatSARIF, "runs[0].results[0].properties.security-severity"},
		{"SARIF result naming no rule", sarif(`{` + driver + `, "results": [{"message": {"text": "x"}}]}`), vuln.ErrMalformed, vuln.FormatSARIF, "runs[0].results[0].ruleId"},
		{"SARIF rule index out of range", sarif(`{` + driver + `, "results": [{"ruleIndex": 3}]}`), vuln.ErrMalformed, vuln.FormatSARIF, "runs[0].results[0].ruleIndex"},
		{"SARIF runs of two tools", sarif(`{` + driver + `, "results": []}, {"tool": {"driver": {"name": "grype"}}, "results": []}`), vuln.ErrMalformed, vuln.FormatSARIF, "runs[1].tool.driver.name"},
		{"SARIF started after it finished", sarif(`{` + driver + `, "invocations": [{"executionSuccessful": true, "startTimeUtc": "2026-11-30T09:00:00Z", "endTimeUtc": "2026-11-30T08:00:00Z"}], "results": []}`), vuln.ErrMalformed, vuln.FormatSARIF, ""},
		{"OSV results is an object", `{"results": {}}`, vuln.ErrMalformed, vuln.FormatOSV, "results"},
		{"OSV package without a name", osv(`{"package": {"version": "4.17.20", "ecosystem": "npm"}}`), vuln.ErrMalformed, vuln.FormatOSV, "results[0].packages[0].package.name"},
		{"OSV vulnerability without an id", osv(`{"package": {"name": "lodash"}, "vulnerabilities": [{"aliases": ["CVE-2021-23337"]}]}`), vuln.ErrMalformed, vuln.FormatOSV, "results[0].packages[0].vulnerabilities[0].id"},
		{"OSV aliases a string", osv(`{"package": {"name": "lodash"}, "vulnerabilities": [{"id": "GHSA-35jh-r3h4-6jhm", "aliases": "CVE-2021-23337"}]}`), vuln.ErrMalformed, vuln.FormatOSV, "results[0].packages[0].vulnerabilities[0].aliases"},
		{"OSV database severity a number", osv(`{"package": {"name": "lodash"}, "vulnerabilities": [{"id": "GHSA-35jh-r3h4-6jhm", "database_specific": {"severity": 7}}]}`), vuln.ErrMalformed, vuln.FormatOSV, "results[0].packages[0].vulnerabilities[0].database_specific.severity"},
		{"OSV group without ids", osv(`{"package": {"name": "lodash"}, "groups": [{"ids": [], "max_severity": "7.2"}]}`), vuln.ErrMalformed, vuln.FormatOSV, "results[0].packages[0].groups[0].ids"},
		{"OSV max_severity a label", osv(`{"package": {"name": "lodash"}, "groups": [{"ids": ["GHSA-35jh-r3h4-6jhm"], "max_severity": "HIGH"}]}`), vuln.ErrMalformed, vuln.FormatOSV, "results[0].packages[0].groups[0].max_severity"},
		{"v0.2 without a scanner", `{"_type": "https://in-toto.io/Statement/v1", "predicateType": "https://in-toto.io/attestation/vulns/v0.2", "predicate": {"metadata": {}}}`, vuln.ErrMalformed, vuln.FormatInToto, "predicate.scanner"},
		{"v0.2 scanner without a uri", `{"scanner": {"result": []}}`, vuln.ErrMalformed, vuln.FormatInToto, "scanner.uri"},
		{"v0.2 result is an object, as in cosign's predicate", `{"scanner": {"uri": "pkg:github/aquasecurity/trivy", "result": {"Results": []}}}`, vuln.ErrMalformed, vuln.FormatInToto, "scanner.result"},
		{"v0.2 result without an id", v02(`{"severity": [{"method": "nvd", "score": "9.8"}]}`), vuln.ErrMalformed, vuln.FormatInToto, "scanner.result[0].id"},
		{"v0.2 severity is an object", v02(`{"id": "CVE-2024-2961", "severity": {"score": "9.8"}}`), vuln.ErrMalformed, vuln.FormatInToto, "scanner.result[0].severity"},
		{"v0.2 score is a number", v02(`{"id": "CVE-2024-2961", "severity": [{"method": "cvss_score", "score": 9.8}]}`), vuln.ErrMalformed, vuln.FormatInToto, "scanner.result[0].severity[0].score"},
		{"v0.2 annotation aliases a string", v02(`{"id": "CVE-2024-2961", "annotations": [{"aliases": "DSA-5678-1"}]}`), vuln.ErrMalformed, vuln.FormatInToto, "scanner.result[0].annotations[0].aliases"},
		{"v0.2 time of year 0", `{"scanner": {"uri": "pkg:golang/github.com/anchore/grype"}, "metadata": {"scanFinishedOn": "0000-06-01T00:00:00Z"}}`, vuln.ErrMalformed, vuln.FormatInToto, "metadata.scanFinishedOn"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := vuln.Parse([]byte(c.doc))
			require.Nil(t, r)
			require.ErrorIs(t, err, c.sentinel)
			var fe *vuln.FormatError
			require.ErrorAs(t, err, &fe)
			require.Equal(t, c.format, fe.Format)
			require.Equal(t, c.path, fe.Path, "error: %v", err)
			require.NotEmpty(t, fe.Reason)
			if c.path != "" {
				require.Contains(t, err.Error(), c.path)
			}
		})
	}
}

func TestEmptyScanReportsHaveNoFindings(t *testing.T) {
	for _, doc := range []string{
		`{"matches": [], "descriptor": {"name": "grype", "version": "0.87.0"}}`,
		`{"SchemaVersion": 2}`,
		`{"SchemaVersion": 2, "Results": [{"Target": "app", "Class": "lang-pkgs", "Vulnerabilities": null}]}`,
		`{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "grype"}}, "results": []}]}`,
		`{"results": []}`,
		`{"scanner": {"uri": "pkg:github/aquasecurity/trivy"}}`,
	} {
		r, err := vuln.Parse([]byte(doc))
		require.NoError(t, err, doc)
		require.NotNil(t, r.Findings, doc)
		require.Empty(t, r.Findings, doc)
	}
}

func TestSARIFScanResultKinds(t *testing.T) {
	doc := `{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "scanner", "rules": [{"id": "R1", "defaultConfiguration": {"level": "error"}}]}}, "results": [
		{"ruleId": "R1", "kind": "pass"},
		{"ruleId": "R1", "kind": "notApplicable"},
		{"ruleId": "R1", "kind": "informational", "level": "note"},
		{"ruleId": "R1", "kind": "review"},
		{"ruleId": "R1", "kind": "open", "level": "none"},
		{"ruleIndex": 0, "level": "note"},
		{"rule": {"id": "R2"}}
	]}]}`
	r, err := vuln.Parse([]byte(doc))
	require.NoError(t, err)
	require.Equal(t, []vuln.Finding{
		{ID: "R1", Severity: vuln.SeverityHigh, Score: "high", Method: "sarif-level"}, // review: the rule's level
		{ID: "R1", Severity: vuln.SeverityNone, Score: "none", Method: "sarif-level"},
		{ID: "R1", Severity: vuln.SeverityLow, Score: "low", Method: "sarif-level"},
		{ID: "R2", Severity: vuln.SeverityMedium, Score: "medium", Method: "sarif-level"}, // SARIF's default level
	}, r.Findings)
}

func TestScanReportSizeLimit(t *testing.T) {
	big := make([]byte, vuln.MaxReportBytes+1)
	_, err := vuln.Parse(big)
	var se *provenance.SizeError
	require.ErrorAs(t, err, &se)
	require.ErrorIs(t, err, provenance.ErrTooLarge)
	require.Equal(t, int64(vuln.MaxReportBytes), se.Limit)
}

func TestScanFormatNamed(t *testing.T) {
	doc := []byte(`{"matches": [], "descriptor": {"name": "grype"}, "SchemaVersion": 2}`)
	_, err := vuln.Parse(doc)
	require.ErrorIs(t, err, vuln.ErrUnknownFormat, "ambiguous")
	r, err := vuln.ParseFormat(doc, vuln.FormatGrype)
	require.NoError(t, err)
	require.Equal(t, vuln.FormatGrype, r.Format)

	_, err = vuln.ParseFormat(fixture(t, "trivy.json"), vuln.FormatGrype)
	var fe *vuln.FormatError
	require.ErrorAs(t, err, &fe)
	require.ErrorIs(t, err, vuln.ErrUnknownFormat)
	require.Equal(t, vuln.FormatGrype, fe.Format)

	_, err = vuln.ParseFormat(fixture(t, "trivy.json"), "cyclonedx")
	require.ErrorIs(t, err, vuln.ErrUnknownFormat)
}

func TestScanFieldsAreCaseExact(t *testing.T) {
	// encoding/json alone would read "Matches" as grype's "matches".
	_, err := vuln.Parse([]byte(`{"Matches": [{"vulnerability": {"id": "CVE-2024-2961"}}], "Descriptor": {"name": "grype"}}`))
	require.ErrorIs(t, err, vuln.ErrUnknownFormat)
	_, err = vuln.Parse([]byte(`{"matches": [{"Vulnerability": {"id": "CVE-2024-2961"}, "artifact": {"name": "libc6"}}], "descriptor": {"name": "grype"}}`))
	var fe *vuln.FormatError
	require.ErrorAs(t, err, &fe)
	require.Equal(t, "matches[0].vulnerability", fe.Path)
}
