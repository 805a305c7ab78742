package vuln_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/require"

	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/provenance/vuln"
)

// FuzzParse feeds any bytes to Parse: a report Parse accepts can always be written as a
// statement, which Parse reads back to the same findings, times and scanner, and from then on
// the round trip changes nothing; anything else is a *FormatError wrapping one of its two
// sentinels.
func FuzzParse(f *testing.F) {
	names, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	require.NoError(f, err)
	require.NotEmpty(f, names)
	for _, name := range names {
		data, err := os.ReadFile(name)
		require.NoError(f, err)
		f.Add(data)
	}
	f.Add([]byte(`{"matches": [], "descriptor": {"name": "grype"}}`))
	f.Add([]byte(`{"SchemaVersion": 2, "Results": [{"Vulnerabilities": [{"VulnerabilityID": "CVE-2024-2961", "PkgName": "libc6", "Severity": "UNKNOWN", "CVSS": {"nvd": {"V3Score": 8.1}}}]}]}`))
	f.Add([]byte(`{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "grype", "rules": [{"id": "CVE-2024-2961-libc6"}]}}, "results": [{"ruleIndex": 0}]}]}`))
	f.Add([]byte(`{"results": [{"packages": [{"package": {"name": "lodash"}, "vulnerabilities": [{"id": "A", "aliases": ["B"]}, {"id": "A"}], "groups": [{"ids": ["B", "A"]}]}]}]}`))
	f.Add([]byte(`{"scanner": {"uri": "x", "result": [{"id": "CVE-1", "severity": [{"score": "9"}, {"method": "m"}]}]}}`))
	subject := digest.FromString("fuzzed image")
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := vuln.Parse(data)
		if err != nil {
			var fe *vuln.FormatError
			require.ErrorAs(t, err, &fe)
			require.True(t, errors.Is(err, vuln.ErrUnknownFormat) || errors.Is(err, vuln.ErrMalformed), "%v", err)
			require.NotEmpty(t, fe.Reason)
			return
		}
		require.NotNil(t, r.Findings)
		require.NoError(t, r.Validate())
		for _, f := range r.Findings {
			require.Equal(t, vuln.ParseSeverity(f.Score), f.Severity)
		}
		st, err := r.Statement(subject, "fuzz")
		require.NoError(t, err)
		raw, err := provenance.Marshal(st)
		require.NoError(t, err)
		back, err := vuln.Parse(raw)
		require.NoError(t, err)
		require.Equal(t, r.Findings, back.Findings)
		require.Equal(t, r.StartedOn, back.StartedOn)
		require.Equal(t, r.FinishedOn, back.FinishedOn)
		require.Equal(t, r.Scanner.Version, back.Scanner.Version)
		require.Equal(t, r.Scanner.DB, back.Scanner.DB)

		st, err = back.Statement(subject, "fuzz")
		require.NoError(t, err)
		raw, err = provenance.Marshal(st)
		require.NoError(t, err)
		again, err := vuln.Parse(raw)
		require.NoError(t, err)
		require.Equal(t, back, again)
	})
}
