package policy

import (
	"testing"

	"github.com/provkit/provkit/provenance/vuln"
)

// FuzzSeverityAgreesWithVuln: the rule reads a score exactly as provenance/vuln.ParseSeverity
// does, so a finding's severity in a statement vuln writes is the one the rule decides by.
func FuzzSeverityAgreesWithVuln(f *testing.F) {
	for _, s := range []string{"", "none", "Negligible", "info", "informational", "LOW", "medium", "Moderate", "high", "IMPORTANT",
		"critical", "unknown", "0", "0.0", "0.1", "3.9", "4", "6.9", "7.0", "8.9", "9", "10", "10.0", "10.1", "-0", "-1",
		"NaN", "nan", "Inf", "+Inf", "1e1", "0x1p3", " 7.5 ", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "error"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := severityName(parseSeverity(s)), vuln.ParseSeverity(s).String(); got != want {
			t.Fatalf("%q: the rule reads %s, provenance/vuln %s", s, got, want)
		}
	})
}

func TestNaNIsNoScore(t *testing.T) {
	for _, s := range []string{"NaN", "nan", "-NaN"} {
		if got := parseSeverity(s); got != sevUnknown {
			t.Errorf("%q reads as %s, want unknown", s, severityName(got))
		}
	}
}
