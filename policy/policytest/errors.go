package policytest

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Compare with errors.Is.
var (
	// ErrInvalidSuite means a test suite document is malformed.
	ErrInvalidSuite = errors.New("policytest: invalid suite")
	// ErrMismatch means a decision is not the one a case expects.
	ErrMismatch = errors.New("policytest: decision differs from the expectation")
)

// SuiteError says where a suite document is wrong.
type SuiteError struct {
	// Line is the line of the problem, starting at 1; 0 when unknown.
	Line int
	// Field is the path of the offending field, such as "cases[1].expect.verdict".
	Field string
	// Msg says what is wrong.
	Msg string
}

// Error implements error.
func (e *SuiteError) Error() string {
	var b strings.Builder
	b.WriteString("policytest: ")
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns ErrInvalidSuite.
func (e *SuiteError) Unwrap() error { return ErrInvalidSuite }

// MismatchError lists how a decision differs from a case's expectation.
type MismatchError struct {
	// Case is the case's name.
	Case string
	// Problems are the differences, one a line.
	Problems []string
}

// Error implements error.
func (e *MismatchError) Error() string {
	return fmt.Sprintf("policytest: case %q: %s", e.Case, strings.Join(e.Problems, "; "))
}

// Unwrap returns ErrMismatch.
func (e *MismatchError) Unwrap() error { return ErrMismatch }
