package policy

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Compare with errors.Is; the typed errors below wrap them.
var (
	// ErrInvalidPolicy means a policy document is malformed: bad syntax, an unknown field, a value
	// of the wrong type or out of range, a regular expression or CEL expression that does not
	// compile. A *LoadError carries the line and field.
	ErrInvalidPolicy = errors.New("policy: invalid policy")
	// ErrPolicyTooDeep means a policy document nests deeper than MaxPolicyDepth. Load refuses it
	// before parsing, with a *LoadError that wraps this and ErrInvalidPolicy.
	ErrPolicyTooDeep = errors.New("policy: document nests too deeply")
	// ErrUnsupportedVersion means a policy document's apiVersion or kind is not one this package reads.
	ErrUnsupportedVersion = errors.New("policy: unsupported apiVersion or kind")
	// ErrDenied means a policy denied the artifact. A *DeniedError carries the Decision.
	ErrDenied = errors.New("policy: denied")
	// ErrUnknownEnvironment means Gate was asked about an environment the policy does not define.
	ErrUnknownEnvironment = errors.New("policy: unknown environment")
	// ErrInvalidDecision means a Decision cannot be turned into a verification summary.
	ErrInvalidDecision = errors.New("policy: invalid decision")
)

// LoadError reports where a policy document is wrong.
type LoadError struct {
	// Line and Column locate the problem in the document, starting at 1; 0 when unknown.
	Line, Column int
	// Field is the path of the offending field, such as "rules[2].slsa.builders[0].versions";
	// empty for a syntax error.
	Field string
	// Msg says what is wrong.
	Msg string
	// Err is the sentinel or cause: ErrUnsupportedVersion, or an error from a parser.
	Err error
}

// Error implements error.
func (e *LoadError) Error() string {
	var b strings.Builder
	b.WriteString("policy: ")
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, ":%d", e.Column)
		}
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns ErrInvalidPolicy and, when set, the cause.
func (e *LoadError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrInvalidPolicy}
	}
	return []error{ErrInvalidPolicy, e.Err}
}

// DeniedError is the error an evaluation returns when the policy denies. Decision explains
// every rule's outcome.
type DeniedError struct {
	// Decision is the full, explained decision; its Verdict is VerdictDeny.
	Decision *Decision
}

// Error implements error, naming the subject, the environment and the first failing rules.
func (e *DeniedError) Error() string {
	d := e.Decision
	var b strings.Builder
	b.WriteString("policy: denied ")
	b.WriteString(string(d.Subject))
	if d.Environment != "" {
		b.WriteString(" for ")
		b.WriteString(d.Environment)
	}
	var why []string
	why = append(why, d.Reasons...)
	for _, r := range d.Rules {
		if r.Outcome == OutcomeFail {
			why = append(why, r.Name+": "+r.Reason)
		}
	}
	const show = 3
	if len(why) > show {
		why = append(why[:show], fmt.Sprintf("and %d more", len(why)-show))
	}
	if len(why) > 0 {
		b.WriteString(": ")
		b.WriteString(strings.Join(why, "; "))
	}
	return b.String()
}

// Unwrap returns ErrDenied.
func (e *DeniedError) Unwrap() error { return ErrDenied }
