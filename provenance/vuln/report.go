package vuln

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/provkit/provkit/provenance"
)

// MaxReportBytes is the largest report Parse reads. Scan reports are large (a grype report of a
// big image with its configuration runs to tens of megabytes) and are hostile input all the same.
const MaxReportBytes = 64 << 20

// Format is a scan report format Parse reads.
type Format string

// The formats, each detected from the document's content.
const (
	// FormatGrype is grype's JSON output (grype -o json).
	FormatGrype Format = "grype"
	// FormatTrivy is Trivy's JSON output (trivy image --format json), schema version 2.
	FormatTrivy Format = "trivy"
	// FormatSARIF is a SARIF 2.1.0 log, as Trivy, grype, CodeQL and others write it.
	FormatSARIF Format = "sarif"
	// FormatOSV is OSV-Scanner's JSON output (osv-scanner --format json).
	FormatOSV Format = "osv-scanner"
	// FormatInToto is an in-toto vulns v0.2 predicate, or a statement holding one.
	FormatInToto Format = "in-toto"
)

// Formats returns every format Parse reads.
func Formats() []Format {
	return []Format{FormatGrype, FormatTrivy, FormatSARIF, FormatOSV, FormatInToto}
}

// String returns the format's name.
func (f Format) String() string { return string(f) }

func (f Format) known() bool {
	for _, k := range Formats() {
		if f == k {
			return true
		}
	}
	return false
}

// Report is one vulnerability scan, as read from the scanner's report: who scanned, with which
// database, when, and what was found. A Report holds no subject: Statement binds it to one.
type Report struct {
	// Format is the format the report was read from.
	Format Format
	// Scanner is the scanner and its vulnerability database.
	Scanner Scanner
	// StartedOn is when the scan started; zero when the report does not say.
	StartedOn time.Time
	// FinishedOn is when the scan finished, or when the report was written; zero when the
	// report does not say.
	FinishedOn time.Time
	// Findings are the vulnerabilities found, in the report's order. Empty means none.
	Findings []Finding
}

// Scanner identifies the program that scanned.
type Scanner struct {
	// Name is the scanner's name: "grype", "trivy", "osv-scanner", or a SARIF tool driver's.
	Name string
	// Version is the scanner's version, as it gives it; empty when the report does not say.
	Version string
	// URI identifies the scanner as a URI. Empty, Statement writes a package URL derived from
	// Name and Version (pkg:golang/github.com/anchore/grype@v0.87.0 and the like).
	URI string
	// DB is the vulnerability database the scanner matched against.
	DB Database
}

// Database identifies a scanner's vulnerability database.
type Database struct {
	// URI is where the database came from; empty when the report does not say.
	URI string
	// Version is the database's version or schema version; empty when the report does not say.
	Version string
	// Updated is when the database was built or last updated; zero when the report does not say.
	Updated time.Time
}

// Finding is one vulnerability in one package.
type Finding struct {
	// ID is the vulnerability's identifier as the scanner reports it: CVE-2024-3094,
	// GHSA-..., GO-2024-..., or a SARIF rule id.
	ID string
	// Aliases are the vulnerability's other identifiers, without ID; nil when none.
	Aliases []string
	// Severity is Score read with ParseSeverity; SeverityUnknown when Score is empty.
	Severity Severity
	// Score is the severity as the report gives it: a label ("HIGH", "Moderate") or a CVSS
	// base score ("7.5"); empty when the report rates the finding not at all.
	Score string
	// Method says where Score comes from: the severity's source ("nvd", "ghsa", grype's
	// namespace), "cvss_score", "security-severity" or "sarif-level". Set whenever Score is.
	Method string
	// Package is the affected package's name; empty when the report does not say.
	Package string
	// Version is the installed version of Package; empty when the report does not say.
	Version string
	// FixedIn lists the versions that fix it, as the report writes them; empty when none is known.
	FixedIn string
	// PURL is the affected package's package URL; empty when the report does not give one.
	PURL string
}

// Parse reads a scan report of any format of Formats, detected from its content alone. It is
// strict: input over MaxReportBytes is a *provenance.SizeError; a document of no known format,
// or of more than one, a *FormatError wrapping ErrUnknownFormat; one of a known format whose
// fields Parse reads are missing or of the wrong type, a *FormatError wrapping ErrMalformed
// with the field's JSON path. It never reads a report it does not understand as one with no
// findings. A report that is valid and found nothing, such as grype's with "matches": [] or
// Trivy's with no Results, has zero Findings.
func Parse(data []byte) (*Report, error) {
	return parse(data, "")
}

// ParseFormat is Parse for a document the caller says is of format f: the document must still
// have the shape of f, and is read as f even when it also looks like another format.
func ParseFormat(data []byte, f Format) (*Report, error) {
	if !f.known() {
		return nil, &FormatError{Reason: fmt.Sprintf("%q is not a format (%s)", string(f), formatList()), Err: ErrUnknownFormat}
	}
	return parse(data, f)
}

func formatList() string {
	var names []string
	for _, f := range Formats() {
		names = append(names, string(f))
	}
	return strings.Join(names, ", ")
}

