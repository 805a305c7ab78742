package vuln_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	vulns "github.com/in-toto/attestation/go/predicates/vulns/v02"
	"github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/vuln"
)

var image = digest.FromString("registry.example/shop/api:1.4.2")

// TestScanStatementRoundTrip: the statement of every fixture's report is a valid vulns v0.2
// statement that the in-toto Go type reads with no unknown field, and Parse reads it back to
// the same findings, times and scanner.
func TestScanStatementRoundTrip(t *testing.T) {
	uris := map[string]string{
		"grype.json":               "pkg:golang/github.com/anchore/grype@v0.87.0",
		"grype-empty.json":         "pkg:golang/github.com/anchore/grype@v0.79.3",
		"trivy.json":               "pkg:golang/github.com/aquasecurity/trivy@v0.58.1",
		"trivy-empty.json":         "pkg:golang/github.com/aquasecurity/trivy@v0.58.1",
		"sarif-trivy.json":         "pkg:golang/github.com/aquasecurity/trivy@v0.58.1",
		"sarif-grype.json":         "pkg:golang/github.com/anchore/grype@v0.87.0",
		"sarif-codeql.json":        "pkg:generic/CodeQL@2.19.3",
		"osv-scanner.json":         "pkg:golang/github.com/google/osv-scanner",
		"osv-scanner-empty.json":   "pkg:golang/github.com/google/osv-scanner",
		"vulns-v02.json":           "pkg:github/aquasecurity/trivy@244fd47e07d1004f0aed9",
		"vulns-v02-predicate.json": "pkg:golang/github.com/anchore/grype@v0.87.0",
	}
	for name, uri := range uris {
		t.Run(name, func(t *testing.T) {
			r, err := vuln.Parse(fixture(t, name))
			require.NoError(t, err)
			st, err := r.Statement(image, "registry.example/shop/api:1.4.2")
			require.NoError(t, err)
			require.Equal(t, provenance.PredicateVulnsV02, st.GetPredicateType())
			require.Equal(t, image.Encoded(), st.GetSubject()[0].GetDigest()["sha256"])
			require.Equal(t, "registry.example/shop/api:1.4.2", st.GetSubject()[0].GetName())

			raw, err := st.GetPredicate().MarshalJSON()
			require.NoError(t, err)
			var typed vulns.Vulns
			require.NoError(t, protojson.Unmarshal(raw, &typed), "only the fields of the in-toto type")
			require.Equal(t, uri, typed.GetScanner().GetUri())
			require.Len(t, typed.GetScanner().GetResult(), len(r.Findings))
			result, ok := st.GetPredicate().GetFields()["scanner"].GetStructValue().GetFields()["result"]
			require.True(t, ok, "result is written even when empty")
			require.NotNil(t, result.GetListValue())

			data, err := provenance.Marshal(st)
			require.NoError(t, err)
			back, err := vuln.Parse(data)
			require.NoError(t, err)
			require.Equal(t, vuln.FormatInToto, back.Format)
			require.Equal(t, r.Findings, back.Findings)
			require.Equal(t, r.StartedOn, back.StartedOn)
			require.Equal(t, r.FinishedOn, back.FinishedOn)
			require.Equal(t, r.Scanner.Version, back.Scanner.Version)
			require.Equal(t, r.Scanner.DB, back.Scanner.DB)
			require.Equal(t, uri, back.Scanner.URI)
			require.Equal(t, strings.ToLower(r.Scanner.Name), strings.ToLower(back.Scanner.Name))
		})
	}
}

