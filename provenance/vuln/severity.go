package vuln

import (
	"strconv"
	"strings"
)

// Severity is how bad a finding is, from none to critical. The zero value is SeverityUnknown,
// so a finding nobody rated is never taken for a harmless one.
type Severity int

// The severities. SeverityUnknown sorts below SeverityNone; compare with AtLeast, which counts
// an unknown severity as at any threshold.
const (
	// SeverityUnknown: the report gives no severity, or one that cannot be read.
	SeverityUnknown Severity = iota
	// SeverityNone: rated, and harmless (CVSS 0.0, "negligible", "info").
	SeverityNone
	// SeverityLow: CVSS 0.1 to 3.9.
	SeverityLow
	// SeverityMedium: CVSS 4.0 to 6.9 ("moderate").
	SeverityMedium
	// SeverityHigh: CVSS 7.0 to 8.9 ("important").
	SeverityHigh
	// SeverityCritical: CVSS 9.0 to 10.0.
	SeverityCritical
)

// severityLabels are the labels scanners and advisory databases write, lower-cased. They are
// the policy package's vulnerabilities rule's labels, exactly.
var severityLabels = map[string]Severity{
	"none": SeverityNone, "negligible": SeverityNone, "info": SeverityNone, "informational": SeverityNone,
	"low": SeverityLow, "medium": SeverityMedium, "moderate": SeverityMedium, "high": SeverityHigh, "important": SeverityHigh,
	"critical": SeverityCritical,
}

// ParseSeverity reads a severity label, in any case ("HIGH", "Moderate", "negligible"), or a
// CVSS base score from 0 to 10 ("7.5"). Anything else, a CVSS vector among them, is
// SeverityUnknown. It reads exactly as the policy package's vulnerabilities rule does.
func ParseSeverity(s string) Severity {
	s = strings.TrimSpace(s)
	if n, ok := severityLabels[strings.ToLower(s)]; ok {
		return n
	}
	if score, ok := parseScore(s); ok {
		return scoreSeverity(score)
	}
	return SeverityUnknown
}

// parseScore reads a CVSS base score: a number from 0 to 10 (NaN is not one).
func parseScore(s string) (float64, bool) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || !(f >= 0 && f <= 10) {
		return 0, false
	}
	return f, true
}

// scoreSeverity is the CVSS v3 qualitative rating of a base score.
func scoreSeverity(f float64) Severity {
	switch {
	case f >= 9:
		return SeverityCritical
	case f >= 7:
		return SeverityHigh
	case f >= 4:
		return SeverityMedium
	case f > 0:
		return SeverityLow
	}
	return SeverityNone
}

// String returns the severity's name: "unknown", "none", "low", "medium", "high" or
// "critical".
func (s Severity) String() string {
	switch s {
	case SeverityNone:
		return "none"
	case SeverityLow:
		return "low"
	case SeverityMedium:
		return "medium"
	case SeverityHigh:
		return "high"
	case SeverityCritical:
		return "critical"
	}
	return "unknown"
}

// AtLeast says whether s is at or above threshold. An unknown severity is at every threshold:
// a finding nobody rated counts as bad as the worst the caller cares about.
func (s Severity) AtLeast(threshold Severity) bool {
	return s == SeverityUnknown || s >= threshold
}

// worse says whether a, in the way the policy rule combines several scores of one finding, is
// the one to keep over b: an unknown score wins, then the higher.
func worse(a, b Severity) bool {
	if b == SeverityUnknown {
		return false
	}
	return a == SeverityUnknown || a > b
}