func parse(data []byte, want Format) (*Report, error) {
	if len(data) > MaxReportBytes {
		return nil, &provenance.SizeError{What: "scan report", Limit: MaxReportBytes, Size: int64(len(data))}
	}
	v, err := decode(data)
	if err != nil {
		return nil, err
	}
	top := node{v: v}
	if _, ok := v.(map[string]any); !ok {
		return nil, &FormatError{Reason: describe(v) + ", not a JSON object", Err: ErrUnknownFormat}
	}
	f := want
	if f == "" {
		if f, err = detect(top); err != nil {
			return nil, err
		}
	} else if !looksLike(top, f) {
		return nil, &FormatError{Format: f, Reason: "the document has none of the format's fields (" + markers[f] + ")", Err: ErrUnknownFormat}
	}
	top.format = f
	var r *Report
	switch f {
	case FormatGrype:
		r, err = readGrype(top)
	case FormatTrivy:
		r, err = readTrivy(top)
	case FormatSARIF:
		r, err = readSARIF(top)
	case FormatOSV:
		r, err = readOSV(top)
	case FormatInToto:
		r, err = readInToto(top)
	}
	if err != nil {
		return nil, err
	}
	r.Format = f
	if r.Findings == nil {
		r.Findings = []Finding{}
	}
	if !r.StartedOn.IsZero() && !r.FinishedOn.IsZero() && r.StartedOn.After(r.FinishedOn) {
		return nil, &FormatError{Format: f, Reason: fmt.Sprintf("the scan started (%s) after it finished (%s)",
			r.StartedOn.Format(time.RFC3339), r.FinishedOn.Format(time.RFC3339)), Err: ErrMalformed}
	}
	return r, nil
}

// markers say, for each format, which top-level fields mark a document as one of it.
var markers = map[Format]string{
	FormatGrype:  "matches",
	FormatTrivy:  "SchemaVersion",
	FormatSARIF:  "version and runs",
	FormatOSV:    "results",
	FormatInToto: "scanner, or _type and predicateType",
}

func looksLike(top node, f Format) bool {
	switch f {
	case FormatGrype:
		return top.has("matches")
	case FormatTrivy:
		return top.has("SchemaVersion")
	case FormatSARIF:
		return top.has("version") && top.has("runs")
	case FormatOSV:
		return top.has("results")
	case FormatInToto:
		return top.has("scanner") || (top.has("_type") && top.has("predicateType"))
	}
	return false
}

// detect names the one format the document looks like.
func detect(top node) (Format, error) {
	var found []Format
	for _, f := range Formats() {
		if looksLike(top, f) {
			found = append(found, f)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		var want []string
		for _, f := range Formats() {
			want = append(want, fmt.Sprintf("%s (%s)", f, markers[f]))
		}
		return "", &FormatError{Reason: "a JSON object of no known scan report format; want the fields of one of " + strings.Join(want, ", "), Err: ErrUnknownFormat}
	}
	var names []string
	for _, f := range found {
		names = append(names, string(f))
	}
	return "", &FormatError{Reason: "ambiguous: the document has the fields of " + strings.Join(names, " and ") + "; name its format", Err: ErrUnknownFormat}
}

// Validate checks that r can be written as a statement, naming the first bad field in a
// *FieldError: every finding needs an ID, and a Method with its Score, and its Severity must
// be what ParseSeverity reads from its Score (SeverityUnknown without one), for that is all a
// reader of the statement sees; times must be in the years 1 to 9999, and the scan cannot have
// started after it finished.
func (r *Report) Validate() error {
	if r.Scanner.Name == "" && r.Scanner.URI == "" {
		return &FieldError{Field: "Scanner", Reason: "needs a Name or a URI"}
	}
	for _, t := range []struct {
		field string
		at    time.Time
	}{{"StartedOn", r.StartedOn}, {"FinishedOn", r.FinishedOn}, {"Scanner.DB.Updated", r.Scanner.DB.Updated}} {
		if !t.at.IsZero() && !inYearRange(t.at) {
			return &FieldError{Field: t.field, Reason: "outside the years 1 to 9999"}
		}
	}
	if !r.StartedOn.IsZero() && !r.FinishedOn.IsZero() && r.StartedOn.After(r.FinishedOn) {
		return &FieldError{Field: "StartedOn", Reason: "after FinishedOn"}
	}
	for i, f := range r.Findings {
		at := fmt.Sprintf("Findings[%d]", i)
		switch {
		case f.ID == "":
			return &FieldError{Field: at + ".ID", Reason: "required"}
		case f.Score != "" && f.Method == "":
			return &FieldError{Field: at + ".Method", Reason: "required with a Score"}
		case f.Score == "" && f.Severity != SeverityUnknown:
			return &FieldError{Field: at + ".Severity", Reason: fmt.Sprintf("%s with no Score: a reader of the statement would see none", f.Severity)}
		case f.Score != "" && ParseSeverity(f.Score) != f.Severity:
			return &FieldError{Field: at + ".Severity", Reason: fmt.Sprintf("%s, but Score %q reads as %s", f.Severity, f.Score, ParseSeverity(f.Score))}
		}
		for j, a := range f.Aliases {
			if a == "" {
				return &FieldError{Field: fmt.Sprintf("%s.Aliases[%d]", at, j), Reason: "empty"}
			}
		}
	}
	return nil
}

// Count returns how many findings are at each severity.
func (r *Report) Count() map[Severity]int {
	out := map[Severity]int{}
	for _, f := range r.Findings {
		out[f.Severity]++
	}
	return out
}

// dedupe returns the strings of in, in order, without repeats and without any of drop.
func dedupe(in []string, drop ...string) []string {
	seen := map[string]bool{}
	for _, d := range drop {
		seen[d] = true
	}
	var out []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