// TestScanStatementPredicate asserts the predicate Statement writes, field by field.
func TestScanStatementPredicate(t *testing.T) {
	r := &vuln.Report{
		Scanner: vuln.Scanner{Name: "grype", Version: "0.87.0", DB: vuln.Database{Version: "v6.0.2", Updated: time.Date(2026, 11, 30, 4, 5, 9, 0, time.UTC)}},
		// No StartedOn: grype does not say when it started, and none is invented.
		FinishedOn: time.Date(2026, 11, 30, 15, 15, 42, 0, time.UTC),
		Findings: []vuln.Finding{
			{ID: "GHSA-qppj-fm5r-hxr3", Aliases: []string{"CVE-2023-44487"}, Severity: vuln.SeverityMedium, Score: "Medium", Method: "github:language:go",
				Package: "golang.org/x/net", Version: "v0.15.0", FixedIn: "0.17.0", PURL: "pkg:golang/golang.org/x/net@v0.15.0"},
			{ID: "TEMP-0517018-A83CE6"},
		},
	}
	st, err := r.Statement(image, "")
	require.NoError(t, err)
	raw, err := json.Marshal(st.GetPredicate().AsMap())
	require.NoError(t, err)
	require.JSONEq(t, `{
		"scanner": {
			"uri": "pkg:golang/github.com/anchore/grype@v0.87.0",
			"version": "0.87.0",
			"db": {"version": "v6.0.2", "lastUpdate": "2026-11-30T04:05:09Z"},
			"result": [
				{"id": "GHSA-qppj-fm5r-hxr3",
				 "severity": [{"method": "github:language:go", "score": "Medium"}],
				 "annotations": [{"aliases": ["CVE-2023-44487"], "package": "golang.org/x/net", "version": "v0.15.0", "fixedIn": "0.17.0", "purl": "pkg:golang/golang.org/x/net@v0.15.0"}]},
				{"id": "TEMP-0517018-A83CE6"}
			]
		},
		"metadata": {"scanFinishedOn": "2026-11-30T15:15:42Z"}
	}`, string(raw))
}

func TestScanStatementRejects(t *testing.T) {
	good := func() *vuln.Report {
		return &vuln.Report{Scanner: vuln.Scanner{Name: "trivy"}, Findings: []vuln.Finding{{ID: "CVE-2024-2961", Severity: vuln.SeverityHigh, Score: "HIGH", Method: "nvd"}}}
	}
	_, err := good().Statement(image, "")
	require.NoError(t, err)
	for field, change := range map[string]func(*vuln.Report){
		"Scanner":                func(r *vuln.Report) { r.Scanner = vuln.Scanner{} },
		"Findings[0].ID":         func(r *vuln.Report) { r.Findings[0].ID = "" },
		"Findings[0].Method":     func(r *vuln.Report) { r.Findings[0].Method = "" },
		"Findings[0].Severity":   func(r *vuln.Report) { r.Findings[0].Severity = vuln.SeverityLow },
		"Findings[0].Aliases[0]": func(r *vuln.Report) { r.Findings[0].Aliases = []string{""} },
		"StartedOn": func(r *vuln.Report) {
			r.StartedOn, r.FinishedOn = time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
		},
		"FinishedOn": func(r *vuln.Report) { r.FinishedOn = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) },
	} {
		t.Run(field, func(t *testing.T) {
			r := good()
			change(r)
			_, err := r.Statement(image, "")
			var fe *vuln.FieldError
			require.ErrorAs(t, err, &fe)
			require.Equal(t, field, fe.Field)
			require.ErrorIs(t, err, vuln.ErrInvalidReport)
		})
	}
	t.Run("a severity with no score", func(t *testing.T) {
		r := good()
		r.Findings[0].Score, r.Findings[0].Method = "", ""
		var fe *vuln.FieldError
		require.ErrorAs(t, r.Validate(), &fe)
		require.Equal(t, "Findings[0].Severity", fe.Field, "a reader of the statement would see it unknown")
	})
	for name, d := range map[string]digest.Digest{
		"no subject":       "",
		"not a digest":     "registry.example/shop/api:1.4.2",
		"upper-case hex":   digest.Digest("sha256:" + strings.ToUpper(image.Encoded())),
		"not identifying":  digest.Digest("md5:" + strings.Repeat("ab", 16)),
		"too short a hash": "sha256:abcd",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := good().Statement(d, "")
			var fe *vuln.FieldError
			require.ErrorAs(t, err, &fe)
			require.Equal(t, "subject", fe.Field)
			require.ErrorIs(t, err, vuln.ErrInvalidReport)
		})
	}
}

func TestScanStatementSizeLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a statement of 48 MiB")
	}
	r := &vuln.Report{Scanner: vuln.Scanner{Name: "trivy"}}
	id := strings.Repeat("x", 1<<20)
	for range provenance.MaxStatementBytes>>20 + 1 {
		r.Findings = append(r.Findings, vuln.Finding{ID: id})
	}
	_, err := r.Statement(image, "")
	var se *provenance.SizeError
	require.ErrorAs(t, err, &se)
	require.Equal(t, int64(provenance.MaxStatementBytes), se.Limit)
}

func TestScanCount(t *testing.T) {
	r, err := vuln.Parse(fixture(t, "trivy.json"))
	require.NoError(t, err)
	require.Equal(t, map[vuln.Severity]int{vuln.SeverityCritical: 1, vuln.SeverityHigh: 1, vuln.SeverityMedium: 1, vuln.SeverityUnknown: 1}, r.Count())
}
