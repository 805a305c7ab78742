package vuln_test

import (
	"errors"
	"fmt"

	"github.com/opencontainers/go-digest"

	"github.com/provkit/provkit/provenance/vuln"
)

func ExampleParse() {
	report := []byte(`{
	  "SchemaVersion": 2,
	  "Trivy": {"Version": "0.58.1"},
	  "CreatedAt": "2026-11-30T09:14:03Z",
	  "Results": [{"Target": "usr/local/bin/app", "Class": "lang-pkgs", "Vulnerabilities": [
	    {"VulnerabilityID": "CVE-2024-45337", "PkgName": "golang.org/x/crypto", "InstalledVersion": "v0.21.0",
	     "FixedVersion": "0.31.0", "SeveritySource": "ghsa", "Severity": "CRITICAL"},
	    {"VulnerabilityID": "CVE-2023-50495", "PkgName": "ncurses-base", "InstalledVersion": "6.4-4", "Severity": "UNKNOWN"}
	  ]}]
	}`)
	r, err := vuln.Parse(report)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(r.Format, r.Scanner.Name, r.Scanner.Version, r.FinishedOn.Format("2006-01-02 15:04"))
	for _, f := range r.Findings {
		fmt.Printf("%s %s %s (%s) at or above high: %t\n", f.ID, f.Package, f.Severity, f.Score, f.Severity.AtLeast(vuln.SeverityHigh))
	}

	st, err := r.Statement(digest.FromString("app image"), "registry.example/app:1.4.2")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(st.GetPredicateType())

	_, err = vuln.Parse([]byte(`{"SchemaVersion": 2, "Results": [{"Vulnerabilities": {"VulnerabilityID": "CVE-2024-45337"}}]}`))
	fmt.Println(errors.Is(err, vuln.ErrMalformed), err)
	_, err = vuln.Parse([]byte(`{"bomFormat": "CycloneDX"}`))
	fmt.Println(errors.Is(err, vuln.ErrUnknownFormat))
	// Output:
	// trivy trivy 0.58.1 2026-11-30 09:14
	// CVE-2024-45337 golang.org/x/crypto critical (CRITICAL) at or above high: true
	// CVE-2023-50495 ncurses-base unknown (UNKNOWN) at or above high: true
	// https://in-toto.io/attestation/vulns/v0.2
	// true vuln: trivy report: Results[0].Vulnerabilities: an object, not a list of vulnerabilities
	// true
}
