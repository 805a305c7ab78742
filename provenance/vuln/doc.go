// Package vuln turns the vulnerability scan reports people already produce into in-toto
// statements of the vulnerability predicate https://in-toto.io/attestation/vulns/v0.2, to be
// signed and attached beside the artifact like any attestation, and read by the policy
// package's vulnerabilities rule.
//
//	report, err := vuln.Parse(data) // grype, Trivy, SARIF, OSV-Scanner or vulns v0.2
//	if err != nil {
//		return err // a *FormatError: errors.Is(err, vuln.ErrUnknownFormat) or vuln.ErrMalformed
//	}
//	st, err := report.Statement(image.Digest, "registry.example/app:1.4.2")
//
// # Formats
//
// Parse detects the format from the document's content alone, never from a file name, by its
// top-level fields; a document with the fields of two formats is refused, and ParseFormat reads
// it as the one named.
//
//   - grype (grype -o json): matches[] with vulnerability{id, severity, namespace,
//     fix.versions}, relatedVulnerabilities[].id (the aliases) and artifact{name, version,
//     purl}; descriptor{name, version, timestamp, db}, db in the form of grype's database
//     schema v6 (status{schemaVersion, from, built, valid}) or the one before it.
//   - Trivy (trivy --format json, SchemaVersion 2): Trivy.Version, CreatedAt and each
//     Results[].Vulnerabilities[]{VulnerabilityID, VendorIDs, PkgName, InstalledVersion,
//     FixedVersion, PkgIdentifier.PURL, Severity, SeveritySource, CVSS}.
//   - SARIF 2.1.0, as Trivy, grype, CodeQL and others write it: per run, tool.driver{name,
//     version, informationUri, rules[]} and tool.extensions[].rules[], invocations[]{
//     executionSuccessful, startTimeUtc, endTimeUtc}, results[]{ruleId (or rule, ruleIndex),
//     kind, level, properties}, and the security-severity property of a result or its rule.
//   - OSV-Scanner (osv-scanner --format json): results[].packages[] with package{name,
//     version, ecosystem}, vulnerabilities[]{id, aliases, database_specific.severity,
//     severity[]{type, score}} and groups[]{ids, aliases, max_severity}.
//   - in-toto vulns v0.2, as Statement writes it or any other producer: the predicate alone, or
//     a statement holding it (its subject is not read).
//
// # Severities
//
// Each finding's Score is kept as the report gives it, and its Severity read from it by
// ParseSeverity, exactly as the policy package reads a vulns v0.2 score:
//
//	label                                      CVSS base score   Severity
//	none, negligible, info, informational      0.0               none
//	low                                        0.1 - 3.9         low
//	medium, moderate                           4.0 - 6.9         medium
//	high, important                            7.0 - 8.9         high
//	critical                                   9.0 - 10.0        critical
//	anything else (UNKNOWN, a CVSS vector)     -                 unknown
//
// Labels are read in any case. Where each format's score comes from:
//
//   - grype: vulnerability.severity ("Negligible" to "Critical", or "Unknown").
//   - Trivy: Severity ("LOW" to "CRITICAL"); when Trivy rates a finding UNKNOWN or not at all
//     but holds a CVSS base score for it, the score of its SeveritySource, else the highest
//     any vendor gives (each vendor's newest CVSS version).
//   - SARIF: the result's security-severity, else its rule's (the score GitHub code scanning
//     reads); else the level of the result, else of its rule, else "warning" as SARIF defaults:
//     error is high, warning medium, note low and none none. Trivy's SARIF writes a
//     security-severity of 0.0 for what it rates UNKNOWN, which reads as none: give Trivy's JSON
//     to keep such findings unknown.
//   - OSV-Scanner: a group's max_severity (the highest CVSS base score OSV-Scanner computed
//     from its entries' vectors); else the worst of its entries' database_specific.severity
//     and Ubuntu ratings. A CVSS vector alone is not scored.
//   - vulns v0.2: of a result's severity[] scores, an unknown one, else the highest, as the
//     policy rule decides.
//
// An unknown severity counts, in the policy rule and in Severity.AtLeast, as at any threshold.
//
// # What is not read
//
// Parse reads vulnerabilities and nothing else: Trivy's misconfigurations, secrets and
// licenses, OSV-Scanner's license violations and SARIF results of kind pass, notApplicable or
// informational are not findings. grype's ignoredMatches are not read: ignore rules are the
// scanning party's decision, and the policy's own (ignore, OpenVEX) apply to what was found.
// SARIF suppressions and baseline states are not read either, so a suppressed result counts.
// SARIF results carry no package fields: Package is empty, except that grype's rule id, the
// vulnerability id and package name joined, is split back into the two. Descriptions, URLs,
// locations, layers and match details are left out of the statement, which says what was
// found, not why.
//
// A report that says nothing was found is zero findings, so a scanner's failure must not look
// like one. grype writes no report when it cannot load its database. A Trivy report holding
// only misconfiguration, secret or license results (trivy --scanners misconfig,secret) is
// refused: Trivy did not look for vulnerabilities. But Trivy's JSON does not say which of its
// scanners ran, and OSV-Scanner writes {"results": []} both when it found nothing and when it
// could not reach its database (exiting 127, or exiting 0 with --offline-vulnerabilities and no
// local database): check the scanner's exit status before attesting its report.
//
// Times are kept only when the report gives them: grype's descriptor.timestamp and Trivy's
// CreatedAt are when the scan finished; SARIF's invocation times are both ends; OSV-Scanner
// records no time and no version. A report that says its scan did not succeed (a SARIF
// invocation with executionSuccessful false, a grype database that is not valid) is refused.
//
// # Predicate (https://in-toto.io/attestation/vulns/v0.2)
//
// Statement writes the predicate of the in-toto specification
// (https://github.com/in-toto/attestation/blob/main/spec/predicates/vulns_02.md) with the
// in-toto Go types: scanner{uri, version, db{uri, version, lastUpdate}, result[{id,
// severity[{method, score}], annotations}]} and metadata{scanStartedOn, scanFinishedOn}. Each
// result has one annotation object holding, when known, aliases (a list), package, version,
// fixedIn and purl. The scanner's uri is a package URL such as
// pkg:golang/github.com/anchore/grype@v0.87.0 for the scanners above, a SARIF tool's
// informationUri for others, else pkg:generic/NAME@VERSION. The predicate has no invocation
// field (cosign's earlier vuln predicate has one), so none is written.
//
// A Report is a plain value: safe for concurrent reads; Parse and Statement keep no state.
package vuln
