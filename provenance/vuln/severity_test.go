package vuln_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/provkit/provkit/provenance/vuln"
)

func TestVulnSeverityLabelsAndScores(t *testing.T) {
	for in, want := range map[string]vuln.Severity{
		"CRITICAL": vuln.SeverityCritical, "High": vuln.SeverityHigh, "important": vuln.SeverityHigh,
		"MODERATE": vuln.SeverityMedium, "medium": vuln.SeverityMedium, " low ": vuln.SeverityLow,
		"Negligible": vuln.SeverityNone, "info": vuln.SeverityNone, "informational": vuln.SeverityNone, "none": vuln.SeverityNone,
		"10": vuln.SeverityCritical, "9.0": vuln.SeverityCritical, "8.9": vuln.SeverityHigh, "7.0": vuln.SeverityHigh,
		"6.9": vuln.SeverityMedium, "4": vuln.SeverityMedium, "3.9": vuln.SeverityLow, "0.1": vuln.SeverityLow,
		"0": vuln.SeverityNone, "0.0": vuln.SeverityNone,
		"": vuln.SeverityUnknown, "UNKNOWN": vuln.SeverityUnknown, "Unknown": vuln.SeverityUnknown,
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H": vuln.SeverityUnknown,
		"10.1": vuln.SeverityUnknown, "-1": vuln.SeverityUnknown, "NaN": vuln.SeverityUnknown, "Inf": vuln.SeverityUnknown,
		"error": vuln.SeverityUnknown, "severe": vuln.SeverityUnknown,
	} {
		require.Equal(t, want, vuln.ParseSeverity(in), "%q", in)
	}
}

func TestVulnSeverityOrderAndAtLeast(t *testing.T) {
	order := []vuln.Severity{vuln.SeverityUnknown, vuln.SeverityNone, vuln.SeverityLow, vuln.SeverityMedium, vuln.SeverityHigh, vuln.SeverityCritical}
	names := []string{"unknown", "none", "low", "medium", "high", "critical"}
	for i, s := range order {
		require.Equal(t, names[i], s.String())
		require.Equal(t, s, vuln.ParseSeverity(names[i]), "a name reads back")
		if i > 0 {
			require.Less(t, order[i-1], s)
		}
	}
	var zero vuln.Severity
	require.Equal(t, vuln.SeverityUnknown, zero, "the zero value is unknown, never harmless")
	require.True(t, vuln.SeverityUnknown.AtLeast(vuln.SeverityCritical), "unknown counts at any threshold")
	require.True(t, vuln.SeverityHigh.AtLeast(vuln.SeverityHigh))
	require.True(t, vuln.SeverityCritical.AtLeast(vuln.SeverityHigh))
	require.False(t, vuln.SeverityMedium.AtLeast(vuln.SeverityHigh))
	require.False(t, vuln.SeverityNone.AtLeast(vuln.SeverityLow))
}
