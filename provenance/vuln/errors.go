package vuln

import (
	"errors"
	"fmt"
)

// Sentinel errors. Compare with errors.Is; the typed errors below wrap them.
var (
	// ErrUnknownFormat means a document is not a scan report of any format Parse reads: not
	// JSON, not an object, of none of the known shapes, or of more than one.
	ErrUnknownFormat = errors.New("vuln: unknown report format")
	// ErrMalformed means a document is of a known format but a field Parse reads is missing,
	// of the wrong type or out of range, or the report says the scan did not succeed.
	ErrMalformed = errors.New("vuln: malformed report")
	// ErrInvalidReport means a Report cannot be written as a statement.
	ErrInvalidReport = errors.New("vuln: invalid report")
)

// FormatError reports a document Parse rejects: where in it, and why.
type FormatError struct {
	// Format is the format the document was read as, or empty when none was recognised.
	Format Format
	// Path is the JSON path of the field at fault, such as "matches[3].vulnerability.id",
	// or empty for the document as a whole.
	Path string
	// Reason says what was found and what was expected.
	Reason string
	// Err is ErrUnknownFormat or ErrMalformed.
	Err error
}

// Error implements error.
func (e *FormatError) Error() string {
	what := "report"
	if e.Format != "" {
		what = e.Format.String() + " report"
	}
	if e.Path == "" {
		return fmt.Sprintf("vuln: %s: %s", what, e.Reason)
	}
	return fmt.Sprintf("vuln: %s: %s: %s", what, e.Path, e.Reason)
}

// Unwrap returns ErrUnknownFormat or ErrMalformed.
func (e *FormatError) Unwrap() error { return e.Err }

// FieldError names the field of a Report that Statement cannot write, and why.
type FieldError struct {
	// Field is the field's path in the Report, such as "Findings[2].ID" or "subject".
	Field string
	// Reason says what is wrong.
	Reason string
}

// Error implements error.
func (e *FieldError) Error() string {
	return fmt.Sprintf("vuln: report %s: %s", e.Field, e.Reason)
}

// Unwrap returns ErrInvalidReport.
func (e *FieldError) Unwrap() error { return ErrInvalidReport }
